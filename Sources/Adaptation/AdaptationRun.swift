import Foundation
import Networks

/// The JSON report of an adaptation run (beside the model, `.json`): the recipe and every epoch so far.
public struct AdaptationReport: Encodable {
    public var model: String, sourceModel: String, source: String, target: String, recipe: String
    public var options: AdaptationOptions
    public var selectedEpoch: Int?
    public var epochs: [AdaptationEpoch]

    /// The report's path for a model written to `model`.
    public static func path(beside model: String) -> String {
        (model.hasSuffix(".safetensors") ? String(model.dropLast(12)) : model) + ".json"
    }

    /// Writes it atomically, keys in snake case.
    public func write(to path: String) throws(ModelError) {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .unwritable(path: path, reason: "cannot write the report (\(error.localizedDescription))")
        }
    }
}

extension Adapter {
    /// `adapt`: continues the checkpoint beside `files.model` when asked, runs the epochs left (or
    /// until `files.patience` epochs bring no better source validation score), and saves the model
    /// of the best score with its adaptation record (where from and to, the recipe, and the epoch
    /// saved); after every epoch a checkpoint and the JSON report. The model records no calibration:
    /// the source model's describes other weights. `command` is the command line to record.
    public func run(_ files: RunFiles, sourceModel: String, sourceData: String, targetData: String, command: String?,
                    observer: some TrainingObserver) throws(ModelError) -> TrainingResult<AdaptationEpoch> {
        let record = AdaptationRecord(sourceModel: sourceModel, sourceData: sourceData, targetData: targetData, epoch: 0, epochs: options.epochs,
                                      seed: options.seed, recipe: options.recipe, sourceValidationAccuracy: nil, command: command)
        let loop = TrainingLoop(self)
        try loop.resuming(files, observer: observer)
        observer.note("adapt: \(model.metadata.architecture.name), \(source.count) source clouds (+\(validation.count) validation), "
            + "\(target.count) target clouds\(targetLabels == nil ? "" : " (labels for reporting only)"); \(options.recipe)")
        try loop.run(files, observer: observer) { (report, saved: inout Model) throws(ModelError) in
            var stamped = record
            (stamped.epoch, stamped.sourceValidationAccuracy) = (report.epoch, report.sourceValidationAccuracy)
            try stamped.store(in: &saved.attachments, path: files.model)
        } afterEpoch: { () throws(ModelError) in
            try AdaptationReport(model: files.model, sourceModel: record.sourceModel, source: record.sourceData, target: record.targetData,
                                 recipe: options.recipe, options: options, selectedEpoch: loop.best?.epoch, epochs: loop.log)
                .write(to: AdaptationReport.path(beside: files.model))
        }
        return TrainingResult(log: loop.log)
    }
}
