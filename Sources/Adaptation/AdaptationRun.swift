import Foundation
import Networks

/// The JSON report of an adaptation run (beside the model, `.json`): the recipe and every epoch so far.
public struct AdaptationReport: Encodable {
    public var model: String, sourceModel: String, source: String, target: String, recipe: String
    public var options: AdaptationOptions
    public var selectedEpoch: Int?
    public var epochs: [AdaptationEpoch]
    /// The guard's account so far; at the end of the run, what it chose.
    public var targetGuard: GuardSummary?

    /// The report's path for a model written to `model`.
    public static func path(beside model: String) -> String {
        (model.hasSuffix(".safetensors") ? String(model.dropLast(12)) : model) + ".json"
    }

    /// Writes it atomically, keys in snake case.
    public func write(to path: String) throws(ModelError) {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // A diverged run's NaN losses are reported, as strings, rather than losing the report.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do {
            try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .unwritable(path: path, reason: "cannot write the report (\(error.localizedDescription))")
        }
    }
}

/// What an adaptation run ended with.
public struct AdaptationOutcome: Sendable {
    public var log: [AdaptationEpoch]
    /// What the guard saw and which epoch was written (0: the unadapted source model).
    public var targetGuard: GuardSummary

    /// The chosen epoch's report; nil when the source model was written.
    public var selected: AdaptationEpoch? { log.first { $0.epoch == targetGuard.selectedEpoch } }
    public var sourceValidationAccuracy: Double { selected?.sourceValidationAccuracy ?? targetGuard.sourceValidationAccuracy }
    /// Only when target labels were given for reporting.
    public var targetAccuracy: Double? {
        if let selected { return selected.targetAccuracy }
        return targetGuard.sourceTargetAccuracy
    }
}

extension Adapter {
    /// `adapt`: continues the checkpoint beside `files.model` when asked, runs the epochs left (or
    /// until `files.patience` epochs bring no better source validation score), and saves the model
    /// of the best score among the epochs the target guard lets through, with its adaptation record
    /// (where from and to, the recipe, the epoch saved and the guard's account); after every epoch a
    /// checkpoint and the JSON report. When no epoch passes the guard, the model written is the
    /// unadapted source model (epoch 0). Epochs that fail the guard, and a choice it changed, are
    /// warned of through `observer`. The model records no calibration: the source model's describes
    /// other weights. `command` is the command line to record.
    public func run(_ files: RunFiles, sourceModel: String, sourceData: String, targetData: String, command: String?,
                    observer: some TrainingObserver) throws(ModelError) -> AdaptationOutcome {
        let record = AdaptationRecord(sourceModel: sourceModel, sourceData: sourceData, targetData: targetData, epoch: 0, epochs: options.epochs,
                                      seed: options.seed, recipe: options.recipe, sourceValidationAccuracy: nil, command: command)
        let loop = TrainingLoop(self)
        try loop.resuming(files, observer: observer)
        observer.note("adapt: \(model.metadata.architecture.name), \(source.count) source clouds (+\(validation.count) validation), "
            + "\(target.count) target clouds\(targetLabels == nil ? "" : " (labels for reporting only)"); \(options.recipe)")
        let reference = guardReference()
        observer.note(String(format: "guard: the source model on the target: balance %.3f, most predicted class %.1f%%, mean confidence %.3f; "
                                 + "agreement measured on its %d most confident target clouds", reference.statistics.balance,
                             reference.statistics.topShare * 100, reference.statistics.meanConfidence, reference.confident.compactMap { $0 }.count))
        func summary() -> GuardSummary {
            let reference = guardReference()
            return GuardSummary(guard: options.targetGuard, source: reference.statistics, sourceValidationAccuracy: reference.validationAccuracy,
                                sourceTargetAccuracy: reference.targetAccuracy, log: loop.log)
        }
        func writeReport(_ guardSummary: GuardSummary) throws(ModelError) {
            try AdaptationReport(model: files.model, sourceModel: record.sourceModel, source: record.sourceData, target: record.targetData,
                                 recipe: options.recipe, options: options, selectedEpoch: guardSummary.selectedEpoch, epochs: loop.log,
                                 targetGuard: guardSummary)
                .write(to: AdaptationReport.path(beside: files.model))
        }
        try loop.run(files, observer: observer) { (report, saved: inout Model) throws(ModelError) in
            var stamped = record
            (stamped.epoch, stamped.sourceValidationAccuracy) = (report.epoch, report.sourceValidationAccuracy)
            try stamped.store(in: &saved.attachments, path: files.model)
        } afterEpoch: { () throws(ModelError) in
            if let last = loop.log.last, let check = last.targetGuard, !check.failures.isEmpty {
                observer.warning("epoch \(last.epoch) failed the target guard: \(check.failures.joined(separator: "; "))"
                    + (check.vetoed ? "; its weights will not be chosen" : " (guard off: it may still be chosen)"))
            }
            try writeReport(summary())
        }
        // The model is stamped again with the whole run's account (which later epochs failed, and why
        // an earlier one or the source was kept): the same on every resume of a finished run.
        let guardSummary = summary()
        var final = record
        final.epoch = guardSummary.selectedEpoch
        final.sourceValidationAccuracy = loop.log.first { $0.epoch == guardSummary.selectedEpoch }?.sourceValidationAccuracy
            ?? guardSummary.sourceValidationAccuracy
        final.targetGuard = guardSummary
        if guardSummary.selectedEpoch == 0 {
            try withSourceWeights { () throws(ModelError) in
                var saved = Model(metadata: model.metadata, network: model.network)
                try final.store(in: &saved.attachments, path: files.model)
                try saved.save(to: files.model)
            }
        } else {
            var saved = try Model.load(files.model)
            try final.store(in: &saved.attachments, path: files.model)
            try saved.save(to: files.model)
        }
        try writeReport(guardSummary)
        if let reason = guardSummary.reason { observer.warning("the target guard rolled the adaptation back: \(reason)") }
        if !guardSummary.enabled, !guardSummary.failed.isEmpty, guardSummary.failed.contains(guardSummary.selectedEpoch) {
            observer.warning("the guard is off and the epoch written (\(guardSummary.selectedEpoch)) failed it: the adapted model may be worse on the target than the source")
        }
        return AdaptationOutcome(log: loop.log, targetGuard: guardSummary)
    }
}
