import Foundation
import PointClouds
import Support
import Testing
import TestSupport

/// Files made to break the reader: each gives a cloud or a `PointCloudError`, never a crash.
@Suite struct HostileFileTests {
    static func write(_ text: String, _ name: String) throws -> String {
        let path = TestPaths.scratch().appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// PCL aborts the process on a list-typed vertex property, and reads one of count 1 as a scalar.
    @Test(arguments: ["1 2 2 3 4\n", "1 2 1 3\n"])
    func aListVertexPropertyIsRefused(data: String) throws {
        let path = try Self.write("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
                                  + "property list uchar int z\nend_header\n" + data, "list.ply")
        #expect(throws: PointCloudError.invalid(path: path, reason: "the vertex property 'z' is a list (pcdiag reads only scalar vertex properties)")) {
            try PointCloudFile.read(path)
        }
    }

    @Test func listPropertiesOfFacesAreSkipped() throws {
        let path = try Self.write("ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
                                  + "element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n", "faces.ply")
        #expect(try PointCloudFile.read(path).cloud.positions == [SIMD3(0, 0, 0), SIMD3(1, 0, 0), SIMD3(0, 1, 0)])
    }

    @Test(arguments: [
        ("a face count the data cannot hold", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\n"
            + "element face 1000000\nproperty list uchar int vertex_indices\nend_header\n1 2 3\n", "truncated"),
        ("PLY version 2", "ply\nformat ascii 2.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nend_header\n1 2 3\n", "version"),
        ("a property before any element", "ply\nformat ascii 1.0\nproperty float x\nelement vertex 1\nend_header\n1\n", "before any element"),
        ("words for numbers in an ascii PCD", pcdHeader(points: 2, data: "ascii") + "1 2 3\none two three\n", "not a number"),
        ("extra columns in an ascii PCD", pcdHeader(points: 2, data: "ascii") + "1 2 3 4\n1 2 3 4\n", "4 values"),
        ("extra lines in an ascii PCD", pcdHeader(points: 1, data: "ascii") + "1 2 3\n1 2 3\n", "2 lines"),
        ("an absurd WIDTH × HEIGHT", pcdHeader(points: 1, width: 5_000_000_000, height: 5_000_000_000, data: "binary"), "implausible"),
    ])
    func lyingHeadersAreRefused(what: String, text: String, words: String) throws {
        let path = try Self.write(text, what.hasPrefix("PLY") || text.hasPrefix("ply") ? "f.ply" : "f.pcd")
        do {
            _ = try PointCloudFile.read(path)
            Issue.record("\(what): read without complaint")
        } catch {
            #expect(error.description.contains(words), "\(what): \(error)")
            #expect(error.description.hasPrefix(path))
        }
    }

    /// A killed writer's temporary goes on the next write to that output; a live writer's stays; the
    /// output has the normal mode of a new file.
    @Test(arguments: ["out.pcd", "out.ply"])
    func staleTemporariesAreRemovedOnTheNextWrite(name: String) throws {
        let dir = TestPaths.scratch()
        let output = dir.appendingPathComponent(name).path
        let dead = try deadProcessID()
        let stale = dir.appendingPathComponent(".\(name).tmp-\(dead)-12345").path
        let live = dir.appendingPathComponent(".\(name).tmp-\(getpid())-12345").path
        let other = dir.appendingPathComponent(".other.pcd.tmp-\(dead)-12345").path
        for path in [stale, live, other] { #expect(FileManager.default.createFile(atPath: path, contents: Data(count: 100))) }
        try PointCloud(positions: [SIMD3(1, 2, 3)]).write(to: output, encoding: .binary)
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(FileManager.default.fileExists(atPath: other))
        let mask = umask(0o022)
        umask(mask)
        let mode = try #require(FileManager.default.attributesOfItem(atPath: output)[.posixPermissions] as? Int)
        #expect(mode == 0o644 & ~Int(mask))
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".\(name).tmp-") }
        #expect(left == [(live as NSString).lastPathComponent])
    }

    /// Seeded mutations of valid files in every encoding: each read gives a cloud or a typed error.
    @Test(arguments: [("pcd", PointCloudEncoding.ascii), ("pcd", .binary), ("pcd", .compressed), ("ply", .ascii), ("ply", .binary)])
    func mutatedFilesGiveACloudOrAnError(ext: String, encoding: PointCloudEncoding) throws {
        let dir = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededGenerator(seed: 11)
        let cloud = PointCloud(positions: (0 ..< 40).map { _ in SIMD3(.random(in: -1 ... 1, using: &rng), .random(in: -1 ... 1, using: &rng), .random(in: -1 ... 1, using: &rng)) },
                               fields: [PointCloud.Field(name: "intensity", values: (0 ..< 40).map(Float.init))])
        let original = dir.appendingPathComponent("original.\(ext)").path
        try cloud.write(to: original, encoding: encoding)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: original)))
        let headerEnd = Self.headerEnd(bytes)
        var mutator = Mutator(seed: UInt64(ext.count * 31 + encoding.rawValue.count))
        var read = 0, refused = 0
        for i in 0 ..< 600 {
            let path = dir.appendingPathComponent("m\(i % 8).\(ext)").path
            try Data(mutator.mutate(bytes, headerEnd: headerEnd)).write(to: URL(fileURLWithPath: path))
            do {
                let file = try PointCloudFile.read(path)
                #expect(file.cloud.count > 0)
                read += 1
            } catch {
                #expect(error.description.hasPrefix(path), "\(error)")
                refused += 1
            }
        }
        #expect(read + refused == 600 && refused > 0)
    }

    /// Where the data starts: after the DATA or end_header line.
    static func headerEnd(_ bytes: [UInt8]) -> Int {
        let text = String(decoding: bytes.prefix(2048), as: UTF8.self)
        for marker in ["end_header\n", "DATA ascii\n", "DATA binary\n", "DATA binary_compressed\n"] {
            if let range = text.range(of: marker) { return text.utf8.distance(from: text.startIndex, to: range.upperBound) }
        }
        return min(bytes.count, 256)
    }
}
