import Foundation
import PointClouds
import Support
import Testing
import TestSupport

/// `segment` at the command line: the labelled scene keeps every field and the order, objects become
/// their own files, rows carry the documented keys, odd scenes get a clear answer, bad ones one line.
@Suite struct SegmentCommandTests {
    /// A 1 m table (1 cm grid) with two balls resting on it, every point with an intensity and a colour.
    /// Returns the cloud and, per point, the ball it belongs to (0: the table).
    static func scene() -> (PointCloud, [UInt32]) {
        var positions = [SIMD3<Float>](), truth = [UInt32]()
        for i in 0 ..< 100 { for j in 0 ..< 100 { positions.append(SIMD3(Float(i) / 100, Float(j) / 100, 0)); truth.append(0) } }
        var rng = SeededGenerator(seed: 11)
        for (k, centre) in [SIMD3<Float>(0.25, 0.3, 0.1), SIMD3<Float>(0.7, 0.6, 0.1)].enumerated() {
            for _ in 0 ..< 3000 {
                let v = SIMD3<Float>(rng.gaussian(), rng.gaussian(), rng.gaussian())
                let p = centre + 0.1 * v / (v * v).sum().squareRoot()
                guard p.z > 0.02 else { continue }  // what rests on the table, above the plane's reach
                positions.append(p)
                truth.append(UInt32(k + 1))
            }
        }
        var cloud = PointCloud(positions: positions, colors: positions.map { _ in .init(r: 10, g: 20, b: 30) })
        cloud.setField("intensity", values: positions.indices.map { Float($0 % 7) })
        return (cloud, truth)
    }

    @Test func theSceneComesBackWithAnObjectFieldAndEachObjectAsAFile() throws {
        let dir = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (cloud, truth) = Self.scene()
        let input = dir.appendingPathComponent("table.pcd").path, output = dir.appendingPathComponent("labelled.pcd").path
        try cloud.write(to: input)
        let objects = dir.appendingPathComponent("objects")
        try FileManager.default.createDirectory(at: objects, withIntermediateDirectories: true)
        let run = try CLI.run(["segment", input, "-o", output, "--objects", objects.path, "--plane-distance", "0.01",
                               "--cluster-distance", "0.03", "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 2)
        #expect(Set(rows.flatMap { $0.keys }) == ["scene", "object", "points", "centroid", "box_min", "extent", "oriented_centre",
                                                 "oriented_axes", "oriented_extent", "plane", "output"])
        let back = try PointCloud(contentsOf: output)
        #expect(back.fieldNames == cloud.fieldNames + ["object"])
        #expect(back.positions == cloud.positions && back.colors == cloud.colors && back.field(named: "intensity") == cloud.field(named: "intensity"))
        // Ids are renamed (largest first); the partition is the truth's.
        let labels = try #require(back.field(named: "object")).values.map { UInt32($0) }
        var mapping = [UInt32: UInt32]()
        for (t, l) in zip(truth, labels) {
            if t == 0 { #expect(l == 0) } else { #expect(mapping[t, default: l] == l); mapping[t] = l }
        }
        #expect(Set(mapping.values).count == 2 && !mapping.values.contains(0))
        for row in rows {
            let id = try #require(row["object"] as? Int), points = try #require(row["points"] as? Int)
            let path = try #require(row["output"] as? String)
            #expect(path == objects.appendingPathComponent("table-\(id).pcd").path)
            let object = try PointCloud(contentsOf: path)
            #expect(object.count == points && points == labels.filter { $0 == UInt32(id) }.count)
            #expect(object.fieldNames == cloud.fieldNames)
            let plane = try #require(row["plane"] as? [Double])
            #expect(abs(abs(plane[2]) - 1) < 1e-3 && abs(plane[3]) < 5e-3)
        }
        // Nothing is overwritten without --force.
        let again = try CLI.run(["segment", input, "-o", output])
        #expect(again.status == 6 && again.stderrLines.count == 1 && again.stderr.contains("labelled.pcd"))
    }

    @Test func oddAndBadScenesGetOneLine() throws {
        let dir = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        // All NaN: nothing to cut, said once, the labelled copy still written (all zeros, grid kept).
        let nan = dir.appendingPathComponent("nan.pcd").path, out = dir.appendingPathComponent("nan-out.pcd").path
        try PointCloud(positions: Array(repeating: SIMD3(repeating: .nan), count: 12), width: 4, height: 3).write(to: nan)
        let empty = try CLI.run(["segment", nan, "-o", out])
        #expect(empty.status == 0 && empty.stderrLines.count == 1 && empty.stderr.contains("no objects found"), "\(empty.stderr)")
        let back = try PointCloud(contentsOf: out)
        #expect(back.width == 4 && back.height == 3 && back.field(named: "object")?.values == Array(repeating: 0, count: 12))
        // No points at all, a missing file, a bad setting.
        let zero = dir.appendingPathComponent("zero.pcd").path
        try Data("VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH 0\nHEIGHT 1\nPOINTS 0\nDATA ascii\n".utf8)
            .write(to: URL(fileURLWithPath: zero))
        for (arguments, status, words) in [([zero], Int32(3), "zero.pcd"), ([dir.appendingPathComponent("missing.pcd").path], 3, "missing.pcd"),
                                           ([nan, "--plane-distance", "0"], 2, "--plane-distance")] {
            let run = try CLI.run(["segment"] + arguments)
            #expect(run.status == status && run.stderrLines.count == 1 && run.stderr.contains(words), "\(arguments): \(run.stderr)")
            #expect(run.stdout.isEmpty && !run.signaled)
        }
    }

    @Test(.enabled(if: TestPaths.hasSharedData, "needs ../shared/data"))
    func anMOSDSceneIsScoredAgainstItsLabels() throws {
        let run = try CLI.run(["segment", TestPaths.shared("mosd/learn0.pcd"), TestPaths.shared("mosd/learn4.pcd"),
                               "--truth", "label", "--format", "jsonl"])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = run.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(rows.count == 3 && rows.last?["scene"] as? String == "all")
        #expect(rows.last?["objects"] as? Int == 4)
        for row in rows { #expect((row["recall"] as? Double ?? 0) >= 0.5) }
    }
}
