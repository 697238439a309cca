import Diagnostics
import Foundation
import Networks
import Output
import Report

/// The end of `batch` and `merge`: the summary for people, and the files asked for — the summary as
/// JSON and the HTML report, each written whole or not at all.
public struct Conclusion: Sendable {
    public var summary: BatchSummary
    public var calibration: Calibration?
    public var shift: ShiftTest?

    public init(_ summary: BatchSummary, calibration: Calibration?) {
        self.summary = summary
        self.calibration = calibration
        shift = calibration.map(summary.shift)
    }

    /// The calibration stored in the model file at `path`; nil when it has none. Unusable stored
    /// diagnostics are a model error naming the file.
    public static func calibration(ofModelAt path: String) throws -> Calibration? {
        do {
            return try Diagnostician(model: try Model.load(path)).calibration
        } catch let error as DiagnosticsError {
            throw CommandFailure(status: .model, message: "\(path): \(error)")
        }
    }

    /// A few lines and the shift table.
    public var text: String { summary.text(shift: shift) }

    /// The conclusion on stdout: table as `text`, json and jsonl the summary as one object, csv one
    /// row per score of the shift test.
    public func print(_ format: OutputFormat) {
        switch format {
        case .table: printResult(text)
        case .json, .jsonl: printResult(summary.record(shift: shift).json)
        case .csv:
            let printer = RecordPrinter(format: .csv, columns: [])
            for t in shift?.results ?? [] { printer.emit(t.record) }
            printer.finish()
        }
    }

    public func writeSummary(to path: String) throws {
        try Self.write(summary.record(shift: shift).json + "\n", to: path)
    }

    public func writeReport(to path: String, model: String, inputs: String, flagged: [FlaggedObject], scenes: [SceneCard] = []) throws {
        let data = summary.reportData(model: model, inputs: inputs, calibration: calibration, shift: shift, flagged: flagged, scenes: scenes)
        try Self.write(htmlReport(data), to: path)
    }

    /// Writes to a temporary file beside `path`, then renames it over: readers see the old file or the new one.
    static func write(_ text: String, to path: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CommandFailure(status: .output, message: "\(path): cannot be written (\(error.localizedDescription))")
        }
    }
}

/// `merge`: the row files of a batch's shards joined into one.
public enum Merge {
    /// Reads `shards` (one row per path — per path and object for scenes — the first kept), writes the
    /// rows sorted by path (and object) to `output` (what one batch run over the same inputs writes,
    /// sorted) and returns their summary.
    public static func run(_ shards: [String], into output: String) throws -> BatchSummary {
        var rows = [ObjectRow.Identity: ObjectRow]()
        for shard in shards {
            try RowFile(shard).read { row in
                if rows[row.identity] == nil { rows[row.identity] = row }
            }
        }
        // Written beside the output and renamed over it at the end: the output is whole or absent.
        let url = URL(fileURLWithPath: output)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).merging-\(getpid())").path
        do {
            let sink = try RowSink(appendingTo: temporary, keep: 0, format: RowFile(output).format)
            var summary = BatchSummary()
            for key in rows.keys.sorted() {
                summary.add(rows[key]!)
                try sink.emit([rows[key]!])
            }
            sink.finish()
            guard rename(temporary, output) == 0 else {
                throw CommandFailure(status: .output, message: "\(output): cannot be written (\(String(cString: strerror(errno))))")
            }
            return summary
        } catch {
            unlink(temporary)
            throw error
        }
    }
}

extension ShiftTest.Result {
    /// One score's test, as the summary and `--format csv` give it.
    public var record: Record {
        Record(fields: [
            ("key", .string(key)), ("n", .int(count)), ("statistic", .double(statistic)), ("p_value", .double(pValue)),
            ("adjusted_p_value", .double(adjustedPValue)), ("delta", .double(delta)), ("magnitude", .string(magnitude.rawValue)),
            ("shifted", .bool(shifted)),
        ])
    }
}
