import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The temporary files an output is written to before it is renamed into place, and their cleanup.
///
/// Every writer of whole files (point clouds, safetensors) names its temporary `.NAME.tmp-PID-RANDOM`
/// beside the output `NAME`: hidden, and marked with the writing process. A process killed mid-write
/// leaves its temporary behind; the next write to the same output removes those whose process is gone.
public enum TemporaryFile {
    /// A fresh temporary path beside `output`, for this process.
    public static func path(for output: String) -> String {
        let (directory, name) = split(output)
        return directory + prefix(name) + "\(getpid())-\(UInt32.random(in: 0 ... .max))"
    }

    /// Removes the temporaries of `output` left by processes that no longer exist (`kill(pid, 0)` fails
    /// with ESRCH). Those of live processes, and files that do not follow the pattern, are left alone.
    /// Best effort: a file that cannot be listed or removed is skipped.
    public static func removeStale(for output: String) {
        let (directory, name) = split(output)
        let start = prefix(name)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory) else { return }
        for entry in entries where entry.hasPrefix(start) {
            let parts = entry.dropFirst(start.count).split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, let pid = pid_t(parts[0]), pid > 0, UInt32(parts[1]) != nil else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(directory + entry) }
        }
    }

    private static func prefix(_ name: String) -> String { "." + name + ".tmp-" }

    /// The directory part of `path` (with its trailing slash, or empty) and the file name.
    private static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[...slash]), String(path[path.index(after: slash)...]))
    }
}
