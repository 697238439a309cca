import ArgumentParser
import Diagnostics
import Foundation
import Output
import Networks

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the row files of pcdiag batch shards into one, with the summary of the whole.",
        discussion: """
            Reads the shards' -o files (.jsonl or .csv, all alike), keeps one row per path (the first), \
            writes them sorted by path to -o in the format its extension names, and prints the summary \
            of all rows — with --model, the shift test against its calibration, as pcdiag batch does. \
            Rows sorted by path are what one batch run over a folder writes, so merging the shards of a \
            run gives the rows of the same run in one piece (time_ms aside).
            """)

    @Argument(help: "Row files written by pcdiag batch -o (one per shard).")
    var shards: [String]

    @Option(name: .shortAndLong, help: "The merged row file (.jsonl or .csv).")
    var output: String

    @Option(help: "The model the shards used, for the shift test (its calibration).")
    var model: String?

    @Option(help: "Write a self-contained HTML report (without renders: the shards hold no clouds).")
    var report: String?

    @Option(help: "Write the summary as JSON to FILE.")
    var summary: String?

    @Flag(help: "Overwrite existing outputs.")
    var force = false

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let console = global.console
        try CommandFailure.checkOutputs([output, report, summary].compactMap { $0 }, force: force)
        var rows = [String: BatchRow]()
        for shard in shards {
            try BatchRowFile.read(shard, format: BatchRowFile.format(of: shard)) { row in
                if rows[row.path] == nil { rows[row.path] = row }
            }
        }
        let calibration = try model.map { path in
            do {
                return try Diagnostician(model: try Model.load(path)).calibration
            } catch let error as DiagnosticsError {
                throw CommandFailure(status: .model, message: "\(path): \(error)")
            }
        } ?? nil
        let sink = try RowSink(output: output, format: .jsonl, force: true, single: false)
        var tally = BatchTally()
        for path in rows.keys.sorted() {
            tally.add(rows[path]!)
            try sink.emit(rows[path]!)
        }
        try sink.finish()
        console.verbose("merged \(rows.count) rows from \(shards.count) files into \(output)")
        try BatchCommand.conclude(tally, calibration: calibration, model: model ?? "–", inputs: shards.joined(separator: " "), flagged: [],
                                  rowsInFile: true, report: report, summary: summary, console: console)
    }
}
