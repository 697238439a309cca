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
