import Foundation

/// pcdiag's documented exit codes (README, man page, `pcdiag --help`).
enum ExitStatus: Int32, Sendable {
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
struct CommandFailure: Error {
    var status: ExitStatus
    var message: String
}

extension CommandFailure {
    /// Checks outputs before any work is done: each one's folder must exist, and nothing the user has
    /// is replaced unless asked — an existing file without `--force` is an output error.
    /// `resumable`: the command's `--resume` is the other way on.
    static func checkOutputs(_ paths: [String], force: Bool, resumable: Bool = false) throws {
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
