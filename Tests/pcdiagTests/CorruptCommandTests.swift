import Foundation
import PointClouds
import Support
import Testing
import TestSupport

/// `pcdiag corrupt` through the built binary, on small clouds made here.
@Suite struct CorruptCommandTests {
    /// `n` points on a sphere of radius 2 around (1, 1, 1), coloured, written to `path`.
    static func writeCloud(_ path: String, points n: Int = 500, seed: UInt64 = 1) throws {
        var rng = SeededGenerator(seed: seed)
        let positions = (0 ..< n).map { _ -> SIMD3<Float> in
            let p = SIMD3<Float>(.random(in: -1 ... 1, using: &rng), .random(in: -1 ... 1, using: &rng), .random(in: -1 ... 1, using: &rng))
            return SIMD3(1, 1, 1) + 2 * p / max((p * p).sum().squareRoot(), 1e-3)
        }
        let colors = (0 ..< n).map { PointCloud.Color(r: UInt8($0 % 256), g: 9, b: 200) }
        try PointCloud(positions: positions, colors: colors).write(to: path)
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func files(under root: URL) -> [String] {
        let walker = FileManager.default.enumerator(atPath: root.path)
        return (walker?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".pcd") || $0.hasSuffix(".ply") }.sorted()
    }

    @Test func oneFileIsWrittenAndNotOverwrittenWithoutForce() throws {
        let dir = TestPaths.scratch()
        let input = dir.appendingPathComponent("in.pcd").path, output = dir.appendingPathComponent("out.pcd").path
        try Self.writeCloud(input)
        let run = try CLI.run(["corrupt", input, output, "--kind", "dropout-global", "--severity", "2", "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let row = try Self.object(run.stdout)
        // ModelNet-C's severity 2 (its level 1) drops 37.5 %: 500 × 0.625 = 312.5 → 312 kept.
        #expect(row["kind"] as? String == "dropout-global" && row["severity"] as? Int == 2)
        #expect(row["files"] as? Int == 1 && row["points_in"] as? Int == 500 && row["points_out"] as? Int == 312)
        #expect(row["output"] as? String == output)
        let written = try PointCloud(contentsOf: output)
        #expect(written.count == 312 && written.colors?.count == 312)
        let original = try PointCloud(contentsOf: input)
        // Kept points keep their own colour.
        for (p, c) in zip(written.positions, written.colors!) {
            let i = try #require(original.positions.firstIndex(of: p))
            #expect(original.colors![i] == c)
        }

        let before = try Data(contentsOf: URL(fileURLWithPath: output))
        let again = try CLI.run(["corrupt", input, output, "--kind", "jitter", "--severity", "5"])
        #expect(again.status == 6 && again.stdout.isEmpty)
        #expect(again.stderrLines.count == 1 && again.stderr.contains(output) && again.stderr.contains("--force"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == before)
        let forced = try CLI.run(["corrupt", input, output, "--kind", "jitter", "--severity", "5", "--force", "-q"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try PointCloud(contentsOf: output).count == 500)
    }

    @Test func aSetIsMirroredPerCorruptionWithSeedsFromRelativePaths() throws {
        let dir = TestPaths.scratch()
        let set = dir.appendingPathComponent("set")
        for (name, seed) in [("chair/c1.pcd", 1), ("chair/c2.ply", 2), ("lamp/l1.pcd", 3)] as [(String, UInt64)] {
            try FileManager.default.createDirectory(at: set.appendingPathComponent(name).deletingLastPathComponent(), withIntermediateDirectories: true)
            try Self.writeCloud(set.appendingPathComponent(name).path, points: 300 + 100 * Int(seed), seed: seed)
        }
        let out = dir.appendingPathComponent("out")
        let run = try CLI.run(["corrupt", set.path, out.path, "--kind", "jitter,add-global", "--severity", "1,3", "--seed", "5", "--format", "jsonl"])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try run.stdout.split(separator: "\n").map { try Self.object(String($0)) }
        #expect(rows.map { "\($0["kind"]!)-\($0["severity"]!)" } == ["jitter-1", "jitter-3", "add-global-1", "add-global-3"])
        #expect(rows.allSatisfy { $0["files"] as? Int == 3 && $0["points_in"] as? Int == 400 + 500 + 600 })
        // add-global adds 10 × severity points per 1024, rounded, to each cloud.
        for (row, severity) in zip(rows.suffix(2), [1, 3]) {
            let added = [400, 500, 600].map { Int((Double(10 * severity * $0) / 1024).rounded()) }.reduce(0, +)
            #expect(row["points_out"] as? Int == 1500 + added)
        }
        let expected = ["chair/c1.pcd", "chair/c2.ply", "lamp/l1.pcd"]
        for folder in ["jitter-1", "jitter-3", "add-global-1", "add-global-3"] {
            #expect(Self.files(under: out.appendingPathComponent(folder)) == expected, "\(folder)")
        }
        #expect(Self.files(under: out).count == 12)

        // A file's result depends on its relative path and the seed, not on the other files.
        let alone = dir.appendingPathComponent("alone")
        let part = dir.appendingPathComponent("part/chair")
        try FileManager.default.createDirectory(at: part, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: set.appendingPathComponent("chair/c1.pcd"), to: part.appendingPathComponent("c1.pcd"))
        #expect(try CLI.run(["corrupt", part.deletingLastPathComponent().path, alone.path, "--kind", "jitter", "--severity", "3", "--seed", "5"]).status == 0)
        let first = try PointCloud(contentsOf: out.appendingPathComponent("jitter-3/chair/c1.pcd").path)
        #expect(try PointCloud(contentsOf: alone.appendingPathComponent("chair/c1.pcd").path).positions == first.positions)
        let other = dir.appendingPathComponent("other")
        #expect(try CLI.run(["corrupt", part.deletingLastPathComponent().path, other.path, "--kind", "jitter", "--severity", "3", "--seed", "6"]).status == 0)
        #expect(try PointCloud(contentsOf: other.appendingPathComponent("chair/c1.pcd").path).positions != first.positions)

        // Nothing is replaced without --force: the whole run is refused before writing.
        let before = try Data(contentsOf: out.appendingPathComponent("jitter-1/lamp/l1.pcd"))
        let again = try CLI.run(["corrupt", set.path, out.path, "--kind", "jitter", "--severity", "all", "--seed", "9"])
        #expect(again.status == 6 && again.stderrLines.count == 1 && again.stderr.contains("--force"), "\(again.stderr)")
        #expect(try Data(contentsOf: out.appendingPathComponent("jitter-1/lamp/l1.pcd")) == before)
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("jitter-2").path))
    }

    @Test(arguments: [
        (["--kind", "bogus", "--severity", "2"], "bogus"),
        (["--kind", "jitter,smear", "--severity", "2"], "smear"),
        (["--kind", "jitter", "--severity", "6"], "6"),
        (["--kind", "jitter", "--severity", "0"], "0"),
        (["--kind", "jitter", "--severity", "two"], "two"),
        (["--severity", "2"], "--kind"),
    ])
    func badKindOrSeverityIsOneLineAndUsageStatus(arguments: [String], word: String) throws {
        let dir = TestPaths.scratch()
        let input = dir.appendingPathComponent("in.pcd").path, output = dir.appendingPathComponent("out.pcd").path
        try Self.writeCloud(input, points: 50)
        let run = try CLI.run(["corrupt", input, output] + arguments)
        #expect(run.status == 2 && run.stdout.isEmpty)
        #expect(run.stderrLines.count == 1 && run.stderr.contains(word), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func wrongOutputsAndBadInputsGetTheirDocumentedStatus() throws {
        let dir = TestPaths.scratch()
        let a = dir.appendingPathComponent("a.pcd").path, b = dir.appendingPathComponent("b.pcd").path
        try Self.writeCloud(a, points: 60)
        try Self.writeCloud(b, points: 70)
        // Only an input: no output given.
        #expect(try CLI.run(["corrupt", a, "--kind", "jitter", "--severity", "1"]).status == 2)
        // Several outputs need a folder, not a cloud file name.
        let several = try CLI.run(["corrupt", a, b, dir.appendingPathComponent("c.pcd").path, "--kind", "jitter", "--severity", "1"])
        #expect(several.status == 2 && several.stderrLines.count == 1 && several.stderr.contains("folder"))
        // PLY has no compressed encoding.
        let ply = try CLI.run(["corrupt", a, dir.appendingPathComponent("c.ply").path, "--kind", "jitter", "--severity", "1", "--encoding", "compressed"])
        #expect(ply.status == 2 && ply.stderrLines.count == 1)
        // One unreadable input among several: its line, the others written, status 5.
        let garbage = dir.appendingPathComponent("garbage.pcd").path
        try Data("not a cloud".utf8).write(to: URL(fileURLWithPath: garbage))
        let out = dir.appendingPathComponent("out")
        let mixed = try CLI.run(["corrupt", a, garbage, b, out.path, "--kind", "rotate", "--severity", "4", "--format", "json"])
        #expect(mixed.status == 5 && mixed.stderrLines.count == 1 && mixed.stderr.contains("garbage.pcd"), "\(mixed.stderr)")
        let row = try Self.object(mixed.stdout)
        #expect(row["files"] as? Int == 2 && row["failed"] as? Int == 1 && row["points_out"] as? Int == 130)
        #expect(Self.files(under: out) == ["a.pcd", "b.pcd"])
    }

    @Test func helpManPageAndReadmeListTheCommand() throws {
        let help = try CLI.run(["--help"])
        #expect(help.status == 0 && help.stdout.contains("corrupt"))
        let own = try CLI.run(["corrupt", "--help"])
        #expect(own.status == 0 && own.stdout.contains("USAGE") && own.stdout.contains("dropout-local"))
        let man = try String(contentsOf: TestPaths.root.appendingPathComponent("man/pcdiag.1"), encoding: .utf8)
        #expect(man.contains(".B pcdiag corrupt") && man.contains(".B corrupt\n"))
        let readme = try String(contentsOf: TestPaths.root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("pcdiag corrupt "))
    }
}
