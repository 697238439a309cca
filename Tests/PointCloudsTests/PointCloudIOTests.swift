import Foundation
import PointClouds
import Support
import Testing
import TestSupport

@Suite struct PointCloudIOTests {
    /// A cloud with every kind of content a file can carry.
    static func richCloud(count: Int = 50) -> PointCloud {
        var rng = SeededGenerator(seed: 7)
        let positions = (0 ..< count).map { _ in
            SIMD3<Float>(.random(in: -2 ... 2, using: &rng), .random(in: -2 ... 2, using: &rng), .random(in: 0 ... 5, using: &rng))
        }
        let colors = (0 ..< count).map { i in PointCloud.Color(r: UInt8(i % 256), g: UInt8((3 * i) % 256), b: 200, a: 255) }
        return PointCloud(positions: positions, colors: colors, fields: [
            PointCloud.Field(name: "intensity", values: (0 ..< count).map { Float($0) * 0.25 }),
            PointCloud.Field(name: "scalar_saliency", values: (0 ..< count).map { sin(Float($0)) }),
        ])
    }

    @Test(arguments: [("pcd", PointCloudEncoding.ascii), ("pcd", .binary), ("pcd", .compressed), ("ply", .ascii), ("ply", .binary)])
    func writeThenReadKeepsEverything(ext: String, encoding: PointCloudEncoding) throws {
        let dir = TestPaths.scratch()
        let path = dir.appendingPathComponent("cloud.\(ext)").path
        let cloud = Self.richCloud()
        try cloud.write(to: path, encoding: encoding)
        let file = try PointCloudFile.read(path)
        #expect(file.encoding == encoding)
        #expect(file.cloud.positions == cloud.positions, "xyz must be bit-exact (9 significant digits in ascii)")
        #expect(file.cloud.colors?.map { [$0.r, $0.g, $0.b] } == cloud.colors?.map { [$0.r, $0.g, $0.b] })
        #expect(file.cloud.field(named: "intensity")?.values == cloud.field(named: "intensity")?.values)
        #expect(file.cloud.field(named: "scalar_saliency")?.values == cloud.field(named: "scalar_saliency")?.values)
    }

    @Test func pcdToPlyToPcdRoundTripIsExact() throws {
        let dir = TestPaths.scratch()
        let cloud = Self.richCloud(count: 300)
        let a = dir.appendingPathComponent("a.pcd").path, b = dir.appendingPathComponent("b.ply").path
        let c = dir.appendingPathComponent("c.pcd").path
        try cloud.write(to: a, encoding: .compressed)
        try PointCloud(contentsOf: a).write(to: b, encoding: .binary)
        try PointCloud(contentsOf: b).write(to: c, encoding: .binary)
        let back = try PointCloud(contentsOf: c)
        #expect(back.positions == cloud.positions)
        #expect(back.fields.map(\.name) == ["intensity", "scalar_saliency"])
        #expect(back.fields.map(\.values) == cloud.fields.map(\.values))
        #expect(back.colors?.map(\.packed).map { $0 & 0xFFFFFF } == cloud.colors?.map(\.packed).map { $0 & 0xFFFFFF })
    }

    @Test func organizedCloudWithNaNKeepsItsGrid() throws {
        let dir = TestPaths.scratch()
        let w = 4, h = 3
        var positions = (0 ..< w * h).map { SIMD3<Float>(Float($0), 1, 2) }
        positions[5] = SIMD3(.nan, .nan, .nan)
        positions[7].z = .infinity
        let cloud = PointCloud(positions: positions, width: w, height: h)
        for encoding in PointCloudEncoding.allCases {
            let path = dir.appendingPathComponent("org-\(encoding).pcd").path
            try cloud.write(to: path, encoding: encoding)
            let back = try PointCloud(contentsOf: path)
            #expect(back.width == w && back.height == h && back.isOrganized)
            #expect(back.count == 12 && back.finiteCount == 10)
            #expect(back.positions[5].x.isNaN && back.positions[7].z == .infinity)
        }
    }

    /// PLY variants written byte by byte: doubles and big-endian are the cases PCL has got wrong before.
    @Test func plyDoubleBigEndianAndMeshes() throws {
        let dir = TestPaths.scratch()
        let points: [SIMD3<Double>] = [SIMD3(0.1, -0.2, 0.3), SIMD3(1.5, 2.25, -3.125), SIMD3(1e-3, 7, 8)]
        func header(_ format: String, _ type: String, extra: String = "") -> String {
            "ply\nformat \(format) 1.0\nelement vertex 3\nproperty \(type) x\nproperty \(type) y\nproperty \(type) z\n\(extra)end_header\n"
        }
        var le = Data(header("binary_little_endian", "double").utf8)
        var be = Data(header("binary_big_endian", "double").utf8)
        var beFloat = Data(header("binary_big_endian", "float", extra: "property uchar red\nproperty uchar green\nproperty uchar blue\n").utf8)
        for p in points {
            for v in [p.x, p.y, p.z] { le.append(le: v); be.append(be: v); beFloat.append(be: Float(v)) }
            beFloat.append(contentsOf: [10, 20, 30])
        }
        let mesh = header("ascii", "double", extra: "element face 1\nproperty list uchar int vertex_indices\n")
            + points.map { "\($0.x) \($0.y) \($0.z)\n" }.joined() + "3 0 1 2\n"
        let files = ["le.ply": le, "be.ply": be, "befloat.ply": beFloat, "mesh.ply": Data(mesh.utf8)]
        for (name, data) in files {
            let path = dir.appendingPathComponent(name).path
            try data.write(to: URL(fileURLWithPath: path))
            let cloud = try PointCloud(contentsOf: path)
            #expect(cloud.positions == points.map { SIMD3<Float>($0) }, "\(name)")
        }
        let colored = try PointCloud(contentsOf: dir.appendingPathComponent("befloat.ply").path)
        #expect(colored.colors?.map { [$0.r, $0.g, $0.b] } == Array(repeating: [10, 20, 30], count: 3))
    }

    /// A LiDAR-style PCD: double coordinates, 8- and 16-bit unsigned fields, a 64-bit timestamp and a
    /// multi-component histogram; every field comes back as the numbers written.
    @Test func pcdWithMixedFieldTypes() throws {
        let path = TestPaths.scratch().appendingPathComponent("lidar.pcd").path
        let text = pcdHeader(points: 2, data: "ascii", fields: "x y z intensity ring t hist",
                             sizes: "8 8 8 1 2 8 4", types: "F F F U U I F", counts: "1 1 1 1 1 1 3")
            + "0.5 -1.25 3.0 200 7 1700000000 1 2 3\n-2.5 0.125 9.75 13 65535 -42 4 5 6\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let cloud = try PointCloud(contentsOf: path)
        #expect(cloud.positions == [SIMD3(0.5, -1.25, 3.0), SIMD3(-2.5, 0.125, 9.75)])
        #expect(cloud.field(named: "intensity")?.values == [200, 13])
        #expect(cloud.field(named: "ring")?.values == [7, 65535])
        #expect(cloud.field(named: "t")?.values == [1_700_000_000, -42])
        #expect(cloud.field(named: "hist")?.components == 3 && cloud.field(named: "hist")?.values == [1, 2, 3, 4, 5, 6])
    }

    @Test(.enabled(if: TestPaths.hasSharedData, "needs ../shared/data"),
          arguments: [("bunny.pcd", 397, 397, ["x", "y", "z"]), ("milk.pcd", 13704, 13704, ["x", "y", "z"]),
                      ("milk_color.pcd", 13704, 13704, ["x", "y", "z", "rgba"]),
                      ("car6.pcd", 10031, 10031, ["x", "y", "z"]), ("lamppost.pcd", 1771, 1771, ["x", "y", "z"]),
                      ("colored_cloud.pcd", 1000, 1000, ["x", "y", "z", "rgb", "normal_x", "normal_y", "normal_z", "curvature"]),
                      ("cube.ply", 24, 24, ["x", "y", "z"])])
    func pclSamplesHaveTheirCounts(name: String, valid: Int, total: Int, fields: [String]) throws {
        let cloud = try PointCloud(contentsOf: TestPaths.shared("pcl-samples/\(name)"))
        #expect(cloud.finiteCount == valid)
        #expect(cloud.count == total)
        #expect(cloud.fieldNames == fields)
    }

    /// The 640×480 organized stereo scene: its valid points are counted independently here, by decoding
    /// the file's LZF block in the test, not through PCL.
    @Test(.enabled(if: TestPaths.hasSharedData, "needs ../shared/data"))
    func organizedTableSceneCountsValidPoints() throws {
        let path = TestPaths.shared("pcl-samples/table_scene_mug_stereo_textured.pcd")
        let cloud = try PointCloud(contentsOf: path)
        #expect(cloud.width == 640 && cloud.height == 480 && cloud.count == 307_200)
        let independent = try IndependentPCD.finiteCount(compressedFile: path, points: 307_200)
        #expect(cloud.finiteCount == independent)
        #expect(independent > 100_000 && independent < 307_200)
    }

    @Test func missingAndBadFilesThrowTheRightKind() throws {
        let dir = TestPaths.scratch()
        #expect(throws: PointCloudError.unreadable(path: "/no/such.pcd", reason: "No such file or directory")) {
            try PointCloud(contentsOf: "/no/such.pcd")
        }
        let junk = dir.appendingPathComponent("junk.pcd").path
        try Data("hello world\n".utf8).write(to: URL(fileURLWithPath: junk))
        #expect { try PointCloud(contentsOf: junk) } throws: { error in
            guard case .invalid(let path, _) = error as? PointCloudError else { return false }
            return path == junk
        }
        #expect { try PointCloud(positions: [.zero]).write(to: "/no/such/dir/out.pcd") } throws: { error in
            guard case .unwritable = error as? PointCloudError else { return false }
            return true
        }
    }
}

/// `CloudDescription` on a file whose figures are known by hand.
@Suite struct CloudDescriptionTests {
    @Test func countsBoundsAndCentroidCoverTheValidPointsOnly() throws {
        let path = TestPaths.scratch().appendingPathComponent("four.pcd").path
        let positions: [SIMD3<Float>] = [[1, -2, 3], [-1, 4, 0.5], [.nan, 0, 0], [3, 0, -1.5], [0, .infinity, 9]]
        try PointCloud(positions: positions).write(to: path, encoding: .ascii)
        let d = try CloudDescription(contentsOf: path)
        #expect(d.path == path && d.format == .pcd && d.encoding == .ascii)
        #expect(d.points == 3 && d.totalPoints == 5)
        #expect(d.boundsMin == [-1, -2, -1.5] && d.boundsMax == [3, 4, 3])
        #expect(d.centroid == SIMD3<Float>(1, Float(2.0 / 3), Float(2.0 / 3)))
        #expect(!d.isOrganized && d.fields == ["x", "y", "z"])
    }

    @Test func aCloudWithoutValidPointsIsInvalidInput() throws {
        let path = TestPaths.scratch().appendingPathComponent("holes.pcd").path
        try PointCloud(positions: [[.nan, 0, 0], [0, 0, .infinity]]).write(to: path, encoding: .ascii)
        #expect(throws: PointCloudError.self) { try CloudDescription(contentsOf: path) }
    }
}
