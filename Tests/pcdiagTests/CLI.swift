import Foundation
import TestSupport

/// Runs the built `pcdiag` binary, as a user would.
struct CLI {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Ended by a signal (a crash, an abort): `status` is then the signal's number, not an exit code.
        var signaled = false
        var stderrLines: [Substring] { stderr.split(separator: "\n") }
    }

    /// The binary next to the test bundle (swift test builds both into the same folder).
    static let binary: URL = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = beside.deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("pcdiag")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
            dir = dir.deletingLastPathComponent()
        }
        return TestPaths.root.appendingPathComponent(".build/release/pcdiag")
    }()

    /// A debug build runs the engine tens of times slower than a release one: time limits stretch by this.
    #if DEBUG
    static let slowdown: TimeInterval = 20
    #else
    static let slowdown: TimeInterval = 1
    #endif

    /// Runs with a time limit (`timeout` seconds of a release build): a hang is a failure, not a stuck suite.
    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 60,
                    executable: URL = binary) throws -> Run {
        try run(arguments, environment: environment, timeout: timeout, stdout: nil, executable: executable)
    }

    /// Runs with stdout going to `stdout` (a full device, a pipe nobody reads); the Run's stdout is empty.
    static func runWithStdout(_ arguments: [String], stdout: FileHandle, timeout: TimeInterval = 60) throws -> Run {
        try run(arguments, environment: [:], timeout: timeout, stdout: stdout, executable: binary)
    }

    private static func run(_ arguments: [String], environment: [String: String], timeout: TimeInterval, stdout: FileHandle?,
                            executable: URL) throws -> Run {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.currentDirectoryURL = TestPaths.root
        // Files, not pipes: a chatty child can never block on a full pipe.
        let scratch = TestPaths.scratch("cli-run")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardOutput = try stdout ?? FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let limit = timeout * slowdown, deadline = Date().addingTimeInterval(limit)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            return Run(status: -1, stdout: "", stderr: "timed out after \(limit) s")
        }
        process.waitUntilExit()
        let outData = try Data(contentsOf: outURL), errData = try Data(contentsOf: errURL)
        return Run(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                   stderr: String(decoding: errData, as: UTF8.self), signaled: process.terminationReason == .uncaughtSignal)
    }
}
