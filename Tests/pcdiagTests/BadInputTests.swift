import Foundation
import Testing
import TestSupport

/// Every kind of bad input gets one line on stderr that names the file, and a documented exit code;
/// never a crash (status ≥ 128 or a signal), a hang, or output on stdout.
@Suite struct BadInputTests {
    static let dir = TestPaths.scratch("bad-inputs")

    static func file(_ name: String, _ data: Data) -> String {
        let path = dir.appendingPathComponent(name).path
        try! data.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// An empty folder whose name looks like a cloud file.
    static func folder(_ name: String) -> String {
        let url = dir.appendingPathComponent(name)
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    static func randomBytes(_ n: Int, seed: UInt64) -> Data {
        var state = seed
        return Data((0 ..< n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        })
    }

    /// (name, path, expected exit status, words the message must contain)
    static let cases: [(String, String, Int32, String)] = {
        var binary = Data(pcdHeader(points: 100, data: "binary").utf8)
        for _ in 0 ..< 150 { binary.append(le: Float(1)) }  // 50 of the 100 points promised
        var ascii = pcdHeader(points: 100, data: "ascii")
        for _ in 0 ..< 10 { ascii += "1 2 3\n" }
        var longAscii = pcdHeader(points: 40, data: "ascii")
        for _ in 0 ..< 30 { longAscii += "1.00000000 2.00000000 3.00000000\n" }
        return [
            ("missing file", dir.appendingPathComponent("missing.pcd").path, 3, "no such file"),
            ("a directory", folder("folder.pcd"), 3, "directory"),
            ("empty file", file("empty.pcd", Data()), 3, "empty"),
            ("random bytes as .pcd", file("random.pcd", randomBytes(4096, seed: 1)), 3, "not a PCD file"),
            ("random bytes as .ply", file("random.ply", randomBytes(4096, seed: 2)), 3, "not a PLY file"),
            ("truncated binary PCD", file("truncated.pcd", binary), 3, "truncated"),
            ("header promises more points", file("more.pcd", Data(ascii.utf8)), 3, "truncated"),
            ("ascii PCD a few points short", file("short.pcd", Data(longAscii.utf8)), 3, "corrupt or truncated"),
            ("huge POINTS value", file("huge.pcd", Data(pcdHeader(points: 4_000_000_000, data: "binary").utf8)), 3, "truncated"),
            ("absurd POINTS value", file("absurd.pcd", Data(pcdHeader(points: 90_000_000_000, width: 90_000_000_000, data: "binary").utf8)), 3, "implausible"),
            ("zero points", file("zero.pcd", Data(pcdHeader(points: 0, data: "ascii").utf8)), 3, "no points"),
            ("all-NaN points", file("nan.pcd", Data((pcdHeader(points: 3, data: "ascii") + "nan nan nan\n" + "nan 1 2\n" + "inf 0 0\n").utf8)), 3, "no valid points"),
            ("unsupported extension", file("cloud.abc", Data("1 2 3\n".utf8)), 3, "unsupported file type"),
            ("PLY without vertices", file("faces.ply", Data("ply\nformat ascii 1.0\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n3 0 1 2\n".utf8)), 3, "no vertex element"),
            ("text with a column missing", file("short.xyz", Data("1 2 3\n4 5\n".utf8)), 3, "line 2 has 2 values, expected 3"),
            ("NPY shorter than its shape", file("short.npy", Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0, 70, 0])
                + Data("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 3), }".utf8) + Data(count: 12)), 3, "needs 12000000 bytes"),
            ("random bytes as .npy", file("random.npy", randomBytes(4096, seed: 4)), 3, "NUMPY"),
            (".bin of a broken record", file("broken.bin", randomBytes(18, seed: 5)), 3, "whole number of 16-byte records"),
            ("OFF with huge counts", file("huge.off", Data("OFF\n4000000000 1 0\n0 0 0\n".utf8)), 3, "promises 4000000000 vertices"),
            ("random bytes as .off", file("random.off", randomBytes(4096, seed: 6)), 3, "OFF"),
            ("binary STL with a lying count", file("lying.stl", Data(count: 80) + Data([0, 0, 0, 0x40]) + Data(count: 50)), 3, "the header says 1073741824 triangles"),
            ("random bytes as .las", file("random.las", randomBytes(4096, seed: 7)), 3, "LASF"),
            ("LAZ", file("tile.laz", randomBytes(300, seed: 8)), 3, "pdal translate"),
            ("PLY with fewer vertices than declared", file("few.ply", Data("ply\nformat binary_little_endian 1.0\nelement vertex 1000\nproperty float x\nproperty float y\nproperty float z\nend_header\n".utf8) + randomBytes(120, seed: 3)), 3, "truncated"),
        ]
    }()

    @Test(arguments: cases.indices)
    func infoRejectsWithOneLine(index: Int) throws {
        let (name, path, status, words) = Self.cases[index]
        let run = try CLI.run(["info", path])
        #expect(run.status == status, "\(name): status \(run.status), stderr \(run.stderr)")
        #expect(run.stderrLines.count == 1, "\(name): \(run.stderr)")
        #expect(run.stderr.hasPrefix("pcdiag: error: \(path)"), "\(name): \(run.stderr)")
        #expect(run.stderr.lowercased().contains(words.lowercased()), "\(name): \(run.stderr)")
        #expect(run.stdout.isEmpty, "\(name): nothing on stdout")
    }

    @Test(arguments: cases.indices)
    func convertAndPreprocessRejectToo(index: Int) throws {
        let (name, path, status, _) = Self.cases[index]
        let out = TestPaths.scratch("outputs")
        var commands = [["preprocess", path, out.appendingPathComponent("p.pcd").path]]
        // Converting a cloud whose points are all NaN is faithful, not an error: the file keeps its holes.
        if name != "all-NaN points" { commands.append(["convert", path, out.appendingPathComponent("o.pcd").path]) }
        for command in commands {
            let run = try CLI.run(command)
            #expect(run.status == status, "\(command[0]) \(name): \(run.stderr)")
            #expect(run.stderrLines.count == 1 && run.stderr.contains(path), "\(command[0]) \(name): \(run.stderr)")
        }
    }

    @Test func outputInAMissingDirectory() throws {
        let out = Self.dir.appendingPathComponent("no/such/dir/out.pcd").path
        let run = try CLI.run(["convert", TestPaths.sample("chair_cad.pcd"), out])
        #expect(run.status == 6)
        #expect(run.stderrLines.count == 1 && run.stderr.contains(out) && run.stderr.contains("does not exist"))
    }

    @Test func existingOutputIsNotOverwrittenUnlessForced() throws {
        let out = Self.dir.appendingPathComponent("keep.pcd").path
        try Data("precious".utf8).write(to: URL(fileURLWithPath: out))
        let run = try CLI.run(["convert", TestPaths.sample("chair_cad.pcd"), out])
        #expect(run.status == 6 && run.stderr.contains("--force"))
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "precious")
        let forced = try CLI.run(["convert", TestPaths.sample("chair_cad.pcd"), out, "--force"])
        #expect(forced.status == 0)
        #expect(try CLI.run(["info", out]).status == 0)
    }

    @Test func usageErrorsExitWithTwoOnOneLine() throws {
        for args in [["info"], ["frobnicate"], ["preprocess", "a.pcd", "b.pcd", "--points", "-3"],
                     ["preprocess", "a.pcd", "b.pcd", "--outliers", "banana"], ["convert", "a.pcd", "b.ply", "--encoding", "zip"]] {
            let run = try CLI.run(args)
            #expect(run.status == 2, "\(args): \(run.stderr)")
            #expect(run.stderrLines.count == 1, "\(args): \(run.stderr)")
        }
    }

    @Test func aBatchWithSomeBadFilesReportsTheRestAndExitsFive() throws {
        let run = try CLI.run(["info", "--format", "jsonl", TestPaths.sample("chair_cad.pcd"), Self.cases[2].1, TestPaths.sample("bunny.pcd")])
        #expect(run.status == 5)
        #expect(run.stdout.split(separator: "\n").count == 2)
        #expect(run.stderrLines.count == 1)
    }
}
