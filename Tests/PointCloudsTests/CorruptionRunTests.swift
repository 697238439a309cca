import Foundation
import PointClouds
import Support
import Testing
import TestSupport

/// `CorruptionRun`: where copies go, what is refused before anything is written, and results that do
/// not depend on the number of workers.
@Suite struct CorruptionRunTests {
    /// `chair/c1.pcd`, `chair/c2.ply`, `lamp/l1.pcd` under `root`, 200–400 random points each.
    static func makeSet(_ root: URL) throws -> [String] {
        let names = ["chair/c1.pcd", "chair/c2.ply", "lamp/l1.pcd"]
        for (n, name) in names.enumerated() {
            var rng = SeededGenerator(seed: UInt64(n + 1))
            let url = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try PointCloud(positions: (0 ..< 200 + 100 * n).map { _ in rng.gaussian3() }).write(to: url.path)
        }
        return names
    }

    @Test func aFolderIsMirroredPerCorruption() throws {
        let dir = TestPaths.scratch()
        let names = try Self.makeSet(dir.appendingPathComponent("set"))
        let out = dir.appendingPathComponent("out").path
        let corruptions = [Corruption(.jitter, severity: 1), Corruption(.dropoutGlobal, severity: 3)]
        let run = try CorruptionRun(inputs: [dir.appendingPathComponent("set").path], output: out, corruptions: corruptions)
        #expect(run.items.map(\.relative) == names && run.items.allSatisfy(\.inFolder))
        #expect(run.targets[1] == ["\(out)/jitter-1/chair/c2.ply", "\(out)/dropout-global-3/chair/c2.ply"])
        #expect(run.destination(1) == "\(out)/dropout-global-3")

        let single = dir.appendingPathComponent("one.pcd").path
        let named = try CorruptionRun(inputs: [dir.appendingPathComponent("set/lamp/l1.pcd").path], output: single, corruptions: [corruptions[0]])
        #expect(named.targets == [[single]] && named.destination(0) == single && named.items[0].relative == "l1.pcd")
    }

    @Test func unworkableOutputsAreRefusedBeforeAnythingIsWritten() throws {
        let dir = TestPaths.scratch()
        _ = try Self.makeSet(dir.appendingPathComponent("set"))
        let set = dir.appendingPathComponent("set").path, jitter = [Corruption(.jitter, severity: 2)]
        func refusal(_ inputs: [String], _ output: String, _ encoding: PointCloudEncoding = .binary) -> PointCloudError? {
            do {
                _ = try CorruptionRun(inputs: inputs, output: output, corruptions: jitter, encoding: encoding)
                return nil
            } catch { return error }
        }
        guard case .invalidArgument(let several) = refusal([set], dir.appendingPathComponent("x.pcd").path) else {
            Issue.record("several files into one file name")
            return
        }
        #expect(several.contains("folder"))
        guard case .invalidArgument = refusal(["\(set)/chair/c1.pcd"], dir.appendingPathComponent("x.ply").path, .compressed) else {
            Issue.record("compressed PLY")
            return
        }
        // Two inputs of the same name (from two named files) would land on one path.
        guard case .invalidArgument = refusal(["\(set)/chair/c1.pcd", dir.appendingPathComponent("c1.pcd").path], dir.appendingPathComponent("o").path) else {
            Issue.record("two files onto one path")
            return
        }
        let existing = dir.appendingPathComponent("there.pcd").path
        try PointCloud(positions: [[0, 0, 0]]).write(to: existing)
        guard case .unwritable(existing, let reason) = refusal(["\(set)/chair/c1.pcd"], existing) else {
            Issue.record("an existing output without force")
            return
        }
        #expect(reason.contains("--force"))
        // A pattern that matches files, none of them clouds.
        try Data("notes".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        guard case .invalid(_, let none) = refusal([dir.appendingPathComponent("*.txt").path], dir.appendingPathComponent("o").path) else {
            Issue.record("no clouds among the inputs")
            return
        }
        #expect(none.contains("no point cloud files"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o").path), "nothing written by a refused plan")
    }

    /// The same files from one worker and from three, byte for byte; each the documented corruption of
    /// its input with the seed of its relative path; a bad file reported in its own result.
    @Test func resultsDependOnTheFileNotOnTheWorkers() throws {
        let dir = TestPaths.scratch()
        let setURL = dir.appendingPathComponent("set")
        let names = try Self.makeSet(setURL)
        try Data("not a cloud".utf8).write(to: setURL.appendingPathComponent("lamp/bad.pcd"))
        let corruptions = [Corruption(.dropoutLocal, severity: 2), Corruption(.addGlobal, severity: 4)]
        var outputs = [String]()
        for workers in [1, 3] {
            let out = dir.appendingPathComponent("out\(workers)").path
            let run = try CorruptionRun(inputs: [setURL.path], output: out, corruptions: corruptions, seed: 11)
            var seen = [Int]()
            var errors = [String]()
            let totals = try run.run(workers: workers, chunk: 2) { i, result in
                seen.append(i)
                if let error = result.error { errors.append(error.description) }
            }
            #expect(seen == Array(0 ..< 4), "every item once, in order")
            #expect(errors.count == 1 && errors[0].contains("bad.pcd"))
            #expect(totals.allSatisfy { $0.files == 3 && $0.failed == 1 && $0.pointsIn == 200 + 300 + 400 })
            outputs.append(out)
        }
        for folder in ["dropout-local-2", "add-global-4"] {
            for name in names {
                let one = try Data(contentsOf: URL(fileURLWithPath: "\(outputs[0])/\(folder)/\(name)"))
                #expect(try Data(contentsOf: URL(fileURLWithPath: "\(outputs[1])/\(folder)/\(name)")) == one, "\(folder)/\(name)")
            }
        }
        let original = try PointCloud(contentsOf: setURL.appendingPathComponent("chair/c2.ply").path)
        let expected = corruptions[1].apply(to: original, seed: Corruption.seed(11, for: "chair/c2.ply"))
        #expect(try PointCloud(contentsOf: "\(outputs[1])/add-global-4/chair/c2.ply").positions == expected.positions)
    }
}
