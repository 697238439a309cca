import Diagnostics
import Foundation
import Output

/// One object's result in `batch`: what a row of its JSON lines or CSV holds, written and read back
/// (to resume a run, and to merge shards) through the same keys.
struct BatchRow: Sendable, Equatable {
    var path: String
    var points: Int
    var predicted: String
    var probability: Double
    /// The true class, when the inputs' folders name it (--labels-from-folders).
    var label: String?
    /// By indicator key; nil: not computed.
    var indicators: [String: Double?]
    var fragility: Double?
    var fragile: Bool?
    var reasons: [String]
    var milliseconds: Double

    var correct: Bool? { label.map { $0 == predicted } }

    /// Keys in output order.
    static let keys = ["path", "points", "class", "probability", "label", "correct"] + Indicator.allCases.map(\.key)
        + ["fragility", "fragile", "reasons", "time_ms"]

    func record(format: OutputFormat) -> Record {
        var r = Record()
        r["path"] = .string(path)
        r["points"] = .int(points)
        r["class"] = .string(predicted)
        r["probability"] = .double(probability)
        r["label"] = label.map(Value.string) ?? .null
        r["correct"] = correct.map(Value.bool) ?? .null
        for indicator in Indicator.allCases {
            r[indicator.key] = (indicators[indicator.key] ?? nil).map(Value.double) ?? .null
        }
        r["fragility"] = fragility.map(Value.double) ?? .null
        r["fragile"] = fragile.map(Value.bool) ?? .null
        // JSON keeps the reasons as a list; a CSV or table cell joins them.
        r["reasons"] = format == .json || format == .jsonl ? Value(reasons) : .string(reasons.joined(separator: "; "))
        r["time_ms"] = .double((milliseconds * 1000).rounded() / 1000)
        return r
    }

    /// From a JSON lines row; nil when it is not one of ours.
    init?(json line: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
        func double(_ key: String) -> Double? { (object[key] as? NSNumber)?.doubleValue }
        guard let path = object["path"] as? String, let predicted = object["class"] as? String,
              let probability = double("probability") else { return nil }
        self.path = path
        self.predicted = predicted
        self.probability = probability
        points = (object["points"] as? NSNumber)?.intValue ?? 0
        label = object["label"] as? String
        indicators = Dictionary(uniqueKeysWithValues: Indicator.allCases.map { ($0.key, double($0.key)) })
        fragility = double("fragility")
        fragile = (object["fragile"] as? NSNumber)?.boolValue
        reasons = object["reasons"] as? [String] ?? []
        milliseconds = double("time_ms") ?? 0
    }

    /// From a CSV row under `header`; nil when it is not one of ours.
    init?(csv cells: [String], header: [String]) {
        guard cells.count == header.count else { return nil }
        let row = Dictionary(zip(header, cells), uniquingKeysWith: { a, _ in a })
        func double(_ key: String) -> Double? { row[key].flatMap { Double($0) } }
        guard let path = row["path"], let predicted = row["class"], let probability = double("probability") else { return nil }
        self.path = path
        self.predicted = predicted
        self.probability = probability
        points = row["points"].flatMap { Int($0) } ?? 0
        label = row["label"].flatMap { $0.isEmpty ? nil : $0 }
        indicators = Dictionary(uniqueKeysWithValues: Indicator.allCases.map { ($0.key, double($0.key)) })
        fragility = double("fragility")
        fragile = row["fragile"].flatMap { $0 == "yes" ? true : $0 == "no" ? false : nil }
        reasons = (row["reasons"] ?? "").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        milliseconds = double("time_ms") ?? 0
    }

    init(path: String, points: Int, diagnosis: Diagnosis, assessment: Assessment?, classes: [String], label: String?, milliseconds: Double) {
        let prediction = diagnosis.prediction
        self.path = path
        self.points = points
        predicted = classes[prediction.label]
        probability = DiagnosisRecord.rounded(Double(prediction.probabilities[prediction.label]))
        self.label = label
        indicators = Dictionary(uniqueKeysWithValues: Indicator.allCases.map { i in (i.key, i.value(in: diagnosis.indicators).map(DiagnosisRecord.rounded)) })
        fragility = assessment?.fragility.map(DiagnosisRecord.rounded)
        fragile = assessment?.fragile
        reasons = assessment?.reasons.map(\.description) ?? []
        self.milliseconds = milliseconds
    }
}

/// Rows already written to a JSON lines or CSV file, streamed a line at a time.
enum BatchRowFile {
    /// Calls `body` with each row of `path` in order. Fails naming the file and line when a line is
    /// not a row of `batch`.
    static func read(_ path: String, format: OutputFormat, _ body: (BatchRow) -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CommandFailure(status: .badInput, message: "\(path): cannot be read")
        }
        defer { try? handle.close() }
        var header: [String]?
        var number = 0
        var pending = ""
        try LineReader(handle).forEach { line in
            number += 1
            if line.isEmpty && pending.isEmpty { return }
            switch format {
            case .csv:
                // A quoted cell may hold a line break: gather lines until the quotes balance.
                pending += pending.isEmpty ? line : "\n" + line
                guard pending.filter({ $0 == "\"" }).count % 2 == 0 else { return }
                let cells = CSV.cells(pending)
                pending = ""
                guard let h = header else { header = cells; return }
                guard let row = BatchRow(csv: cells, header: h) else {
                    throw CommandFailure(status: .badInput, message: "\(path):\(number): not a row of pcdiag batch")
                }
                body(row)
            default:
                guard let row = BatchRow(json: line) else {
                    throw CommandFailure(status: .badInput, message: "\(path):\(number): not a row of pcdiag batch")
                }
                body(row)
            }
        }
    }

    /// The format a row file's name implies: .csv, else JSON lines.
    static func format(of path: String) -> OutputFormat { path.lowercased().hasSuffix(".csv") ? .csv : .jsonl }
}

/// Lines of a file, read in blocks: memory stays flat however long the file is.
struct LineReader {
    let handle: FileHandle

    init(_ handle: FileHandle) { self.handle = handle }

    func forEach(_ body: (String) throws -> Void) throws {
        var buffer = Data()
        while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty {
            buffer.append(block)
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                try body(String(decoding: buffer[buffer.startIndex ..< newline], as: UTF8.self))
                buffer.removeSubrange(buffer.startIndex ... newline)
            }
        }
        if !buffer.isEmpty { try body(String(decoding: buffer, as: UTF8.self)) }
    }
}

enum CSV {
    /// The cells of one record as `RecordPrinter` writes them (RFC 4180 quoting).
    static func cells(_ record: String) -> [String] {
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
}
