import Foundation
import PointClouds
import Support
import Testing
import TestSupport

@Suite struct CommandTests {
    static func json(_ text: String) throws -> [[String: Any]] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
    }

    @Test(.enabled(if: TestPaths.hasSharedData, "needs ../shared/data"))
    func infoJSONOnEveryPCLSample() throws {
        let folder = TestPaths.shared("pcl-samples")
        let run = try CLI.run(["info", "--format", "json", folder])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try Self.json(run.stdout)
        let byName = Dictionary(uniqueKeysWithValues: rows.map { (URL(fileURLWithPath: $0["path"] as! String).lastPathComponent, $0) })
        let expected: [String: (Int, Int, [String])] = [
            "bunny.pcd": (397, 397, ["x", "y", "z"]), "milk.pcd": (13704, 13704, ["x", "y", "z"]),
            "milk_color.pcd": (13704, 13704, ["x", "y", "z", "rgba"]), "car6.pcd": (10031, 10031, ["x", "y", "z"]),
            "lamppost.pcd": (1771, 1771, ["x", "y", "z"]), "cube.ply": (24, 24, ["x", "y", "z"]),
            "colored_cloud.pcd": (1000, 1000, ["x", "y", "z", "rgb", "normal_x", "normal_y", "normal_z", "curvature"]),
        ]
        #expect(rows.count == 8)
        for (name, (points, total, fields)) in expected {
            let row = try #require(byName[name], "\(name) missing")
            #expect(row["points"] as? Int == points, "\(name)")
            #expect(row["total_points"] as? Int == total, "\(name)")
            #expect(row["fields"] as? [String] == fields, "\(name)")
        }
        // The organized stereo scene: valid points counted from the file without PCL (see PointCloudIOTests).
        let table = try #require(byName["table_scene_mug_stereo_textured.pcd"])
        let valid = try IndependentPCD.finiteCount(
            compressedFile: TestPaths.shared("pcl-samples/table_scene_mug_stereo_textured.pcd"), points: 307_200)
        #expect(table["points"] as? Int == valid)
        #expect(table["total_points"] as? Int == 307_200)
        #expect(table["organized"] as? Bool == true && table["width"] as? Int == 640 && table["height"] as? Int == 480)
    }

    @Test func infoFormatsAgree() throws {
        let sample = TestPaths.sample("table_scene_organized.pcd")
        let cloud = try PointCloud(contentsOf: sample)
        let jsonl = try CLI.run(["info", "--format", "jsonl", sample])
        let row = try #require(JSONSerialization.jsonObject(with: Data(jsonl.stdout.utf8)) as? [String: Any])
        #expect(row["points"] as? Int == cloud.finiteCount)
        #expect(row["total_points"] as? Int == 4800)
        let centroid = try #require(row["centroid"] as? [Double])
        let finite = cloud.positions.filter { $0.x.isFinite && $0.y.isFinite && $0.z.isFinite }
        let mean = finite.reduce(SIMD3<Double>.zero) { $0 + SIMD3<Double>($1) } / Double(finite.count)
        #expect(abs(centroid[0] - mean.x) < 1e-5 && abs(centroid[1] - mean.y) < 1e-5 && abs(centroid[2] - mean.z) < 1e-5)
        let single = try CLI.run(["info", "--format", "json", sample]).stdout
        #expect((try JSONSerialization.jsonObject(with: Data(single.utf8)) as? [String: Any])?["total_points"] as? Int == 4800)
        let several = try CLI.run(["info", "--format", "json", sample, TestPaths.sample("bunny.pcd")]).stdout
        #expect(try Self.json(several).map { $0["total_points"] as? Int } == [4800, 397])
        let csv = try CLI.run(["info", "--format", "csv", sample]).stdout.split(separator: "\n")
        #expect(csv.count == 2 && csv[0].hasPrefix("path,format,encoding,points,total_points"))
        #expect(csv[1].contains(",\(cloud.finiteCount),4800,"))
        // CSV: one number per cell, so bounds and centroid get a column per axis; JSON keeps the arrays.
        let header = csv[0].split(separator: ",").map(String.init), cells = csv[1].split(separator: ",").map(String.init)
        let columns = ["bounds_min", "bounds_max", "centroid"].flatMap { key in ["x", "y", "z"].map { "\(key)_\($0)" } }
        #expect(Array(header.suffix(9)) == columns && header.count == cells.count)
        #expect(!header.contains("bounds_min") && !header.contains("centroid"))
        let lo = finite.reduce(finite[0]) { pointwiseMin($0, $1) }, hi = finite.reduce(finite[0]) { pointwiseMax($0, $1) }
        let numbers = cells.suffix(9).compactMap(Double.init)
        let expected = [lo.x, lo.y, lo.z, hi.x, hi.y, hi.z].map(Double.init) + [mean.x, mean.y, mean.z]
        #expect(numbers.count == 9 && zip(numbers, expected).allSatisfy { abs($0 - $1) < 1e-5 * max(1, abs($1)) }, "\(numbers) vs \(expected)")
        let jsonMin = try #require(row["bounds_min"] as? [Double])
        #expect(jsonMin.count == 3 && zip(jsonMin, expected).allSatisfy { abs($0 - $1) < 1e-5 * max(1, abs($1)) }, "JSON keeps the array")
        let table = try CLI.run(["info", sample]).stdout.split(separator: "\n")
        #expect(table.count == 2 && table[0].hasPrefix("FILE") && table[1].contains("80×60"))
    }

    @Test func convertKeepsFieldsAndPreprocessResamples() throws {
        let dir = TestPaths.scratch()
        let ply = dir.appendingPathComponent("scene.ply").path
        let back = dir.appendingPathComponent("back.pcd").path
        #expect(try CLI.run(["convert", TestPaths.sample("table_scene_organized.pcd"), ply]).status == 0)
        #expect(try CLI.run(["convert", ply, back, "--encoding", "ascii"]).status == 0)
        let original = try PointCloud(contentsOf: TestPaths.sample("table_scene_organized.pcd"))
        let roundTrip = try PointCloud(contentsOf: back)
        // PLY has no grid: the points and their order survive, NaN holes included.
        #expect(roundTrip.count == original.count)
        #expect(zip(roundTrip.positions, original.positions).allSatisfy { $0 == $1 || ($0.x.isNaN && $1.x.isNaN) })
        #expect(roundTrip.colors?.map { [$0.r, $0.g, $0.b] } == original.colors?.map { [$0.r, $0.g, $0.b] })

        let prepared = dir.appendingPathComponent("prepared.pcd").path
        let run = try CLI.run(["preprocess", TestPaths.sample("chair_scan.pcd"), prepared, "--points", "1024", "--format", "jsonl"])
        #expect(run.status == 0, "\(run.stderr)")
        let row = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(row["points_in"] as? Int == 555 && row["points_out"] as? Int == 1024)
        let cloud = try PointCloud(contentsOf: prepared)
        #expect(cloud.count == 1024)
        let radius = cloud.positions.map { ($0 * $0).sum().squareRoot() }.max()!
        #expect(abs(radius - 1) < 1e-5)
    }

    /// A column standing on a wider floor patch, written to a file: the points removed are the
    /// floor's, and no others.
    @Test func preprocessRemovesTheFloorOfAScan() throws {
        var rng = SeededGenerator(seed: 3)
        let floor = (0 ..< 300).map { _ in SIMD3<Float>(.random(in: -2 ... 2, using: &rng), .random(in: -2 ... 2, using: &rng), 0.01 * rng.gaussian()) }
        let column = (0 ..< 600).map { _ in
            let angle = Float.random(in: 0 ..< 2 * .pi, using: &rng)
            return SIMD3<Float>(0.3 * cos(angle), 0.3 * sin(angle), .random(in: 0.3 ... 2, using: &rng))
        }
        let dir = TestPaths.scratch()
        let input = dir.appendingPathComponent("scan.pcd").path, out = dir.appendingPathComponent("no-floor.pcd").path
        try PointCloud(positions: floor + column).write(to: input)
        let run = try CLI.run(["preprocess", input, out, "--remove-floor", "--points", "0", "--no-normalize", "--format", "jsonl"])
        #expect(run.status == 0, "\(run.stderr)")
        let row = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect((row["steps"] as? [String])?.contains { $0.hasPrefix("floor removal") } == true)
        #expect(try PointCloud(contentsOf: out).positions == column)
    }

    /// A flat plate alone (its plane is the object, not a floor): the output keeps every point and
    /// stderr says so, in one line.
    @Test func preprocessWarnsWhenNoFloorIsFound() throws {
        var rng = SeededGenerator(seed: 4)
        let plate = (0 ..< 400).map { _ in SIMD3<Float>(.random(in: -1 ... 1, using: &rng), .random(in: -1 ... 1, using: &rng), 0.001 * rng.gaussian()) }
        let dir = TestPaths.scratch()
        let input = dir.appendingPathComponent("plate.pcd").path, out = dir.appendingPathComponent("out.pcd").path
        try PointCloud(positions: plate).write(to: input)
        let run = try CLI.run(["preprocess", input, out, "--remove-floor", "--points", "0", "--no-normalize"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderrLines == ["pcdiag: warning: \(input): no floor found; kept all points"])
        #expect(try PointCloud(contentsOf: out).count == plate.count)
        let quiet = try CLI.run(["preprocess", input, out, "--remove-floor", "--force", "--quiet"])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty)
    }

    @Test func helpAndVersionGoToStdout() throws {
        let help = try CLI.run(["--help"])
        #expect(help.status == 0 && help.stdout.contains("info") && help.stdout.contains("Exit status"))
        let version = try CLI.run(["--version"])
        #expect(version.status == 0 && version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
        for command in ["info", "convert", "preprocess", "classify", "evaluate", "train", "bench"] {
            let run = try CLI.run([command, "--help"])
            #expect(run.status == 0 && run.stdout.contains("USAGE"), "\(command)")
        }
    }

    /// bench: loading is timed on --data only (no checkout path as a default), its rows keep their
    /// names, and --threads states its default once.
    @Test func benchTimesLoadingOnTheDataItIsGiven() throws {
        let missing = try CLI.run(["bench", "--only", "load"])
        #expect(missing.status == 2 && missing.stderrLines.count == 1 && missing.stderr.contains("--data"), "\(missing.stderr)")
        let run = try CLI.run(["bench", "--only", "load", "--data", TestPaths.root.appendingPathComponent("Samples").path, "--repeat", "1", "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try Self.json(run.stdout)
        #expect(rows.map { $0["measurement"] as? String } == ["read bytes", "load (PCL)", "load + preprocess", "load + preprocess with floor removal"])
        #expect(rows.allSatisfy { $0["clouds"] as? Int == 5 && ($0["clouds_per_s"] as? Double ?? 0) > 0 && $0["vs_read"] != nil })
        let help = try CLI.run(["bench", "--help"]).stdout
        let threads = try #require(help.components(separatedBy: "--threads").last?.components(separatedBy: "--only").first)
        #expect(threads.components(separatedBy: "default").count == 2, "\(threads)")
        #expect(!help.contains("shared/data"))
    }

    @Test func manPageDocumentsEveryCommandAndExitCode() throws {
        let man = try String(contentsOf: TestPaths.root.appendingPathComponent("man/pcdiag.1"), encoding: .utf8)
        for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "EXIT STATUS", "FILES", "EXAMPLES"] {
            #expect(man.contains(".SH \(section)") || man.contains(".SH \"\(section)\""), "\(section)")
        }
        let help = try CLI.run(["--help"]).stdout
        for command in ["info", "convert", "preprocess", "classify", "evaluate", "train", "bench"] {
            #expect(help.contains(command) && man.contains(".B \(command)") || man.contains("\\fB\(command)\\fR"), "\(command)")
        }
        for code in 0 ... 6 { #expect(man.contains(".B \(code)\n") || man.contains(".IP \(code)"), "exit code \(code)") }
    }
}
