import ArgumentParser
import Diagnostics
import Foundation
import Output
import Networks
import PointClouds

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify point clouds with a trained model.",
        discussion: """
            Each input is prepared as the model was trained (the preprocessing stored in the model file) \
            unless --no-preprocess is given, then classified in inference mode and diagnosed: the saliency \
            map's skewness and the other indicators (see pcdiag batch --help), and, when the model is \
            calibrated (pcdiag calibrate), the fragility score, whether the prediction is fragile and why. \
            With --format json: one object for a single file (path, points, class, probability, every \
            indicator, fragility, fragile, reasons, top, logits), an array for several.
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

    @Flag(name: .customLong("no-diagnostics"), help: "Class and probabilities only: no saliency, indicators or fragility (faster).")
    var noDiagnostics = false

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
        var diagnostician = noDiagnostics ? nil : try modelOptions.diagnostician(for: model)
        diagnostician?.options.batchSize = batchSize
        if let d = diagnostician, d.calibration == nil {
            console.warning("the model is not calibrated: no fragility score (pcdiag calibrate)")
        }
        let paths = try CloudPaths.expand(inputs)
        let classes = model.metadata.classes
        let printer = RecordPrinter(format: format, columns: noDiagnostics ? [
            .init(key: "path", title: "FILE"), .init(key: "class", title: "CLASS"),
            .init(key: "probability", title: "PROB"), .init(key: "top_text", title: "TOP"),
        ] : DiagnosisRecord.columns, single: paths.count == 1)
        let structured = format != .table && format != .csv
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
            if let diagnostician {
                for (item, result) in zip(ready, diagnostician.examine(ready.map(\.cloud))) {
                    printer.emit(DiagnosisRecord.make(path: item.path, points: item.points, diagnosis: result.diagnosis, assessment: result.assessment,
                                                      classes: classes, top: structured ? top : nil, logits: structured))
                }
                progress.advance(by: chunk.count)
                continue
            }
            for (item, prediction) in zip(ready, model.predict(ready.map(\.cloud), batchSize: batchSize)) {
                var r = Record()
                r["path"] = .string(item.path)
                r["points"] = .int(item.points)
                r["class"] = .string(classes[prediction.label])
                r["probability"] = .float(prediction.probabilities[prediction.label])
                let best = prediction.top(min(top, classes.count))
                r["top"] = .array(best.map { i in .object(Record(fields: [("class", .string(classes[i])), ("probability", .float(prediction.probabilities[i]))])) })
                if !structured {
                    r["top_text"] = .string(best.map { String(format: "%@ %.3f", classes[$0], prediction.probabilities[$0]) }.joined(separator: ", "))
                }
                if structured { r["logits"] = .array(prediction.logits.map(Value.float)) }
                printer.emit(r)
            }
            progress.advance(by: chunk.count)
        }
        progress.finish()
        printer.finish()
        try outcome.conclude()
    }

    /// Reads one input and prepares it for `model` (see `prepareInput`); a failure is reported in one
    /// line and counted, and gives nil.
    static func read(_ path: String, for model: Model, raw: Bool, console: Console, progress: ProgressMeter,
                     outcome: BatchOutcome) -> (cloud: PointCloud, finite: Int)? {
        do {
            return try prepareInput(path, for: model.metadata, raw: raw)
        } catch {
            progress.finish()
            console.error(error.description)
            outcome.failed(ExitStatus.status(for: error))
            return nil
        }
    }

    /// One input prepared for a model (or, `raw`, checked to go in as stored), with its count of
    /// finite points.
    static func prepareInput(_ path: String, for metadata: ModelMetadata, raw: Bool) throws(PointCloudError) -> (cloud: PointCloud, finite: Int) {
        let cloud = try PointCloud(contentsOf: path)
        let prepared = raw ? try checkedRaw(cloud, path: path) : try metadata.preprocessing.apply(to: cloud, path: path).cloud
        let needed = metadata.architecture.minimumPoints
        guard prepared.count >= needed else {
            throw .invalid(path: path, reason: "\(prepared.count) points; \(metadata.architecture.name) needs at least \(needed)")
        }
        return (prepared, cloud.finiteCount)
    }

    /// Without preprocessing the points go in as they are; non-finite ones would poison the max pool.
    static func checkedRaw(_ cloud: PointCloud, path: String) throws(PointCloudError) -> PointCloud {
        guard cloud.finiteCount == cloud.count else {
            throw .invalid(path: path, reason: "\(cloud.count - cloud.finiteCount) points are NaN or infinite (drop --no-preprocess)")
        }
        return cloud
    }
}
