import Foundation
import Output
import Glibc
import Networks
import PointClouds

/// Peak resident memory of real pcdiag commands, each in a fresh process: `classify` of one 2,048-point
/// cloud, and `train` for two steps at batch 16 — what a user's process needs, not the benchmark's own
/// high-water mark, which grows with everything measured before.
///
/// The child reports its own VmHWM at exit (asked through $PCDIAG_PEAK_MEMORY_FILE): the rusage of a
/// spawned child would count the parent's memory, which the child shares until it execs.
public struct PeakMemory: Sendable {
    public var architecture: Architecture

    public init(architecture: Architecture) { self.architecture = architecture }

    public struct Result: Sendable, Equatable {
        public var classifyMegabytes: Int
        public var trainMegabytes: Int
    }

    public func measure() throws -> Result {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("pcdiag-bench-\(getpid())-\(architecture.name)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Random clouds in two class folders, and a model of the architecture with random weights.
        var rng = SystemRandomNumberGenerator()
        var first = ""
        for (c, name) in ["a", "b"].enumerated() {
            try FileManager.default.createDirectory(atPath: "\(directory)/data/\(name)", withIntermediateDirectories: true)
            for i in 0 ..< 16 {
                let positions = (0 ..< 2048).map { _ in
                    SIMD3<Float>(.random(in: -1 ... 1, using: &rng), .random(in: -1 ... 1, using: &rng), Float(c) + .random(in: 0 ... 1, using: &rng))
                }
                let path = "\(directory)/data/\(name)/\(i).pcd"
                try PointCloud(positions: positions).write(to: path)
                if first.isEmpty { first = path }
            }
        }
        let classes = (0 ..< architecture.classes).map { "class\($0)" }
        let model = "\(directory)/model.safetensors"
        try Model(metadata: ModelMetadata(architecture: architecture, classes: classes), seed: 1).save(to: model)
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let report = "\(directory)/peak"
        let classify = try Self.peakKilobytes(of: [executable, "classify", "--model", model, first], report: report)
        let train = try Self.peakKilobytes(of: [executable, "train", "--data", "\(directory)/data", "--arch", architecture.name,
                                                "--epochs", "1", "--batch-size", "16", "-o", "\(directory)/trained.safetensors"],
                                           report: report)
        return Result(classifyMegabytes: classify / 1024, trainMegabytes: train / 1024)
    }

    /// Runs a pcdiag command (output discarded) and returns its peak resident set in kB.
    static func peakKilobytes(of arguments: [String], report: String) throws -> Int {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var environment = ProcessInfo.processInfo.environment
        environment[Self.variable] = report
        var envp = environment.map { strdup("\($0)=\($1)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, &argv, &envp)
        guard spawned == 0 else {
            throw CommandFailure(status: .internalError, message: "bench: cannot run \(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0, let text = try? String(contentsOfFile: report, encoding: .utf8),
              let kilobytes = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw CommandFailure(status: .internalError, message: "bench: 'pcdiag \(arguments[1])' failed while measuring memory (status \(status))")
        }
        return kilobytes
    }

    static let variable = "PCDIAG_PEAK_MEMORY_FILE"

    /// With $PCDIAG_PEAK_MEMORY_FILE set, writes this process's peak resident set (kB) there at exit.
    public static func reportAtExitIfAsked() {
        guard ProcessInfo.processInfo.environment[variable] != nil else { return }
        atexit {
            guard let path = ProcessInfo.processInfo.environment[PeakMemory.variable],
                  let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                  let kilobytes = line.split(separator: " ").dropFirst().first else { return }
            try? String(kilobytes).write(toFile: path, atomically: true, encoding: .utf8)
        }
    }
}
