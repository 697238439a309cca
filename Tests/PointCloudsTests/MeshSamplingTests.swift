import Foundation
import PointClouds
import Support
import Testing
import TestSupport

/// Meshes (OFF, OBJ, STL) of one box, 1 × 2 × 3, written here in each format: read as vertices they
/// give the corners; sampled, every point lies on a face and each face gets points in proportion to
/// its area.
@Suite struct MeshSamplingTests {
    static let size = SIMD3<Float>(1, 2, 3)
    static let corners: [SIMD3<Float>] = (0 ..< 8).map { i in
        SIMD3(i & 1 == 0 ? 0 : size.x, i & 2 == 0 ? 0 : size.y, i & 4 == 0 ? 0 : size.z)
    }
    /// The six faces as corner indices, each a quad: x = 0, x = 1, y = 0, y = 2, z = 0, z = 3.
    static let quads: [[Int]] = [[0, 2, 6, 4], [1, 3, 7, 5], [0, 1, 5, 4], [2, 3, 7, 6], [0, 1, 3, 2], [4, 5, 7, 6]]
    static let areas: [Double] = [6, 6, 3, 3, 2, 2]

    static func text(_ format: String) -> String {
        func f(_ p: SIMD3<Float>) -> String { "\(p.x) \(p.y) \(p.z)" }
        switch format {
        case "modelnet.off":  // ModelNet's quirk: the counts on the OFF line
            return "OFF8 6 0\n" + corners.map(f).joined(separator: "\n") + "\n" + quads.map { "4 " + $0.map(String.init).joined(separator: " ") }.joined(separator: "\n") + "\n"
        case "off":
            return "OFF\n# a box\n8 6 12\n" + corners.map(f).joined(separator: "\n") + "\n" + quads.map { "4 " + $0.map(String.init).joined(separator: " ") + " 255 0 0" }.joined(separator: "\n") + "\n"
        case "obj":  // quads as v/vt/vn, the last face with negative (relative) indices
            return "# box\no box\n" + corners.map { "v " + f($0) }.joined(separator: "\n") + "\nvn 0 0 1\nvt 0 0\n"
                + quads.dropLast().map { "f " + $0.map { "\($0 + 1)/1/1" }.joined(separator: " ") }.joined(separator: "\n")
                + "\nf " + quads.last!.map { String($0 - 8) }.joined(separator: " ") + "\n"
        default:  // ascii STL: two triangles a quad
            var s = "solid box\n"
            for q in quads {
                for t in [[q[0], q[1], q[2]], [q[0], q[2], q[3]]] {
                    s += "  facet normal 0 0 0\n    outer loop\n" + t.map { "      vertex " + f(corners[$0]) + "\n" }.joined() + "    endloop\n  endfacet\n"
                }
            }
            return s + "endsolid box\n"
        }
    }

    static func binarySTL() -> Data {
        var d = Data(count: 80)
        d.append(le: UInt32(12))
        for q in quads {
            for t in [[q[0], q[1], q[2]], [q[0], q[2], q[3]]] {
                for _ in 0 ..< 3 { d.append(le: Float(0)) }
                for c in t { for axis in 0 ..< 3 { d.append(le: corners[c][axis]) } }
                d.append(le: UInt16(0))
            }
        }
        return d
    }

    static func write(_ format: String, in dir: URL) throws -> String {
        let name = format == "modelnet.off" ? "box_modelnet.off" : format == "binary.stl" ? "box_binary.stl" : "box.\(format)"
        let path = dir.appendingPathComponent(name).path
        try (format == "binary.stl" ? binarySTL() : Data(text(format).utf8)).write(to: URL(fileURLWithPath: path))
        return path
    }

    static let formats = ["modelnet.off", "off", "obj", "stl", "binary.stl"]

    @Test(arguments: formats)
    func verticesAreTheCorners(format: String) throws {
        let path = try Self.write(format, in: TestPaths.scratch())
        let file = try PointCloudFile.read(path, options: CloudReadOptions(mesh: .vertices))
        #expect(Set(file.cloud.positions.map { [$0.x, $0.y, $0.z] }) == Set(Self.corners.map { [$0.x, $0.y, $0.z] }))
        // OFF and OBJ list each corner once; STL repeats it in every triangle.
        #expect(file.cloud.count == (format.hasSuffix("stl") ? 36 : 8))
        #expect(file.encoding == (format == "binary.stl" ? .binary : .ascii))
    }

    /// The face a point lies on (within float rounding), or nil.
    static func face(of p: SIMD3<Float>) -> Int? {
        let tolerance: Float = 1e-5
        for axis in 0 ..< 3 {
            for (side, plane) in [Float(0), size[axis]].enumerated() where abs(p[axis] - plane) <= tolerance {
                let others = (0 ..< 3).filter { $0 != axis }
                if others.allSatisfy({ p[$0] >= -tolerance && p[$0] <= size[$0] + tolerance }) { return 2 * axis + side }
            }
        }
        return nil
    }

    /// 11,000 points, seed 42: all on the surface, and Pearson's χ² of the face counts against the
    /// areas (6:6:3:3:2:2) below 20.52, its 0.1 % critical value with 5 degrees of freedom.
    @Test(arguments: formats)
    func samplesLieOnTheFacesInProportionToArea(format: String) throws {
        let path = try Self.write(format, in: TestPaths.scratch())
        let n = 11_000
        let cloud = try PointCloudFile.read(path, options: CloudReadOptions(mesh: .sample(points: n), meshSeed: 42)).cloud
        #expect(cloud.count == n)
        var counts = [Int](repeating: 0, count: 6), off = 0
        for p in cloud.positions {
            if let f = Self.face(of: p) { counts[f] += 1 } else { off += 1 }
        }
        #expect(off == 0, "\(off) points off the surface")
        let total = Self.areas.reduce(0, +)
        let chi2 = zip(counts, Self.areas).reduce(0.0) { sum, pair in
            let expected = Double(n) * pair.1 / total
            return sum + (Double(pair.0) - expected) * (Double(pair.0) - expected) / expected
        }
        #expect(chi2 < 20.52, "counts \(counts), χ² \(chi2)")
        // Each point carries its face's unit normal: along the axis of the face it lies on.
        let normals = ["normal_x", "normal_y", "normal_z"].map { cloud.field(named: $0)!.values }
        for (i, p) in cloud.positions.enumerated().prefix(500) {
            let axis = Self.face(of: p)! / 2
            #expect(abs(abs(normals[axis][i]) - 1) < 1e-6)
        }
    }

    /// The seed fixes the points; the default count is 2,048, or the model's when one reads the file.
    @Test func samplingIsSeededAndSizedForTheModel() throws {
        let path = try Self.write("off", in: TestPaths.scratch())
        let a = try PointCloudFile.read(path, options: CloudReadOptions()).cloud
        let b = try PointCloudFile.read(path, options: CloudReadOptions()).cloud
        let c = try PointCloudFile.read(path, options: CloudReadOptions(meshSeed: 1)).cloud
        #expect(a.count == 2048 && a == b && a.positions != c.positions)
        #expect(try PointCloudFile.read(path, options: CloudReadOptions(), modelPoints: 1024).cloud.count == 1024)
        #expect(try PointCloudFile.read(path, options: CloudReadOptions(mesh: .sample(points: 10)), modelPoints: 1024).cloud.count == 10)
    }
}
