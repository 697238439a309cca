import ArgumentParser
import Foundation
import Output
import Networks
import PointClouds

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Accuracy of a model on a labelled set: overall, mean over classes, per class, confusion matrix.",
        discussion: """
            The set's class names must be the model's (a subset is fine). --format json has overall_accuracy \
            and mean_class_accuracy (fractions 0–1), per_class and confusion.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Labelled set: class folders or a CSV manifest.")
    var data: String

    @Option(name: .customLong("batch-size"), help: "Clouds per forward pass.")
    var batchSize = 32

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let console = global.console
        let model = try modelOptions.load()
        let (prepared, skipped) = try LabelledData.load(data, for: model, console: console)
        let bar = console.progress(total: prepared.count, label: "evaluate")
        let result = model.evaluate(prepared, batchSize: batchSize) { bar.advance(by: $0) }
        bar.finish()
        let perClass = zip(result.classes, result.perClassAccuracy).filter { $0.1 != nil }
        if format == .json || format == .jsonl {
            var r = Record()
            r["model"] = .string(try modelOptions.resolvedPath())
            r["data"] = .string(data)
            r["clouds"] = .int(result.total)
            r["skipped"] = .int(skipped)
            r["overall_accuracy"] = .double(result.overallAccuracy)
            r["mean_class_accuracy"] = .double(result.meanClassAccuracy)
            r["per_class"] = .object(Record(fields: perClass.map { ($0.0, .double($0.1!)) }))
            r["classes"] = Value(result.classes)
            r["confusion"] = .array(result.confusion.map { .array($0.map(Value.int)) })
            printResult(r.json)
            return
        }
        printResult(String(format: "overall accuracy     %.2f %%  (%d of %d)", result.overallAccuracy * 100, result.correct, result.total))
        printResult(String(format: "mean class accuracy  %.2f %%", result.meanClassAccuracy * 100))
        printResult("")
        let width = max(10, result.classes.map(\.count).max() ?? 0)
        for (name, accuracy) in perClass { printResult(name.padding(toLength: width, withPad: " ", startingAt: 0) + String(format: "  %6.2f %%", accuracy! * 100)) }
        printResult("\nconfusion (rows: true, columns: predicted)")
        let cell = max(5, String(result.total).count + 1)
        printResult(String(repeating: " ", count: width) + result.classes.indices.map { String($0).leftPadded(cell) }.joined())
        for (i, row) in result.confusion.enumerated() {
            printResult("\(i) \(result.classes[i])".padding(toLength: width, withPad: " ", startingAt: 0) + row.map { String($0).leftPadded(cell) }.joined())
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
