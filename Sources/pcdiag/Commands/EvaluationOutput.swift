import ArgumentParser
import Output

/// How `evaluate`, `evaluate-ood`, `robustness` and `calibrate` print their result: `--format json`
/// the whole result as one object (its nested parts kept), `jsonl` and `csv` one row per unit (a
/// class, a score, a corruption and severity, a term), `table` the lines laid out for reading.
func printEvaluation(_ format: OutputFormat, object: Record, rows: [Record], table: [String]) {
    switch format {
    case .table:
        table.forEach(printResult)
    case .json, .jsonl, .csv:
        let printer = RecordPrinter(format: format, columns: [], single: true)
        if format == .json { printer.emit(object) } else { rows.forEach(printer.emit) }
        printer.finish()
    }
}

/// How much of a labelled set `evaluate` and `robustness` go through, and how many clouds per pass.
struct SubsetOptions: ParsableArguments {
    @Option(help: "At most this many clouds (a seeded random subset, drawn before reading, in set order).") var limit: Int?
    @Option(help: "Seed of the --limit subset (robustness: and of the corruptions).") var seed: UInt64 = 0
    @Option(name: .customLong("batch-size"), help: "Clouds per forward pass.") var batchSize = 32

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }
}
