import ArgumentParser
import Diagnostics
import Output
import Pipelines

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the row files of pcdiag batch shards into one, with the summary of the whole.",
        discussion: """
            Reads the shards' -o files (.jsonl or .csv), keeps one row per path (per path and object for \
            --scene rows; the first), writes them sorted by path to -o in the format its extension names, \
            and prints the summary of all rows with the shift test against the model's calibration, as \
            pcdiag batch does (the model: --model, else the default one, as for batch). Rows sorted by path \
            are what one batch run over a folder writes: with --batch-size 1 every value equal (time_ms \
            aside); with batches of several clouds a shard puts other clouds in a forward pass, and the \
            last digits (rarely drop_rounds by one) can differ.

            --format: the summary on stdout (table: text; json, jsonl: the summary object; csv: the shift test's rows).
            """)

    @Argument(help: "Row files written by pcdiag batch -o (one per shard).") var shards: [String]
    @Option(name: .shortAndLong, help: "The merged row file (.jsonl or .csv).") var output: String
    @Option(help: "The model the shards used, for the shift test (its calibration). Default: as for batch.") var model: String?
    @OptionGroup var summaryOptions: SummaryOptions

    @Flag(help: "Overwrite existing outputs.") var force = false
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let console = global.console
        try CommandFailure.checkOutputs([output] + summaryOptions.outputs, force: force)
        // The shift test needs the model's calibration; without any model the rows still merge.
        let path = model ?? (try? ModelOptions.resolve(nil))
        let calibration = try path.flatMap(Conclusion.calibration(ofModelAt:))
        if calibration == nil { console.warning("\(path ?? "no model found") is not calibrated: no shift test (give --model a calibrated model)") }
        let merged = try Merge.run(shards, into: output)
        console.verbose("merged \(merged.objects) rows from \(shards.count) files into \(output)")
        try summaryOptions.conclude(Conclusion(merged, calibration: calibration), format: global.format, onStdout: true, console: console,
                                    model: path ?? "–", inputs: shards, flagged: [])
    }
}
