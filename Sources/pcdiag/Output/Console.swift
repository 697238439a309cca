import Foundation

/// Where logs, warnings, errors and progress go: always stderr, so stdout holds only results.
struct Console: Sendable {
    enum Level: Int, Sendable { case quiet, normal, verbose }

    var level: Level

    static let stderrIsTerminal = isatty(STDERR_FILENO) == 1

    func error(_ message: String) { Self.write("pcdiag: error: \(message)") }
    func warning(_ message: String) { if level != .quiet { Self.write("pcdiag: warning: \(message)") } }
    func info(_ message: String) { if level != .quiet { Self.write(message) } }
    func verbose(_ message: String) { if level == .verbose { Self.write(message) } }

    static func write(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// A progress bar for `total` items, or nothing when stderr is not a terminal or output is quiet.
    func progress(total: Int, label: String) -> ProgressBar? {
        Self.stderrIsTerminal && level != .quiet && total > 1 ? ProgressBar(total: total, label: label) : nil
    }
}

/// A one-line progress bar redrawn in place on stderr, at most ten times a second.
final class ProgressBar {
    private let total: Int
    private let label: String
    private let start = Date()
    private var lastDraw = Date.distantPast
    private(set) var done = 0

    init(total: Int, label: String) {
        self.total = total
        self.label = label
    }

    func advance(by n: Int = 1) {
        done += n
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.1 || done == total else { return }
        lastDraw = now
        let fraction = Double(done) / Double(max(total, 1))
        let width = 30
        let filled = Int(fraction * Double(width))
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = String(format: "\r%@ %@ %d/%d  %.0f/s  eta %.0fs", label, bar, done, total, rate, eta)
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Clears the line so that what follows starts clean.
    func finish() {
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
