import Foundation
import ArgumentParser
import Benchmarks
import Output
import Networks
import Support

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure loading and network speed (medians over repeats).",
        discussion: """
            Loading (with --data): reading the files' bytes only (the file system's ceiling), loading them \
            through PCL into point clouds, and loading plus the standard preprocessing; clouds per second, \
            with 'vs_read' the ratio to the bytes-only read of the same run. Without --data, loading is not \
            measured. Formats (--only formats, with --data): the same clouds' points written in every \
            format pcdiag reads (meshes as vertices), then read back; clouds per second, with 'vs_pcd' \
            the ratio to binary PCD in the same run. Networks (--only models): on \
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

    @Option(help: "Data set to time loading on: a class-folder tree, a CSV manifest, or a folder of clouds.") var data: String?
    @Option(help: "Repeats of each measurement; the median is reported.")
    var `repeat` = 5
    @Option(help: ArgumentHelp("Worker threads for loading (default: all cores).", valueName: "n")) var threads: Int?
    @Option(help: "Run only one part: load, formats (reading speed of each file format; not run otherwise), models, or one model (pointnet, dgcnn).")
    var only: String?

    @OptionGroup var reading: ReadingOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard self.repeat >= 1 else { throw ValidationError("--repeat must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let only, !["load", "formats", "models", "pointnet", "dgcnn"].contains(only) {
            throw ValidationError("--only takes load, formats, models, pointnet or dgcnn")
        }
        if let only, ["load", "formats"].contains(only), data == nil { throw ValidationError("--only \(only) needs --data DIR, the clouds to load") }
    }

    func run() throws {
        if only == "formats", let data { return try runFormats(data) }
        if only == nil || only == "load" {
            if let data {
                try runLoading(data)
            } else {
                global.console.info("bench: loading not measured; give --data DIR (a folder of clouds or a CSV manifest) to measure it")
            }
        }
        if only != "load" { try runModels() }
    }

    func runFormats(_ data: String) throws {
        let benchmark = LoadingBenchmark(threads: threads ?? Parallelism.workers, repeats: self.repeat, reading: reading.options)
        let paths = try benchmark.paths(in: data)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("pcdiag-bench-formats-\(getpid())").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        global.console.info("bench: \(paths.count) clouds from \(data) in \(LoadingBenchmark.formats.count) formats, \(benchmark.threads) threads, \(self.repeat) repeats")
        let printer = RecordPrinter(format: global.format, columns: LoadingBenchmark.formatColumns)
        benchmark.formatRecords(try benchmark.readingFormats(paths, scratch: scratch)).forEach(printer.emit)
        printer.finish()
    }

    func runModels() throws {
        let printer = RecordPrinter(format: global.format, columns: NetworkBenchmark.Result.columns)
        for architecture in [Architecture.pointnet(classes: 10), .dgcnn(classes: 10)] where only == nil || only == "models" || only == architecture.name {
            global.console.info("bench: \(architecture.name), 1024 points, batch 16, \(self.repeat) repeats")
            printer.emit(try NetworkBenchmark(repeats: self.repeat).run(architecture, peakMemory: true).record(architecture))
        }
        printer.finish()
    }

    func runLoading(_ data: String) throws {
        let benchmark = LoadingBenchmark(threads: threads ?? Parallelism.workers, repeats: self.repeat, reading: reading.options)
        let paths = try benchmark.paths(in: data)
        global.console.info("bench: \(paths.count) clouds from \(data), \(benchmark.threads) threads, \(self.repeat) repeats")
        let printer = RecordPrinter(format: global.format, columns: LoadingBenchmark.columns)
        benchmark.records(benchmark.run(paths)).forEach(printer.emit)
        printer.finish()
    }
}
