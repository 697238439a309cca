import Foundation
import PointClouds
import Testing
import TestSupport

/// `classify --scene` and `batch --scene`: a row per object with its place in the scene, the scene
/// written back with each object's answer, rows of a scene resumed and merged as a unit; a whole scene
/// given as one object gets a hint.
@Suite struct SceneCommandTests {
    /// The table of `SegmentCommandTests` with its two balls, written to `dir`.
    static func writeScene(in dir: URL) throws -> (path: String, cloud: PointCloud, truth: [UInt32]) {
        let (cloud, truth) = SegmentCommandTests.scene()
        let path = dir.appendingPathComponent("table.pcd").path
        try cloud.write(to: path)
        return (path, cloud, truth)
    }

    static let segmentation = ["--plane-distance", "0.01", "--cluster-distance", "0.03"]

    @Test func eachObjectOfASceneGetsARowAndTheSceneComesBackWithTheAnswers() throws {
        let dir = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (input, cloud, truth) = try Self.writeScene(in: dir)
        let output = dir.appendingPathComponent("answers.ply").path
        let run = try CLI.run(["classify", input, "--scene", "--scene-output", output, "--format", "json"] + Self.segmentation)
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 2)
        let info = try CLI.run(["info", "Models/pointnet-pointda10.safetensors", "--format", "json"])
        let classes = try #require((JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])?["classes"] as? [String])

        let back = try PointCloud(contentsOf: output)
        // PLY keeps red, green and blue (an rgb field's fourth byte is no alpha).
        func rgb(_ c: PointCloud) -> [[UInt8]]? { c.colors?.map { [$0.r, $0.g, $0.b] } }
        #expect(back.positions == cloud.positions && rgb(back) == rgb(cloud) && back.field(named: "intensity") == cloud.field(named: "intensity"))
        let object = try #require(back.field(named: "object")).values.map { Int($0) }
        let classIndex = try #require(back.field(named: "scalar_class")).values
        let probability = try #require(back.field(named: "scalar_probability")).values
        let fragility = try #require(back.field(named: "scalar_fragility")).values
        for row in rows {
            let id = try #require(row["object"] as? Int)
            let members = object.indices.filter { object[$0] == id }
            // Each object is one ball, whole: its points, its box.
            #expect(Set(members.map { truth[$0] }).count == 1 && truth[members[0]] != 0)
            #expect(row["points"] as? Int == members.count)
            let extent = try #require(row["extent"] as? [Double]), centroid = try #require(row["centroid"] as? [Double])
            #expect(extent.count == 3 && abs(extent[0] - 0.2) < 0.02 && abs(extent[1] - 0.2) < 0.02)
            let mean = members.reduce(SIMD3<Double>.zero) { $0 + SIMD3<Double>(cloud.positions[$1]) } / Double(members.count)
            #expect(abs(centroid[0] - mean.x) < 1e-4 && abs(centroid[1] - mean.y) < 1e-4 && abs(centroid[2] - mean.z) < 1e-4)
            // The scene's fields carry the row's answer on every point of the object.
            let predicted = try #require(row["class"] as? String)
            let p = try #require(row["probability"] as? Double), f = try #require(row["fragility"] as? Double)
            for i in members {
                #expect(classIndex[i] == Float(try #require(classes.firstIndex(of: predicted))))
                #expect(abs(Double(probability[i]) - p) < 1e-6 && abs(Double(fragility[i]) - f) < 1e-6)
            }
        }
        for i in object.indices where object[i] == 0 {
            #expect(classIndex[i] == -1 && probability[i].isNaN && fragility[i].isNaN)
        }
        // Not overwritten without --force.
        let again = try CLI.run(["classify", input, "--scene", "--scene-output", output] + Self.segmentation)
        #expect(again.status == 6 && again.stderrLines.count == 1 && again.stderr.contains("answers.ply"), "\(again.stderr)")
    }

    @Test func aSceneRunResumesByWholeScenesAndMergesByObject() throws {
        let dir = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (input, _, _) = try Self.writeScene(in: dir)
        let rows = dir.appendingPathComponent("rows.csv").path
        let first = try CLI.run(["batch", input, "--scene", "-o", rows] + Self.segmentation)
        #expect(first.status == 0, "\(first.stderr)")
        let written = try String(contentsOfFile: rows, encoding: .utf8)
        let lines = written.split(separator: "\n")
        #expect(lines.count == 3 && lines[0].hasPrefix("path,object,centroid,box_min,extent,points,class"))
        // The scene has its rows: a second run adds none.
        let second = try CLI.run(["batch", input, "--scene", "-o", rows] + Self.segmentation)
        #expect(second.status == 0 && second.stderr.contains("2 rows already there"), "\(second.stderr)")
        #expect(try String(contentsOfFile: rows, encoding: .utf8) == written)
        // Merging the file with itself keeps one row per object, sorted by object.
        let merged = dir.appendingPathComponent("merged.jsonl").path
        let merge = try CLI.run(["merge", rows, rows, "-o", merged])
        #expect(merge.status == 0, "\(merge.stderr)")
        let objects = try String(contentsOfFile: merged, encoding: .utf8).split(separator: "\n").map { line in
            (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["object"] as? Int
        }
        #expect(objects == [1, 2])
    }

    @Test func aWholeSceneGivenAsOneObjectGetsAHint() throws {
        let dir = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A 64 × 48 depth image of a slanted wall.
        let grid = (0 ..< 48).flatMap { r in (0 ..< 64).map { c in SIMD3<Float>(Float(c) / 64, Float(r) / 48, 1 + Float(c) / 128) } }
        let path = dir.appendingPathComponent("image.pcd").path
        try PointCloud(positions: grid, width: 64, height: 48).write(to: path)
        let run = try CLI.run(["classify", path, "--no-diagnostics", "--format", "jsonl"])
        #expect(run.status == 0 && run.stdout.split(separator: "\n").count == 1, "\(run.stderr)")
        #expect(run.stderrLines.contains { $0.contains("image.pcd") && $0.contains("64×48 depth image") && $0.contains("--scene") }, "\(run.stderr)")
        // Bad combinations are refused before any work.
        let bad = try CLI.run(["classify", path, "--scene-output", dir.appendingPathComponent("x.ply").path])
        #expect(bad.status == 2 && bad.stderr.contains("--scene-output needs --scene"), "\(bad.stderr)")
    }
}
