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
            on one fixed simulated view of each validation cloud); target labels are never used to train or choose — \
            --target-labels reads them from the target's class folders for reporting only. Each epoch is \
            logged on stderr; the JSON report (-o path with .json) holds every epoch's losses, gate \
            statistics and the probe batch's gradient agreement. A checkpoint (-o path + .ckpt) is written \
            atomically after every epoch; --resume continues from it. The adapted model records its \
            provenance and drops the source model's calibration: run 'pcdiag calibrate' on it.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Labelled source set (class folders or CSV manifest), the data the model was trained on.")
    var source: String

    @Option(help: "Unlabelled target clouds: files, folders, globs or @lists (class folders with --target-labels).")
    var target: [String]

    @Option(name: .short, help: ArgumentHelp("Output model file (.safetensors).", valueName: "model"))
    var output: String

    @Option(name: .customLong("source-val"), help: "Source validation set for model selection.")
    var sourceVal: String?

    @Option(name: .customLong("val-fraction"), help: "Share of --source held out for validation when --source-val is not given.")
    var valFraction = 0.1

    @OptionGroup var recipe: AdaptRecipeOptions
    @Flag(help: "Continue from the checkpoint beside -o.") var resume = false
    @Flag(help: "Overwrite an existing output model.") var force = false
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard recipe.epochs >= 1, recipe.batchSize >= 2, recipe.lr > 0, (0 ..< 1).contains(valFraction) || sourceVal != nil else {
            throw ValidationError("--epochs ≥ 1, --batch-size ≥ 2, --lr > 0 and 0 ≤ --val-fraction < 1 are required")
        }
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
        var (sourceSet, _) = try LabelledData.load(source, for: model, console: console)
        sourceSet = subset(sourceSet)
        let validation: PreparedSet
        if let sourceVal {
            validation = try LabelledData.load(sourceVal, for: model, console: console).set
        } else {
            (sourceSet, validation) = sourceSet.split(holdingOut: valFraction, seed: recipe.seed)
        }
        let (targetSet, truth) = try loadTarget(model, console)
        guard sourceSet.count >= recipe.batchSize, targetSet.count >= 1, validation.count >= 1 else {
            throw CommandFailure(status: .badInput, message: "\(source): \(sourceSet.count) source clouds for training, fewer than one batch of \(recipe.batchSize)")
        }
        // A resumed run is the same run: its model records the command without --resume.
        let command = (["pcdiag"] + CommandLine.arguments.dropFirst().filter { $0 != "--resume" }).joined(separator: " ")
        let record = AdaptationRecord(sourceModel: sourceModelPath, sourceData: source, targetData: target.joined(separator: " "), epoch: 0,
                                      epochs: recipe.epochs, seed: recipe.seed, recipe: options.recipe, sourceValidationAccuracy: nil, command: command)
        let result = try Adapter(model: model, options: options, source: sourceSet, validation: validation, target: targetSet, targetLabels: truth)
            .run(files, record: record, observer: ConsoleTrainingObserver(console))
        var r = Record()
        r["model"] = .string(output)
        r["report"] = .string(AdaptationReport.path(beside: output))
        r["epoch"] = result.best.map { .int($0.epoch) } ?? .null
        r["source_validation_accuracy"] = result.best.map { .double($0.sourceValidationAccuracy) } ?? .null
        r["target_accuracy"] = result.best?.targetAccuracy.map(Value.double) ?? .null
        RecordPrinter(format: .jsonl, columns: []).emit(r)
        console.warning("\(output) is not calibrated for diagnostics: run 'pcdiag calibrate --model \(output) --data \(source) -o \(output) --force'")
    }

    func subset(_ set: PreparedSet) -> PreparedSet {
        guard let limit = recipe.limit, set.count > limit else { return set }
        var generator = SeededGenerator(seed: recipe.seed)
        return set.subset(randomSubset(limit, of: set.count, using: &generator).sorted())
    }

    /// The target clouds, and their labels in the model's class order when asked for (reporting only).
    func loadTarget(_ model: Model, _ console: Console) throws -> (PreparedSet, [Int]?) {
        if recipe.targetLabels {
            guard target.count == 1 else { throw CommandFailure(status: .usage, message: "--target-labels needs one class-folder --target") }
            let set = subset(try LabelledData.load(target[0], for: model, console: console).set)
            return (set, set.labels)
        }
        let paths = try CloudPaths.expand(target)
        let (set, failures) = try PreparedSet.load(LabelledSet(unlabelled: paths), preprocessing: model.metadata.preprocessing)
        for f in failures { console.warning("skipped \(f)") }
        guard set.count > 0 else { throw CommandFailure(status: .badInput, message: "\(target.joined(separator: " ")): no usable target clouds") }
        return (subset(set), nil)
    }
}
