import Foundation
import Output

/// A file of rows written by `batch -o` or `merge -o`: JSON lines, or CSV with a header (by the
/// name's extension).
public struct RowFile: Sendable {
    public var path: String

    public init(_ path: String) { self.path = path }

    public var format: OutputFormat { path.lowercased().hasSuffix(".csv") ? .csv : .jsonl }

    /// What reading found besides the rows.
    public struct Reading: Sendable, Equatable {
        public var rows = 0
        /// Byte length of the complete lines: where appending may continue.
        public var completeLength: UInt64 = 0
        /// A last line without its newline that is not a row: what an interrupted write leaves.
        public var tornTail: Int = 0
    }

    /// Calls `body` with each row in order. A last line cut off by an interrupted write (no newline,
    /// not a row) is not an error: it is counted in `tornTail` for the caller to drop. Any other line
    /// that is not a row fails, naming the file and line.
    @discardableResult
    public func read(_ body: (ObjectRow) throws -> Void) throws -> Reading {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CommandFailure(status: .badInput, message: "\(path): cannot be read")
        }
        defer { try? handle.close() }
        var reading = Reading()
        var header: [String]?
        var number = 0
        var pending = "", pendingLength: UInt64 = 0, pendingQuotes = 0
        let format = format
        try LineReader(handle).forEach { line, terminated in
            number += 1
            let length = UInt64(line.utf8.count) + (terminated ? 1 : 0)
            if line.isEmpty && pending.isEmpty {
                reading.completeLength += length
                return
            }
            switch format {
            case .csv:
                // A quoted cell may hold a line break: gather lines until the quotes balance.
                pending += pending.isEmpty ? line : "\n" + line
                pendingLength += length
                // Counted line by line: a stray quote must not make reading the rest quadratic.
                pendingQuotes += line.utf8.count { $0 == UInt8(ascii: "\"") }
                guard pendingQuotes % 2 == 0 else {
                    if !terminated { reading.tornTail = Int(pendingLength) }
                    return
                }
                let cells = CSV.cells(pending), recordLength = pendingLength
                pending = ""
                pendingLength = 0
                pendingQuotes = 0
                // A record's last cell may have been cut: it is only trusted with its newline.
                guard terminated else {
                    reading.tornTail = Int(recordLength)
                    return
                }
                guard let h = header else {
                    header = cells
                    reading.completeLength += recordLength
                    return
                }
                guard cells.count == h.count, let row = ObjectRow(fields: Dictionary(zip(h, cells), uniquingKeysWith: { a, _ in a })) else {
                    throw CommandFailure(status: .badInput, message: "\(path):\(number): not a row of pcdiag batch")
                }
                reading.completeLength += recordLength
                reading.rows += 1
                try body(row)
            default:
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let row = ObjectRow(fields: object)
                else {
                    guard terminated else {
                        reading.tornTail = Int(length)
                        return
                    }
                    throw CommandFailure(status: .badInput, message: "\(path):\(number): not a row of pcdiag batch")
                }
                reading.completeLength += length
                reading.rows += 1
                try body(row)
            }
        }
        if !pending.isEmpty && reading.tornTail == 0 {
            throw CommandFailure(status: .badInput, message: "\(path):\(number): an unbalanced quote")
        }
        return reading
    }
}

/// Lines of a file, read in blocks: memory stays flat however long the file is. `terminated` is
/// false for a last line without a newline.
struct LineReader {
    let handle: FileHandle

    init(_ handle: FileHandle) { self.handle = handle }

    func forEach(_ body: (String, Bool) throws -> Void) throws {
        var buffer = Data()
        while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty {
            buffer.append(block)
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                try body(String(decoding: buffer[buffer.startIndex ..< newline], as: UTF8.self), true)
                buffer.removeSubrange(buffer.startIndex ... newline)
            }
        }
        if !buffer.isEmpty { try body(String(decoding: buffer, as: UTF8.self), false) }
    }
}
