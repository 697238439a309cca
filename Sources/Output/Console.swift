import Foundation

/// Where logs, warnings, errors and progress go: stderr, so stdout holds only results.
public struct Console: Sendable {
    public enum Level: Int, Sendable { case quiet, normal, verbose }

    public var level: Level
    /// Receives each line (without its newline); stderr unless a test captures it.
    public var sink: @Sendable (String) -> Void

    public init(level: Level = .normal, sink: @escaping @Sendable (String) -> Void = Console.write) {
        self.level = level
        self.sink = sink
    }

    /// Says nothing: for library callers that want results only.
    public static let silent = Console(level: .quiet, sink: { _ in })

    public static let stderrIsTerminal = isatty(STDERR_FILENO) == 1

    public func error(_ message: String) { sink("pcdiag: error: \(message)") }
    public func warning(_ message: String) { if level != .quiet { sink("pcdiag: warning: \(message)") } }
    public func info(_ message: String) { if level != .quiet { sink(message) } }
    public func verbose(_ message: String) { if level == .verbose { sink(message) } }

    @Sendable public static func write(_ line: String) {
        StandardStream.error.write(line + "\n")
    }

    /// ProgressMeter over `total` items: a bar redrawn in place on a terminal, a line every few seconds
    /// otherwise (a log or a CI job sees the work move); nothing when quiet or for a single item.
    public func progress(total: Int, label: String) -> ProgressMeter {
        guard level != .quiet, total > 1 else { return ProgressMeter(total: total, label: label, style: .none, sink: sink) }
        return ProgressMeter(total: total, label: label, style: Self.stderrIsTerminal ? .bar : .lines, sink: sink)
    }
}

/// How far a long piece of work is. Library pipelines call `advance`; what is shown depends on
/// where stderr goes (see `Console.progress`).
public final class ProgressMeter: @unchecked Sendable {
    enum Style { case none, bar, lines }

    private let total: Int
    private let label: String
    private let style: Style
    private let sink: @Sendable (String) -> Void
    /// Seconds between two draws: a bar redraws often, lines come every few seconds.
    private let interval: TimeInterval
    private let start = Date()
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var drawn = false
    public private(set) var done = 0

    init(total: Int, label: String, style: Style, interval: TimeInterval? = nil, sink: @escaping @Sendable (String) -> Void) {
        self.total = total
        self.label = label
        self.style = style
        self.interval = interval ?? (style == .bar ? 0.1 : 5)
        self.sink = sink
        // Lines start after the first interval: short work prints none.
        if style == .lines { lastDraw = start }
    }

    /// Nothing shown: for callers that do not report progress.
    public static func none(total: Int = 0) -> ProgressMeter { ProgressMeter(total: total, label: "", style: .none, sink: { _ in }) }

    public func advance(by n: Int = 1) {
        lock.withLock {
            done += n
            let now = Date()
            guard style != .none, now.timeIntervalSince(lastDraw) >= interval || (style == .bar && done == total) else { return }
            lastDraw = now
            let elapsed = now.timeIntervalSince(start)
            let rate = elapsed > 0 ? Double(done) / elapsed : 0
            let eta = rate > 0 ? Double(max(total - done, 0)) / rate : 0
            switch style {
            case .bar:
                let width = 30, filled = Int(Double(done) / Double(max(total, 1)) * Double(width))
                let bar = String(repeating: "█", count: min(filled, width)) + String(repeating: "·", count: max(width - filled, 0))
                StandardStream.error.write(String(format: "\r%@ %@ %d/%d  %.0f/s  eta %.0fs", label, bar, done, total, rate, eta))
                drawn = true
            case .lines:
                sink(String(format: "%@: %d/%d (%.0f %%), %.1f/s, eta %.0f s", label, done, total,
                            100 * Double(done) / Double(max(total, 1)), rate, eta))
            case .none:
                break
            }
        }
    }

    /// Clears a drawn bar so that what follows starts on a clean line.
    public func finish() {
        lock.withLock {
            if drawn { StandardStream.error.write("\r\u{1B}[2K") }
            drawn = false
        }
    }
}

/// stdout and stderr written with write(2), so a failed write is an error the command reports
/// (a full disk: exit 6) or a reader that went away (EPIPE: the run ends quietly, exit 0) — never a
/// trap, and never text lost in a buffer.
public struct StandardStream: Sendable {
    public let descriptor: Int32

    public static let output = StandardStream(descriptor: STDOUT_FILENO)
    public static let error = StandardStream(descriptor: STDERR_FILENO)

    /// Writes all of `text`. On stdout a failure ends the process: EPIPE with status 0, anything else
    /// with one line on stderr and the output status. Failures on stderr are ignored (nowhere to say so).
    public func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if n > 0 { bytes = bytes.dropFirst(n); continue }
            if n < 0 && errno == EINTR { continue }
            guard descriptor == STDOUT_FILENO else { return }
            if errno == EPIPE { exit(ExitStatus.ok.rawValue) }
            let reason = String(cString: strerror(errno))
            StandardStream.error.write("pcdiag: error: standard output: cannot be written (\(reason))\n")
            exit(ExitStatus.output.rawValue)
        }
    }
}

/// Prints a line of results on stdout (see `StandardStream`).
public func printResult(_ text: String) {
    StandardStream.output.write(text + "\n")
}
