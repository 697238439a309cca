import ArgumentParser
import Foundation
import Output
import Networks
import PointClouds

extension TrainingOptions.OptimizerKind: ExpressibleByArgument {}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a PointNet or DGCNN classifier on a labelled set.",
        discussion: """
            Data: a class-folder tree (root/<class>/*.pcd|ply) or a CSV manifest (path,label). Every cloud \
            goes through the standard preprocessing (NaN removal, unit sphere, --points points), stored in \
            the model. Each epoch is logged on stderr; the model with the best validation accuracy is \
            written to -o (the last one when there is no --val). A checkpoint (-o path + .ckpt) is written \
            atomically after every epoch; --resume continues from it.
            """)

    @Option(help: "Training set: class folders or a CSV manifest.") var data: String
    @Option(help: "Validation set, for model selection.") var val: String?
    @Option(help: "Network: pointnet or dgcnn (k = 20).") var arch: String = "pointnet"
    @Option(name: .short, help: ArgumentHelp("Output model file (.safetensors).", valueName: "model")) var output: String
    @OptionGroup var optimisation: OptimisationOptions<TrainingOptions>
    @Option(help: "Optimiser: adam, adamw or sgd.") var optimizer = TrainingOptions.OptimizerKind.adam
    @Option(help: "Points per cloud.") var points = 1024
    @Flag(name: .customLong("no-augment"), help: "Train without augmentation.") var noAugment = false
    @Flag(help: "Also augment with random rotations about the up (z) axis.") var rotate = false
    @Flag(help: "Continue from the checkpoint beside -o.") var resume = false
    @Flag(help: "Overwrite an existing output model.") var force = false
    @OptionGroup var reading: ReadingOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard ["pointnet", "dgcnn"].contains(arch) else { throw ValidationError("--arch must be pointnet or dgcnn") }
        guard points >= 16 else { throw ValidationError("--points must be at least 16") }
    }

    func run() throws {
        let console = global.console
        let files = RunFiles(model: output, resume: resume)
        // --resume continues a checkpoint; without one it must not replace what is there.
        let continuing = resume && FileManager.default.fileExists(atPath: files.checkpoint)
        try CommandFailure.checkOutputs([output], force: force || continuing, resumable: true)
        var options = optimisation.recipe
        options.optimizer = optimizer
        let preprocessing = Preprocessing.standard(points: points, seed: options.seed)
        let train = try LabelledData.load(data, preprocessing: preprocessing, reading: reading.options, console: console).set
        guard train.count >= 2 else { throw CommandFailure(status: .badInput, message: "\(data): fewer than two usable clouds") }
        let validation = try val.map { try LabelledData.load($0, preprocessing: preprocessing, reading: reading.options, console: console).set }
        if let validation, validation.classes != train.classes {
            throw CommandFailure(status: .badInput, message: "\(val!): its classes differ from the training set's")
        }
        options.augmentation = noAugment ? .none : Augmentation(rotateUp: rotate)
        let architecture: Architecture = arch == "dgcnn" ? .dgcnn(classes: train.classes.count) : .pointnet(classes: train.classes.count)
        let model = Model(metadata: ModelMetadata(architecture: architecture, classes: train.classes, preprocessing: preprocessing), seed: options.seed)
        let record = TrainingRecord(data: data, validation: val, epochs: 0, seed: options.seed, recipe: options.recipe, command: GlobalOptions.commandWithoutResume)
        let result = try Trainer(model: model, options: options, data: train, validation: validation)
            .run(files, record: record, observer: ConsoleTrainingObserver(console))
        let printer = RecordPrinter(format: global.format, columns: [
            .init(key: "model", title: "MODEL"), .init(key: "epochs", title: "EPOCHS"), .init(key: "best_validation_accuracy", title: "BEST VAL"),
        ], single: true)
        printer.emit(Record(fields: [
            ("model", .string(output)), ("epochs", .int(result.log.count)),
            ("best_validation_accuracy", result.best?.validationAccuracy.map(Value.double) ?? .null),
        ]))
        printer.finish()
    }
}
