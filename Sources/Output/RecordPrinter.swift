import Foundation

public enum OutputFormat: String, CaseIterable, Sendable {
    case table, json, jsonl, csv
}

/// Prints records to stdout as they come: a table (aligned when complete), JSON, JSON lines or CSV.
/// JSON lines and CSV stream; a table and JSON are closed by `finish()`. JSON is one object when the
/// command was given a single input (`single`), else an array of objects.
public final class RecordPrinter {
    /// Table columns: the record key and the header shown.
    public struct Column: Sendable {
        public var key: String
        public var title: String

        public init(key: String, title: String) { (self.key, self.title) = (key, title) }
    }

    private let format: OutputFormat
    private let columns: [Column]
    private var rows: [[String]] = []
    private var csvHeader: [String]?
    private var jsonCount = 0
    private let single: Bool
    private var pendingObject: Record?
    /// Receives the text; the default writes it to stdout unbuffered, so rows appear as they are made.
    private let write: (String) -> Void

    public init(format: OutputFormat, columns: [Column], single: Bool = false,
         write: @escaping (String) -> Void = { StandardStream.output.write($0) }) {
        self.format = format
        self.columns = columns
        self.single = single
        self.write = write
    }

    public func emit(_ record: Record) {
        switch format {
        case .table:
            rows.append(columns.map { record[$0.key]?.tableText ?? "" })
        case .jsonl:
            out(record.json)
        case .json:
            if single && jsonCount == 0 {
                pendingObject = record  // printed bare by finish() if no other record follows
            } else {
                if let first = pendingObject {
                    write("[\n  " + first.json)
                    pendingObject = nil
                }
                write((jsonCount == 0 ? "[\n  " : ",\n  ") + record.json)
            }
            jsonCount += 1
        case .csv:
            let keys = record.fields.map(\.key)
            if csvHeader == nil {
                csvHeader = keys
                out(keys.map(Self.csvCell).joined(separator: ","))
            }
            out(csvHeader!.map { Self.csvCell(record[$0]?.text ?? "") }.joined(separator: ","))
        }
    }

    public func finish() {
        switch format {
        case .table:
            guard !rows.isEmpty else { return }
            let table = [columns.map(\.title)] + rows
            let widths = columns.indices.map { c in table.map { $0[c].count }.max() ?? 0 }
            for row in table {
                let cells = row.enumerated().map { c, cell in
                    c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                }
                out(cells.joined(separator: "  "))
            }
        case .json:
            if let only = pendingObject { out(only.json) } else { out(jsonCount == 0 ? "[]" : "\n]") }
        case .jsonl, .csv:
            break
        }
    }

    private func out(_ line: String) { write(line + "\n") }

    public static func csvCell(_ s: String) -> String {
        s.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}

public enum CSV {
    /// The cells of one record as `RecordPrinter` writes them (RFC 4180 quoting).
    public static func cells(_ record: String) -> [String] {
        var cells = [String](), cell = "", quoted = false
        var characters = record.makeIterator()
        while let c = characters.next() {
            if quoted {
                if c == "\"" {
                    // A doubled quote is a quote; a single one ends the quoted part.
                    var lookahead = characters
                    if lookahead.next() == "\"" { cell.append("\""); characters = lookahead } else { quoted = false }
                } else {
                    cell.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                cells.append(cell)
                cell = ""
            } else {
                cell.append(c)
            }
        }
        cells.append(cell)
        return cells
    }

    /// One CSV line of `cells`, quoted where needed.
    public static func line(_ cells: [String]) -> String { cells.map(RecordPrinter.csvCell).joined(separator: ",") }
}
