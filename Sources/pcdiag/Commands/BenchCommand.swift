import ArgumentParser
import Foundation
import PointClouds

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure loading speed on a data set (medians over repeats).",
        discussion: """
            Three measurements over the same files, each repeated: reading the files' bytes only (the
            file system's ceiling), loading them through PCL into point clouds, and loading plus the
            standard preprocessing (NaN removal, normalisation, 1024 points). Figures are clouds per
            second, medians; 'vs_read' is the ratio to the bytes-only read of the same run.
            """)

    @Option(help: "Data set: a class-folder tree, a CSV manifest, or a folder of clouds.")
    var data: String = "../shared/data/modelnet40/test"

    @Option(help: "Repeats of each measurement; the median is reported.")
    var `repeat` = 5

    @Option(help: "Worker threads (default: all cores).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Output format.")
    var format: OutputFormat = .table

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard self.repeat >= 1 else { throw ValidationError("--repeat must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let paths = data.lowercased().hasSuffix(".csv") ? try LabelledSet(at: data).samples.map(\.path)
                                                        : try CloudPaths.expand([data])
        guard !paths.isEmpty else { throw CommandFailure(status: .badInput, message: "\(data): no clouds to load") }
        global.console.info("bench: \(paths.count) clouds from \(data), \(threads) threads, \(self.repeat) repeats")

        let readBytes = median(times { _ = Self.readAll(paths, threads: threads) })
        let load = median(times { _ = CloudLoader(threads: threads).load(paths) })
        let prepare = median(times { _ = CloudLoader(preprocessing: .standard(), threads: threads).load(paths) })

        let printer = RecordPrinter(format: format, columns: [
            .init(key: "measurement", title: "MEASUREMENT"), .init(key: "clouds_per_s", title: "CLOUDS/S"),
            .init(key: "vs_read", title: "VS READ"),
        ])
        for (name, seconds) in [("read bytes", readBytes), ("load (PCL)", load), ("load + preprocess", prepare)] {
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
