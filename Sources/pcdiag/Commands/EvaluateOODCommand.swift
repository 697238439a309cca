import ArgumentParser
import Diagnostics
import Output

struct EvaluateOODCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate-ood",
        abstract: "How well each indicator tells out-of-distribution clouds, and wrong answers, apart.",
        discussion: """
            Diagnoses an in-distribution set (--id) and an out-of-distribution one (--ood) and reports, \
            for every indicator and the fragility score, AUROC, AUPR and the false-positive rate at 95 % \
            true-positive rate, the POSITIVE class being out-of-distribution. Each indicator is oriented \
            by its meaning, not by the data (margin and drop_rounds count as suspicious when low, the \
            others when high), so an AUROC below 0.5 says the indicator moves the other way. With \
            --labels, the error-detection AUROC on the --id set (positive: a wrong prediction) is added; \
            then --ood may be left out. Sets are class-folder trees or CSV manifests; --exclude drops \
            classes from the OOD set (say, the model's own classes under other names). csv and jsonl have \
            one row per indicator: indicator, then auroc, aupr and fpr95 with --ood, error_auroc with --labels.

            --format json prints one object; jsonl and csv one row per indicator.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "In-distribution set: class folders or a CSV manifest.") var id: String
    @Option(help: "Out-of-distribution set: class folders or a CSV manifest.") var ood: String?
    @Option(help: "Classes of the OOD set to leave out, comma-separated.") var exclude: String?
    @Flag(help: "The --id set's classes are the model's: also report error-detection AUROC.") var labels = false
    @Option(help: "At most this many clouds per set (a seeded random subset).") var limit: Int?
    @Option(help: "Seed of the subsets.") var seed: UInt64 = 1

    @OptionGroup var reading: ReadingOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard ood != nil || labels else { throw ValidationError("give --ood, --labels or both") }
        if let limit, limit < 2 { throw ValidationError("--limit must be at least 2") }
    }

    func run() throws {
        let model = try modelOptions.load()
        let excluded = Set((exclude ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
        let result = try OODEvaluation.run(try modelOptions.diagnostician(for: model), id: id, labels: labels, ood: ood, excluding: excluded,
                                           limit: limit, seed: seed, reading: reading.options, console: global.console)
        printEvaluation(global.format, object: result.record(model: try modelOptions.resolvedPath()), rows: result.rows, table: result.table)
    }
}
