import ArgumentParser
import Foundation
import Output
import Networks
import PointClouds

struct RobustnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robustness",
        abstract: "Accuracy under seeded corruptions, and the mean corruption error against a reference model.",
        discussion: """
            Each cloud of the labelled set (--data) is prepared as the model expects, corrupted (see pcdiag \
            corrupt; ModelNet-C's protocol: the corruption acts on the unit-sphere cloud) and prepared \
            again, for every --kind and --severity. Prints the clean accuracy and the accuracy per \
            corruption; with --reference, each kind's corruption error CE = Σ_severities (1 − accuracy) / \
            the same for the reference model, and their mean, mCE (Ren et al. 2022). Seeds come from --seed \
            and each file's path, so both models see the same corrupted clouds.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Labelled set: class folders or a CSV manifest.")
    var data: String

    @Option(help: "Reference model for CE and mCE (ModelNet-C uses DGCNN).")
    var reference: String?

    @Option(help: "Corruptions: a comma-separated list of kinds, or 'all'.", transform: KindSelection.init)
    var kind = try! KindSelection("all")

    @Option(help: "Severities 1…5, a comma-separated list, or 'all'.", transform: SeveritySelection.init)
    var severity = try! SeveritySelection("all")

    @Option(help: "Base seed of the corruptions.")
    var seed: UInt64 = 0

    @Option(name: .customLong("batch-size"), help: "Clouds per forward pass.")
    var batchSize = 32

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let console = global.console
        let corruptions = kind.kinds.flatMap { k in severity.levels.map { Corruption(k, severity: $0) } }
        let models = [try modelOptions.load()] + (try reference.map { [try Model.load($0)] } ?? [])
        var results = [Robustness]()
        for model in models {
            let (set, _) = try LabelledData.load(data, for: model, console: console)
            let bar = console.progress(total: set.count * (corruptions.count + 1), label: "robustness")
            results.append(try model.robustness(on: set, corruptions: corruptions, seed: seed, batchSize: batchSize) { bar.advance(by: $0) })
            bar.finish()
        }
        let result = results[0], errors = results.count > 1 ? result.corruptionErrors(against: results[1]) : []
        let mce = results.count > 1 ? result.meanCorruptionError(against: results[1]) : nil
        if format == .json || format == .jsonl {
            var r = Record()
            r["model"] = .string(try modelOptions.resolvedPath())
            r["data"] = .string(data)
            r["clean_accuracy"] = .double(result.clean)
            r["accuracy"] = .object(Record(fields: result.accuracy.map { ("\($0.corruption.kind.rawValue)-\($0.corruption.severity)", .double($0.accuracy)) }))
            if let reference {
                r["reference"] = .string(reference)
                r["reference_clean_accuracy"] = .double(results[1].clean)
                r["ce"] = .object(Record(fields: errors.map { ($0.kind.rawValue, $0.ce.map(Value.double) ?? .null) }))
                r["mce"] = mce.map(Value.double) ?? .null
            }
            printResult(r.json)
            return
        }
        let levels = severity.levels
        let header = ["KIND"] + levels.map { "S\($0)" } + ["MEAN"] + (reference == nil ? [] : ["CE"])
        var table = [header]
        table.append(["clean"] + levels.map { _ in "" } + [String(format: "%.2f %%", result.clean * 100)] + (reference == nil ? [] : [""]))
        for k in kind.kinds {
            let row = result.accuracy.filter { $0.corruption.kind == k }.map(\.accuracy)
            let ce = errors.first { $0.kind == k }?.ce
            table.append([k.rawValue] + row.map { String(format: "%.2f", $0 * 100) } + [String(format: "%.2f %%", row.reduce(0, +) / Double(row.count) * 100)]
                + (reference == nil ? [] : [ce.map { String(format: "%.3f", $0) } ?? "–"]))
        }
        let widths = header.indices.map { c in table.map { $0[c].count }.max()! }
        for row in table { printResult(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")) }
        if let mce { printResult(String(format: "mCE %.3f (reference %@, clean accuracy %.2f %%)", mce, reference!, results[1].clean * 100)) }
    }
}
