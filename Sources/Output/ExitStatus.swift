import Foundation

/// pcdiag's documented exit codes (README, man page, `pcdiag --help`).
public enum ExitStatus: Int32, Sendable {
    case ok = 0
    /// A bug or a failure outside the user's input.
    case internalError = 1
    case usage = 2
    /// An input file is unreadable or not a valid point cloud.
    case badInput = 3
    /// A model file is missing, corrupt or does not fit.
    case model = 4
    /// Several inputs were given and some of them failed (the others were processed).
    case partial = 5
    /// An output could not be written, or exists and `--force` was not given.
    case output = 6
    /// `batch --fail-on-flag`: an object was flagged fragile.
    case flagged = 7
}

/// An error a command reports as one line and an exit status.
public struct CommandFailure: Error {
    public var status: ExitStatus
    public var message: String

    public init(status: ExitStatus, message: String) { (self.status, self.message) = (status, message) }
}

extension CommandFailure {
    /// Checks outputs before any work is done: each one's folder must exist, and nothing the user has
    /// is replaced unless asked — an existing file without `--force` is an output error.
    /// `resumable`: the command's `--resume` is the other way on.
    public static func checkOutputs(_ paths: [String], force: Bool, resumable: Bool = false) throws {
        for path in paths {
            let folder = (path as NSString).deletingLastPathComponent
            guard folder.isEmpty || FileManager.default.fileExists(atPath: folder) else {
                throw CommandFailure(status: .output, message: "\(path): the folder \(folder) does not exist")
            }
            if !force && FileManager.default.fileExists(atPath: path) {
                throw CommandFailure(status: .output, message: "\(path): exists (use --force to overwrite\(resumable ? ", --resume to continue" : ""))")
            }
        }
    }
}

/// Ends a command with `status` and nothing more to say (what went wrong was already reported).
public struct Exit: Error {
    public var status: ExitStatus

    public init(_ status: ExitStatus) { self.status = status }
}

/// Counts successes and failures over several inputs and turns them into the exit status:
/// all good → 0; one input and it failed → its own status; several and some failed → 5.
public final class BatchOutcome: @unchecked Sendable {
    private let total: Int
    private let lock = NSLock()
    private var failures = 0
    private var lastFailure = ExitStatus.ok

    public init(total: Int) { self.total = total }

    public func failed(_ status: ExitStatus) {
        lock.withLock {
            failures += 1
            lastFailure = status
        }
    }

    public var status: ExitStatus {
        lock.withLock {
            guard failures > 0 else { return .ok }
            if total == 1 { return lastFailure }
            return failures == total ? lastFailure : .partial
        }
    }

    /// Throws `Exit` when any input failed.
    public func conclude() throws {
        let status = status
        if status != .ok { throw Exit(status) }
    }
}
