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
    @Option(help: "Labelled set: class folders or a CSV manifest.") var data: String
    @OptionGroup var subset: SubsetOptions

    @OptionGroup var reading: ReadingOptions
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let model = try modelOptions.load()
        let (result, skipped) = try model.evaluate(data: data, limit: subset.limit, seed: subset.seed, batchSize: subset.batchSize, reading: reading.options,
                                                   console: global.console)
        printEvaluation(global.format, object: result.record(model: try modelOptions.resolvedPath(), data: data, skipped: skipped),
                        rows: result.classRecords, table: result.table)
    }
}
