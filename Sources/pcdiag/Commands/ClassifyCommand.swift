import ArgumentParser
import Foundation
import Networks
import PointClouds

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify point clouds with a trained model.",
        discussion: """
            Each input is prepared as the model was trained (the preprocessing stored in the model file) \
            unless --no-preprocess is given, then classified in inference mode. With --format json: one \
            object for a single file (path, class, probability, top, logits), an array for several.
            """)

    @Argument(help: "Point cloud files (.pcd, .ply), folders, globs or @list files.")
    var inputs: [String]

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "How many of the most probable classes to list.")
    var top = 3

    @Flag(name: .customLong("no-preprocess"), help: "Feed the points as stored (no NaN removal, normalisation or resampling).")
    var noPreprocess = false

    @Option(name: .customLong("batch-size"), help: "Clouds per forward pass.")
    var batchSize = 16

    @Option(help: "Output format: table, json, jsonl or csv.")
    var format: OutputFormat = .table

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        let console = global.console
        let model = try modelOptions.load()
        let paths = try CloudPaths.expand(inputs)
        let classes = model.metadata.classes
        let printer = RecordPrinter(format: format, columns: [
            .init(key: "path", title: "FILE"), .init(key: "class", title: "CLASS"),
            .init(key: "probability", title: "PROB"), .init(key: "top_text", title: "TOP"),
        ], single: paths.count == 1)
        let outcome = BatchOutcome(total: paths.count)
        let progress = console.progress(total: paths.count, label: "classify")
        // Files are read and classified a batch at a time, so memory stays flat however many there are.
        for start in stride(from: 0, to: paths.count, by: batchSize) {
            let chunk = Array(paths[start ..< min(start + batchSize, paths.count)])
            var ready = [(path: String, cloud: PointCloud, points: Int)]()
            for path in chunk {
                if let (cloud, finite) = Self.read(path, for: model, raw: noPreprocess, console: console, progress: progress, outcome: outcome) {
                    ready.append((path, cloud, finite))
                }
            }
            for (item, prediction) in zip(ready, model.predict(ready.map(\.cloud), batchSize: batchSize)) {
                var r = Record()
                r["path"] = .string(item.path)
                r["points"] = .int(item.points)
                r["class"] = .string(classes[prediction.label])
                r["probability"] = .float(prediction.probabilities[prediction.label])
                let best = prediction.top(min(top, classes.count))
                r["top"] = .array(best.map { i in .object(Record(fields: [("class", .string(classes[i])), ("probability", .float(prediction.probabilities[i]))])) })
                if format == .table || format == .csv {
                    r["top_text"] = .string(best.map { String(format: "%@ %.3f", classes[$0], prediction.probabilities[$0]) }.joined(separator: ", "))
                }
                if format != .table && format != .csv { r["logits"] = .array(prediction.logits.map(Value.float)) }
                printer.emit(r)
            }
            progress?.advance(by: chunk.count)
        }
        progress?.finish()
        printer.finish()
        try outcome.conclude()
    }

    /// Reads one input and prepares it for `model` (or, `raw`, checks it can go in as stored), with its
    /// count of finite points; a failure is reported in one line and counted, and gives nil.
    static func read(_ path: String, for model: Model, raw: Bool, console: Console, progress: ProgressBar?,
                     outcome: BatchOutcome) -> (cloud: PointCloud, finite: Int)? {
        do {
            let cloud = try PointCloud(contentsOf: path)
            return (raw ? try checkedRaw(cloud, path: path) : try model.prepare(cloud, path: path), cloud.finiteCount)
        } catch {
            progress?.finish()
            console.error(error.description)
            outcome.failed(ExitStatus.status(for: error))
            return nil
        }
    }

    /// Without preprocessing the points go in as they are; non-finite ones would poison the max pool.
    static func checkedRaw(_ cloud: PointCloud, path: String) throws(PointCloudError) -> PointCloud {
        guard cloud.finiteCount == cloud.count else {
            throw .invalid(path: path, reason: "\(cloud.count - cloud.finiteCount) points are NaN or infinite (drop --no-preprocess)")
        }
        return cloud
    }
}
