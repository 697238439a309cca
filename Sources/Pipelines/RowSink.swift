import Foundation
import Output

/// Where rows go: appended to a row file (flushed row by row, so an interrupted run resumes where it
/// stopped), or printed on stdout.
///
/// A row file is held under an exclusive advisory lock (flock) for as long as the sink lives: a second
/// pcdiag writing the same file is refused instead of interleaving rows with this one.
public final class RowSink {
    private let file: RowFile?
    /// The rows' format: the file's, or stdout's.
    private let format: OutputFormat
    private let descriptor: Int32
    private let printer: RecordPrinter?
    private let details: Bool
    private var needsHeader: Bool

    /// Rows printed on stdout in `format` (table columns `columns`); `details` adds top and logits in JSON.
    public init(printing format: OutputFormat, columns: [RecordPrinter.Column], single: Bool, details: Bool) {
        file = nil
        self.format = format
        descriptor = -1
        printer = RecordPrinter(format: format, columns: columns, single: single)
        self.details = details && (format == .json || format == .jsonl)
        needsHeader = false
    }

    /// Rows appended to `path` in `format` (by default the one its name implies), after the `keep`
    /// bytes of complete rows already there (what `RowFile.read` found); `keep: 0` starts the file over.
    public init(appendingTo path: String, keep: UInt64, format: OutputFormat? = nil) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CommandFailure(status: .output, message: "\(path): cannot be opened for writing (\(String(cString: strerror(errno))))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw CommandFailure(status: .output, message: "\(path): another pcdiag is writing it (the file is locked)")
        }
        // Only under the lock: cut what is not a complete row (or everything, to start over).
        var keep = keep
        if keep > 0 {
            var last: UInt8 = 0
            if pread(fd, &last, 1, off_t(keep - 1)) == 1, last != UInt8(ascii: "\n") {
                // A complete last row without its newline: give it one before appending.
                ftruncate(fd, off_t(keep))
                lseek(fd, 0, SEEK_END)
                _ = "\n".withCString { Glibc.write(fd, $0, 1) }
                keep += 1
            }
        }
        guard ftruncate(fd, off_t(keep)) == 0, lseek(fd, 0, SEEK_END) >= 0 else {
            close(fd)
            throw CommandFailure(status: .output, message: "\(path): cannot be truncated (\(String(cString: strerror(errno))))")
        }
        file = RowFile(path)
        self.format = format ?? file!.format
        descriptor = fd
        printer = nil
        details = false
        needsHeader = self.format == .csv && keep == 0
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Emits the rows of one input (one object, or a scene's objects) in one write, so that an
    /// interrupted run leaves all of them or none.
    public func emit(_ rows: [ObjectRow]) throws {
        guard let file else {
            for row in rows { printer!.emit(row.record(format: format, details: details)) }
            return
        }
        var text = ""
        for row in rows {
            let record = row.record(format: format)
            if needsHeader {
                text += CSV.line(record.fields.map(\.key)) + "\n"
                needsHeader = false
            }
            text += (format == .csv ? CSV.line(record.fields.map(\.value.text)) : record.json) + "\n"
        }
        let start = lseek(descriptor, 0, SEEK_CUR)
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if n > 0 { bytes = bytes.dropFirst(n); continue }
            if n < 0 && errno == EINTR { continue }
            let reason = String(cString: strerror(errno))
            // Leave whole rows only: a resume then continues from the last one.
            if start >= 0 { ftruncate(descriptor, start) }
            throw CommandFailure(status: .output, message: "\(file.path): rows cannot be written (\(reason))")
        }
    }

    /// Closes a printed table or JSON array; the file is flushed row by row already.
    public func finish() {
        printer?.finish()
    }
}
