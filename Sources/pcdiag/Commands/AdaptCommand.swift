import Adaptation
import ArgumentParser
import Foundation
import Output
import Networks
import PointClouds
import Support

struct AdaptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapt",
        abstract: "Adapt a trained model to a new sensor from unlabelled scans (multi-task UDA with the SM-DSB gate).",
        discussion: """
            Starts from --model and trains on labelled --source clouds (classification, PCM mixup; with \
            --simulate-views P each source cloud is first, with probability P, replaced by the side of it a \
            sensor sees from a random viewpoint, prepared as a scan) plus self-supervised tasks on unlabelled --target clouds: DefRec region reconstruction and 4-way \
            rotation prediction. The SM-DSB gate measures each target sample's saliency-map skewness with \
            the current network (predicted class, inference-mode BatchNorm) and keeps the self-supervised \
            loss only for the lowest --keep-ratio share (--gate random keeps a random share of the same \
            size, --gate none keeps all); the classification loss is never gated. --self-training-from E \
            adds pseudo-labels from epoch E on: the most confident --pseudo-share of the target clouds \
            predicted as each class. BatchNorm keeps the source model's statistics in every pass \
            (--batch-statistics: each batch's own, as DefRec's reference code).

            The model is chosen on source validation accuracy (--source-val, else a seeded stratified \
            --val-fraction of --source held out; with --simulate-views, the mean of that and the accuracy \
            on one fixed simulated view of each validation cloud) among the epochs the target guard lets \
            through; target labels are never used to train or choose — \
            --target-labels reads them from the target's class folders for reporting only.

            The target guard (--guard on, the default) watches what source validation cannot see: after \
            every epoch it compares the model's predictions on the target clouds with the source model's \
            on the same clouds, without labels. An epoch fails when it agrees with the source model on \
            less than --guard-agreement of the target clouds the source model is most confident about (the \
            most confident --guard-confident-share of each predicted class), or when the balance of its \
            predicted classes (normalised entropy of their shares over the target) falls more than \
            --guard-balance-drop below the source model's: the answers collapsing onto fewer classes. A \
            failed epoch is warned of on stderr and never chosen; when no epoch passes, the model written \
            is the unadapted source model (epoch 0), with a warning that says why. The figures of every \
            epoch, the failed epochs and the reason are in the JSON report and the model's adaptation \
            record ('pcdiag info'). --guard off reports the same figures but lets every epoch be chosen. Each epoch is \
            logged on stderr; the JSON report (-o path with .json) holds every epoch's losses, gate \
            statistics and the probe batch's gradient agreement. A checkpoint (-o path + .ckpt) is written \
            atomically after every epoch; --resume continues from it. The adapted model records its \
            provenance and drops the source model's calibration: run 'pcdiag calibrate' on it.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Labelled source set (class folders or CSV manifest), the data the model was trained on.") var source: String
    @Option(help: "Unlabelled target clouds: files, folders, globs or @lists (class folders with --target-labels).") var target: [String]
    @Option(name: .short, help: ArgumentHelp("Output model file (.safetensors).", valueName: "model")) var output: String
    @Option(name: .customLong("source-val"), help: "Source validation set for model selection.") var sourceVal: String?
    @Option(name: .customLong("val-fraction"), help: "Share of --source held out for validation when --source-val is not given.") var valFraction = 0.1
    @OptionGroup var recipe: AdaptRecipeOptions
    @Flag(help: "Continue from the checkpoint beside -o.") var resume = false
    @Flag(help: "Overwrite an existing output model.") var force = false
    @OptionGroup var reading: ReadingOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (0 ..< 1).contains(valFraction) || sourceVal != nil else { throw ValidationError("--val-fraction must be in [0, 1)") }
    }

    func run() throws {
        let console = global.console
        let files = RunFiles(model: output, resume: resume, patience: recipe.patience)
        // --resume continues a checkpoint; without one it must not replace what is there.
        let continuing = resume && FileManager.default.fileExists(atPath: files.checkpoint)
        try CommandFailure.checkOutputs([output, AdaptationReport.path(beside: output)], force: force || continuing, resumable: true)
        let sourceModelPath = try modelOptions.resolvedPath()
        let model = try modelOptions.load()
        let options = try recipe.options
        let data = try AdaptationData(source: source, sourceValidation: sourceVal, validationFraction: valFraction, target: target,
                                      targetLabels: recipe.targetLabels, limit: recipe.limit, seed: options.seed, batchSize: options.batchSize,
                                      for: model, reading: reading.options, console: console)
        let result = try Adapter(model: model, options: options, source: data.source, validation: data.validation, target: data.target,
                                 targetLabels: data.targetLabels)
            .run(files, sourceModel: sourceModelPath, sourceData: source, targetData: target.joined(separator: " "),
                 command: GlobalOptions.commandWithoutResume, observer: ConsoleTrainingObserver(console))
        let printer = RecordPrinter(format: global.format, columns: [
            .init(key: "model", title: "MODEL"), .init(key: "epoch", title: "EPOCH"),
            .init(key: "source_validation_accuracy", title: "SOURCE VAL"), .init(key: "target_accuracy", title: "TARGET"),
        ], single: true)
        printer.emit(Record(fields: [
            ("model", .string(output)), ("report", .string(AdaptationReport.path(beside: output))), ("epoch", .int(result.targetGuard.selectedEpoch)),
            ("source_validation_accuracy", .double(result.sourceValidationAccuracy)),
            ("target_accuracy", result.targetAccuracy.map(Value.double) ?? .null),
            ("guard_failed_epochs", .array(result.targetGuard.failed.map(Value.int))), ("rolled_back", .bool(result.targetGuard.rolledBack)),
        ]))
        printer.finish()
        console.warning("\(output) is not calibrated for diagnostics: run 'pcdiag calibrate --model \(output) --data \(source) -o \(output) --force'")
    }
}
