import Foundation
import PointClouds
import Support
import Testing
import TestSupport

/// Damaged and lying files of the Swift-read formats: each is refused with one line that names the
/// file and the cause, before anything the size of a lying count is allocated; seeded mutations of
/// valid files give a cloud or a typed error, never a crash.
@Suite struct HostileFormatTests {
    static func npyHeader(_ dict: String, version: UInt8 = 1) -> Data {
        var d = Data([0x93]) + Data("NUMPY".utf8) + Data([version, 0])
        if version == 1 { d.append(le: UInt16(dict.utf8.count)) } else { d.append(le: UInt32(dict.utf8.count)) }
        d.append(dict)
        return d
    }

    static func lasHeader(format: UInt8 = 0, length: UInt16 = 20, count: UInt32, version: (UInt8, UInt8) = (1, 2)) -> Data {
        var d = Data("LASF".utf8) + Data(count: 20) + Data([version.0, version.1]) + Data(count: 68)
        d.append(le: UInt16(227)); d.append(le: UInt32(227)); d.append(le: UInt32(0))
        d.append(format); d.append(le: length); d.append(le: count)
        d.append(Data(count: 20))
        for v in [0.01, 0.01, 0.01, 0, 0, 0] { d.append(le: v) }
        d.append(Data(count: 48))
        return d
    }

    /// (what, file name, content, words the one-line error must contain)
    static let cases: [(String, String, Data, String)] = {
        var fewFloats = npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 3), }\n")
        for _ in 0 ..< 10 { fewFloats.append(le: Float(1)) }
        var binarySTL = Data(count: 80)
        binarySTL.append(le: UInt32(1_000_000))
        binarySTL.append(Data(count: 50))
        var lasTen = lasHeader(count: 10)
        lasTen.append(Data(count: 100))
        return [
            ("a line with a column missing", "a.xyz", Data("1 2 3\n4 5\n".utf8), "line 2 has 2 values, expected 3"),
            ("a line with a column too many", "a.csv", Data("x,y,z\n1,2,3\n4,5,6,7\n".utf8), "line 3 has 4 values, expected 3"),
            ("a word for a number", "a.txt", Data("1 2 3\n4 five 6\n".utf8), "line 2: 'five' is not a number"),
            ("two columns", "a.xyz", Data("1 2\n3 4\n".utf8), "x, y and z are needed"),
            ("a lying PTS count", "a.pts", Data("1000000000000\n1 2 3\n".utf8), "the count line says 1000000000000 points, the file has 1"),
            ("a header without x, y, z", "a.csv", Data("a,b,c\n1,2,3\n".utf8), "nor a header"),
            ("a header naming a column twice", "a.csv", Data("x,y,z,x\n1,2,3,4\n".utf8), "names 'x' twice"),
            ("an empty text file", "a.xyz", Data(), "no points"),
            ("NPY data short of its shape", "a.npy", fewFloats, "needs 12000 bytes of data, the file has 40"),
            ("NPY with a huge shape", "a.npy", npyHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000000, 3), }\n"), "needs 24000000000000000 bytes"),
            ("NPY whose shape overflows", "a.npy", npyHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (9223372036854775807, 3), }\n"), "needs more bytes"),
            ("NPY of integers", "a.npy", npyHeader("{'descr': '<i4', 'fortran_order': False, 'shape': (1, 3), }\n") + Data(count: 12), "dtype '<i4'"),
            ("a 1-D NPY", "a.npy", npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n") + Data(count: 12), "2-D array"),
            ("NPY header length past the end", "a.npy", npyHeader("{}", version: 2).prefix(12) + Data([0xFF]), "runs past the end"),
            ("not NPY at all", "a.npy", Data("1 2 3\n".utf8), "no \\x93NUMPY magic"),
            (".bin of a broken record", "a.bin", Data(count: 18), "18 bytes is not a whole number of 16-byte records"),
            ("an empty .bin", "a.bin", Data(), "no points"),
            ("OFF with huge counts", "a.off", Data("OFF\n999999999999 1 0\n0 0 0\n".utf8), "promises 999999999999 vertices"),
            ("OFF with counts that overflow", "a.off", Data("OFF 9223372036854775807 9223372036854775807 0\n".utf8), "more than the file"),
            ("OFF with a face past the vertices", "a.off", Data("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n".utf8), "'7' is not a vertex index below 3"),
            ("OFF cut short", "a.off", Data("OFF\n8 0 0\n0.000000000 0.000000000 0.000000000\n1.000000000 0.000000000 0.000000000\n".utf8), "ends after 2 of 8 vertices"),
            ("OFF with a 2-D vertex", "a.off", Data("OFF\n3 0 0\n0 0 0\n1 0\n0 1 0\n0 0 0\n".utf8), "line 4 has 2 coordinates, expected 3"),
            ("not OFF", "a.off", Data("ply\n".utf8), "no OFF keyword"),
            ("OBJ with a face past the vertices", "a.obj", Data("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n".utf8), "vertex 9 does not exist"),
            ("OBJ without vertices", "a.obj", Data("o nothing\n".utf8), "no vertices"),
            ("binary STL with a lying count", "a.stl", binarySTL, "the header says 1000000 triangles"),
            ("ascii STL facet of two vertices", "a.stl", Data("solid s\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nendloop\nendfacet\nendsolid\n".utf8), "a facet with 2 vertices"),
            ("LAS with a huge count", "a.las", lasTen + Data(), "promises 10 points of 20 bytes from byte 227"),
            ("LAS with a count near 2^32", "a.las", lasHeader(count: 4_294_967_295), "promises 4294967295 points"),
            ("LAS point format 11", "a.las", lasHeader(format: 11, count: 1), "point data format 11"),
            ("LAS records shorter than the format's", "a.las", lasHeader(format: 3, length: 20, count: 1), "less than format 3's 34"),
            ("LAS version 2.0", "a.las", lasHeader(count: 1, version: (2, 0)), "LAS version 2.0"),
            ("LAS compressed (LAZ) under a .las name", "a.las", lasHeader(format: 0x83, length: 34, count: 1), "pdal translate"),
            ("a .laz file", "a.laz", lasHeader(count: 1), "las2las"),
            ("a truncated LAS header", "a.las", Data("LASF".utf8) + Data(count: 100), "truncated header"),
        ]
    }()

    @Test(arguments: cases.indices)
    func refusedWithOneLineNamingTheFile(index: Int) throws {
        let (what, name, data, words) = Self.cases[index]
        let path = TestPaths.scratch().appendingPathComponent(name).path
        try data.write(to: URL(fileURLWithPath: path))
        do {
            let file = try PointCloudFile.read(path, options: CloudReadOptions())
            Issue.record("\(what): read \(file.cloud.count) points without complaint")
        } catch {
            #expect(error.description.hasPrefix(path + ": "), "\(what): \(error)")
            #expect(error.description.contains(words), "\(what): \(error)")
            #expect(!error.description.contains("\n"), "\(what): one line")
            if case .invalid = error {} else { Issue.record("\(what): \(error) should be .invalid (exit 3)") }
        }
    }

    @Test func missingFilesAndFoldersAreUnreadable() throws {
        let dir = TestPaths.scratch()
        for name in ["missing.xyz", "missing.npy", "missing.off", "missing.las", "missing.laz"] {
            let path = dir.appendingPathComponent(name).path
            #expect(throws: PointCloudError.unreadable(path: path, reason: "No such file or directory")) { try PointCloudFile.read(path, options: CloudReadOptions()) }
        }
        let folder = dir.appendingPathComponent("scan.xyz")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        #expect(throws: PointCloudError.unreadable(path: folder.path, reason: "is a directory")) { try PointCloudFile.read(folder.path, options: CloudReadOptions()) }
        // An endless device read as text would never end.
        #expect(throws: PointCloudError.unreadable(path: "/dev/zero", reason: "is not a regular file")) {
            try PointCloudFile.read("/dev/zero", options: CloudReadOptions(format: .xyz))
        }
    }

    /// NaN and infinite coordinates are kept, counted out of `finiteCount`, as in PCD files.
    @Test(arguments: ["xyz", "off-vertices", "npy"])
    func nanIsKept(kind: String) throws {
        let dir = TestPaths.scratch()
        var options = CloudReadOptions()
        let path: String
        switch kind {
        case "xyz": path = try write(dir, "n.xyz", Data("nan 1 2\n1 inf 2\n1 2 3\n".utf8))
        case "npy":
            var d = Self.npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 3), }\n")
            for v: Float in [.nan, 1, 2, 1, .infinity, 2, 1, 2, 3] { d.append(le: v) }
            path = try write(dir, "n.npy", d)
        default:
            options.mesh = .vertices
            path = try write(dir, "n.off", Data("OFF\n3 0 0\nnan 1 2\n1 inf 2\n1 2 3\n".utf8))
        }
        let cloud = try PointCloudFile.read(path, options: options).cloud
        #expect(cloud.count == 3 && cloud.finiteCount == 1 && cloud.positions[0].x.isNaN && cloud.positions[1].y == .infinity)
    }

    /// A mesh's NaN corner: its triangles get no samples, the others all of them.
    @Test func aNaNCornerLeavesItsTrianglesUnsampled() throws {
        let path = try write(TestPaths.scratch(), "n.off", Data("OFF\n5 2 0\n0 0 0\n1 0 0\n0 1 0\nnan 0 0\n0 0 1\n3 0 1 2\n3 0 3 4\n".utf8))
        let cloud = try PointCloudFile.read(path, options: CloudReadOptions(mesh: .sample(points: 500))).cloud
        #expect(cloud.count == 500 && cloud.positions.allSatisfy { $0.z == 0 && $0.x >= 0 && $0.y >= 0 && $0.x + $0.y <= 1.000001 })
    }

    func write(_ dir: URL, _ name: String, _ data: Data) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Valid files of each format, written here, for the mutations.
    static func seeds() -> [(name: String, bytes: [UInt8], headerEnd: Int)] {
        var rng = SeededGenerator(seed: 21)
        let rows = (0 ..< 30).map { _ in (0 ..< 4).map { _ in Float.random(in: -5 ... 5, using: &rng) } }
        let text = rows.map { $0.map { "\($0)" }.joined(separator: " ") }.joined(separator: "\n") + "\n"
        var npy = npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (30, 4), }      \n")
        var bin = Data()
        for r in rows { for v in r { npy.append(le: v); bin.append(le: v) } }
        var las = lasHeader(format: 2, length: 26, count: 30)
        for (i, r) in rows.enumerated() {
            for v in r.prefix(3) { las.append(le: Int32(v * 100)) }
            las.append(le: UInt16(i)); las.append(contentsOf: [0x09, 2, 0, 0]); las.append(le: UInt16(0))
            for c in 0 ..< 3 { las.append(le: UInt16(i * 8 + c)) }
        }
        let off = "OFF\n5 3 0\n" + rows.prefix(5).map { $0.prefix(3).map { "\($0)" }.joined(separator: " ") }.joined(separator: "\n") + "\n3 0 1 2\n4 1 2 3 4\n3 4 0 2\n"
        let obj = rows.prefix(5).map { "v " + $0.prefix(3).map { "\($0)" }.joined(separator: " ") }.joined(separator: "\n") + "\nf 1 2 3\nf 2/1 3/1 4/1 5/1\nf -1 -5 -3\n"
        var stl = "solid m\n"
        for t in 0 ..< 3 {
            stl += "facet normal 0 0 1\nouter loop\n" + (0 ..< 3).map { "vertex " + rows[t * 3 + $0].prefix(3).map { "\($0)" }.joined(separator: " ") + "\n" }.joined() + "endloop\nendfacet\n"
        }
        var binarySTL = Data(count: 80)
        binarySTL.append(le: UInt32(3))
        for t in 0 ..< 3 {
            for _ in 0 ..< 3 { binarySTL.append(le: Float(0)) }
            for c in 0 ..< 3 { for v in rows[t * 3 + c].prefix(3) { binarySTL.append(le: v) } }
            binarySTL.append(le: UInt16(0))
        }
        return [
            ("m.xyz", Array(text.utf8), 40), ("m.csv", Array(("x,y,z,i\n" + text.replacingOccurrences(of: " ", with: ",")).utf8), 40),
            ("m.pts", Array(("30\n" + text).utf8), 40), ("m.npy", [UInt8](npy), 80), ("m.bin", [UInt8](bin), 16),
            ("m.las", [UInt8](las), 227), ("m.off", Array(off.utf8), 12), ("m.obj", Array(obj.utf8), 60),
            ("m.stl", Array(stl.utf8), 40), ("binary.stl", [UInt8](binarySTL), 84),
        ]
    }

    /// 2,000 seeded mutations of each: a cloud with points, or an error naming the file.
    @Test(arguments: seeds().indices)
    func mutatedFilesGiveACloudOrAnError(index: Int) throws {
        let seed = Self.seeds()[index]
        let dir = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(seed.name).path
        // Sampling meshes to 64 points keeps 2,000 reads quick; the parsing is what is under test.
        let options = CloudReadOptions(mesh: .sample(points: 64))
        try Data(seed.bytes).write(to: URL(fileURLWithPath: path))
        #expect(try PointCloudFile.read(path, options: options).cloud.count > 0, "the unmutated file reads")
        var mutator = Mutator(seed: UInt64(index) + 100)
        var read = 0, refused = 0
        for _ in 0 ..< 2000 {
            try Data(mutator.mutate(seed.bytes, headerEnd: seed.headerEnd)).write(to: URL(fileURLWithPath: path))
            do {
                let cloud = try PointCloudFile.read(path, options: options).cloud
                #expect(cloud.count > 0)
                read += 1
            } catch {
                #expect(error.description.hasPrefix(path + ": ") && !error.description.contains("\n"), "\(error)")
                refused += 1
            }
        }
        #expect(read + refused == 2000 && refused > 0)
    }
}
