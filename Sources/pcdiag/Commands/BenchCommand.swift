import ArgumentParser
import Foundation
import Output
import Networks
import PointClouds

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure loading and network speed (medians over repeats).",
        discussion: """
            Loading (--only load): reading the files' bytes only (the file system's ceiling), loading them \
            through PCL into point clouds, and loading plus the standard preprocessing; clouds per second, \
            with 'vs_read' the ratio to the bytes-only read of the same run. Networks (--only models): on \
            random 1024-point clouds, inference at batch 16 (inference_clouds_per_s), one cloud \
            (latency_ms), forward + input gradient at batch 16 (saliency_clouds_per_s), an Adam training \
            step at batch 16 (train_clouds_per_s); and, each in a fresh process, the peak resident memory \
            of 'pcdiag classify' on one cloud (classify_peak_mb) and of 'pcdiag train' for two steps \
            at batch 16 (train_peak_mb); peak_rss_mb is the larger of the two. The GEMM limit: the forward \
            pass's FLOPs per cloud (forward_gflop_per_cloud: convolutions, linear layers, DGCNN's \
            distance GEMMs) at the rate dnnl_sgemm reaches in the same run on the network's widest \
            layer (gemm_gflops) — inference cannot beat it; saliency and training, with 2x and 3x the \
            forward's work in the dense formulation, have a half and a third of it as theirs.
            """)

    @Option(help: "Data set: a class-folder tree, a CSV manifest, or a folder of clouds.")
    var data: String = "../shared/data/modelnet40/test"

    @Option(help: "Repeats of each measurement; the median is reported.")
    var `repeat` = 5

    @Option(help: "Worker threads (default: all cores).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Run only one part: load, models, or one model (pointnet, dgcnn).")
    var only: String?

    @Option(help: "Output format.")
    var format: OutputFormat = .table

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard self.repeat >= 1 else { throw ValidationError("--repeat must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        if let only, !["load", "models", "pointnet", "dgcnn"].contains(only) {
            throw ValidationError("--only takes load, models, pointnet or dgcnn")
        }
    }

    func run() throws {
        if only == nil || only == "load" { try runLoading() }
        if only != "load" { try runModels() }
    }

    func runModels() throws {
        let printer = RecordPrinter(format: format, columns: [
            .init(key: "model", title: "MODEL"), .init(key: "inference_clouds_per_s", title: "INFER/S"),
            .init(key: "latency_ms", title: "LATENCY MS"), .init(key: "saliency_clouds_per_s", title: "SALIENCY/S"),
            .init(key: "train_clouds_per_s", title: "TRAIN/S"), .init(key: "gemm_limit_clouds_per_s", title: "GEMM LIMIT/S"),
            .init(key: "classify_peak_mb", title: "CLASSIFY MB"),
            .init(key: "train_peak_mb", title: "TRAIN MB"),
        ])
        let all = [Architecture.pointnet(classes: 10), .dgcnn(classes: 10)]
        for architecture in all where only == nil || only == "models" || only == architecture.name {
            global.console.info("bench: \(architecture.name), 1024 points, batch 16, \(self.repeat) repeats")
            let result = NetworkBenchmark(repeats: self.repeat).run(architecture)
            var r = Record()
            r["model"] = .string(architecture.name)
            r["inference_clouds_per_s"] = .double((result.inferenceCloudsPerSecond * 10).rounded() / 10)
            r["latency_ms"] = .double((result.latencyMilliseconds * 100).rounded() / 100)
            r["saliency_clouds_per_s"] = .double((result.saliencyCloudsPerSecond * 10).rounded() / 10)
            r["train_clouds_per_s"] = .double((result.trainCloudsPerSecond * 10).rounded() / 10)
            r["gemm_gflops"] = .double(result.gemmGFLOPs.rounded())
            r["gemm_limit_clouds_per_s"] = .double(result.gemmLimitCloudsPerSecond.rounded())
            r["forward_gflop_per_cloud"] = .double((architecture.forwardFLOPs(points: 1024) / 1e6).rounded() / 1e3)
            let memory = try PeakMemory(architecture: architecture).measure()
            r["classify_peak_mb"] = .int(memory.classifyMegabytes)
            r["train_peak_mb"] = .int(memory.trainMegabytes)
            r["peak_rss_mb"] = .int(max(memory.classifyMegabytes, memory.trainMegabytes))
            printer.emit(r)
        }
        printer.finish()
    }

    func runLoading() throws {
        let paths = data.lowercased().hasSuffix(".csv") ? try LabelledSet(at: data).samples.map(\.path)
                                                        : try CloudPaths.expand([data])
        guard !paths.isEmpty else { throw CommandFailure(status: .badInput, message: "\(data): no clouds to load") }
        global.console.info("bench: \(paths.count) clouds from \(data), \(threads) threads, \(self.repeat) repeats")

        let readBytes = median(times { _ = Self.readAll(paths, threads: threads) })
        let load = median(times { _ = CloudLoader(threads: threads).load(paths) })
        let prepare = median(times { _ = CloudLoader(preprocessing: .standard(), threads: threads).load(paths) })
        let floor = Preprocessing.standard().adding(FloorRemoval().step)
        let prepareScans = median(times { _ = CloudLoader(preprocessing: floor, threads: threads).load(paths) })

        let printer = RecordPrinter(format: format, columns: [
            .init(key: "measurement", title: "MEASUREMENT"), .init(key: "clouds_per_s", title: "CLOUDS/S"),
            .init(key: "vs_read", title: "VS READ"),
        ])
        for (name, seconds) in [("read bytes", readBytes), ("load (PCL)", load), ("load + preprocess", prepare),
                                ("load + preprocess with floor removal", prepareScans)] {
            var r = Record()
            r["measurement"] = .string(name)
            r["clouds"] = .int(paths.count)
            r["median_s"] = .double(seconds)
            r["clouds_per_s"] = .double((Double(paths.count) / seconds).rounded())
            r["vs_read"] = .double((readBytes / seconds * 1000).rounded() / 1000)
            r["threads"] = .int(threads)
            printer.emit(r)
        }
        printer.finish()
    }

    private func times(_ body: () -> Void) -> [Double] {
        (0 ..< self.repeat).map { _ in
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
    }

    private func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    private static func readAll(_ paths: [String], threads: Int) -> Int {
        let total = Atomic(0)
        DispatchQueue.concurrentPerform(iterations: threads) { w in
            var bytes = 0
            for i in stride(from: w, to: paths.count, by: threads) {
                bytes += (try? Data(contentsOf: URL(fileURLWithPath: paths[i])))?.count ?? 0
            }
            total.add(bytes)
        }
        return total.value
    }
}

/// A counter shared by worker threads.
private final class Atomic: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Int
    init(_ value: Int) { stored = value }
    func add(_ n: Int) { lock.lock(); stored += n; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return stored }
}
