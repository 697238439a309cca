import ArgumentParser
import Output
import Networks

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Accuracy of a model on a labelled set: overall, mean over classes, per class, confusion matrix.",
        discussion: """
            The set's class names must be the model's (a subset is fine). --format json has overall_accuracy \
            and mean_class_accuracy (fractions 0–1), per_class and confusion; csv and jsonl have one row \
            per class of the model: class, clouds, correct, accuracy, predicted (its row of the confusion \
            matrix).
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Labelled set: class folders or a CSV manifest.")
    var data: String

    @Option(help: "At most this many clouds (a seeded random subset).")
    var limit: Int?

    @Option(help: "Seed of the --limit subset.")
    var seed: UInt64 = 1

    @Option(name: .customLong("batch-size"), help: "Clouds per forward pass.")
    var batchSize = 32

    @Option(help: "Output format: table, json (one object), jsonl or csv (one row per class).")
    var format: OutputFormat = .table

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        let model = try modelOptions.load()
        let (result, skipped) = try model.evaluate(data: data, limit: limit, seed: seed, batchSize: batchSize, console: global.console)
        printEvaluation(format, object: result.record(model: try modelOptions.resolvedPath(), data: data, skipped: skipped),
                        rows: result.classRecords, table: result.table)
    }
}
