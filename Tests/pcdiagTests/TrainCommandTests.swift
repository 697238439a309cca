import Engine
import Foundation
import Testing
import TestSupport

/// `train --resume` after the process was killed mid-run: the same model file, byte for byte, and the
/// same result as the run that was never interrupted.
@Suite(.enabled(if: TestPaths.hasSharedData, "needs ../shared/data"), .serialized)
struct TrainCommandTests {
    static let dir = TestPaths.scratch("train-command")

    /// Four training clouds of each of three classes.
    static let manifest: String = {
        var rows = ["path,label"]
        for label in ["chair", "lamp", "table"] {
            let folder = TestPaths.shared("modelnet40/train/" + label)
            let files = try! FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".pcd") }.sorted().prefix(4)
            rows += files.map { folder + "/" + $0 + "," + label }
        }
        let path = dir.appendingPathComponent("train.csv").path
        try! rows.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }()

    /// Without --val every epoch's model is saved, so the resumed process writes the final file itself.
    static func arguments(_ model: String, epochs: Int = 3) -> [String] {
        ["train", "--data", manifest, "--arch", "dgcnn", "--points", "256", "--batch-size", "4", "--epochs", String(epochs), "-o", model]
    }

    /// Starts a run and kills it (SIGKILL) as soon as its first checkpoint is there.
    static func killedAfterFirstCheckpoint(_ model: String) throws -> Int32 {
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = arguments(model)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(600 * CLI.slowdown)
        while process.isRunning && !FileManager.default.fileExists(atPath: model + ".ckpt") && Date() < deadline { usleep(2_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test func resumingAKilledRunGivesTheUninterruptedModel() throws {
        let model = Self.dir.appendingPathComponent("dgcnn.safetensors").path, checkpoint = model + ".ckpt"
        let straight = try CLI.run(Self.arguments(model), timeout: 600)
        #expect(straight.status == 0, "\(straight.stderr)")
        let straightBytes = try Data(contentsOf: URL(fileURLWithPath: model))
        for path in [model, checkpoint] { try FileManager.default.removeItem(atPath: path) }

        #expect(try Self.killedAfterFirstCheckpoint(model) == SIGKILL)
        let done = try #require(Int(SafeTensors.read(checkpoint).metadata["epoch"] ?? ""))
        try #require(done < 3, "the run was killed before its last epoch")
        let resumed = try CLI.run(Self.arguments(model) + ["--resume"], timeout: 600)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resumed from \(checkpoint) after epoch \(done)"))
        #expect(resumed.stdout == straight.stdout)
        #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == straightBytes, "the resumed run's model is the uninterrupted run's, byte for byte")
    }

    @Test func aCheckpointOfAnotherRecipeIsRefused() throws {
        let model = Self.dir.appendingPathComponent("other.safetensors").path
        let first = try CLI.run(Self.arguments(model, epochs: 1), timeout: 600)
        #expect(first.status == 0, "\(first.stderr)")
        let other = try CLI.run(Self.arguments(model) + ["--resume", "--lr", "0.01"], timeout: 600)
        #expect(other.status == 4 && other.stderrLines.count == 1, "\(other.stderr)")
        #expect(other.stderr.contains("\(model).ckpt: the checkpoint was made with another recipe"))
    }
}
