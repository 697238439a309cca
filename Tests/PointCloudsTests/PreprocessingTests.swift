import Foundation
import PointClouds
import Support
import Testing
import TestSupport

@Suite struct PreprocessingTests {
    static func randomCloud(_ n: Int, seed: UInt64 = 1, scale: Float = 1, offset: SIMD3<Float> = .zero) -> PointCloud {
        var rng = SeededGenerator(seed: seed)
        return PointCloud(positions: (0 ..< n).map { _ in
            offset + scale * SIMD3(.random(in: -1 ... 1, using: &rng), .random(in: -1 ... 1, using: &rng), .random(in: -1 ... 1, using: &rng))
        })
    }

    static func distance(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> Float { ((a - b) * (a - b)).sum().squareRoot() }

    @Test func removeNonFiniteDropsExactlyTheBadPoints() throws {
        var cloud = Self.randomCloud(20)
        cloud.positions[3].x = .nan
        cloud.positions[9].z = -.infinity
        cloud.setField("intensity", values: (0 ..< 20).map(Float.init))
        let out = try PreprocessStep.removeNonFinite.apply(to: cloud)
        #expect(out.count == 18)
        #expect(out.field(named: "intensity")?.values == (0 ..< 20).filter { $0 != 3 && $0 != 9 }.map(Float.init))
    }

    @Test func normalizeCentresAndScalesToTheUnitSphere() throws {
        let cloud = Self.randomCloud(500, scale: 7, offset: SIMD3(100, -40, 3))
        let out = try PreprocessStep.normalize.apply(to: cloud)
        var sum = SIMD3<Double>.zero
        for p in out.positions { sum += SIMD3<Double>(p) }
        let centroid = sum / Double(out.count)
        #expect(abs(centroid.x) < 1e-5 && abs(centroid.y) < 1e-5 && abs(centroid.z) < 1e-5)
        let radius = out.positions.map { ($0 * $0).sum().squareRoot() }.max()!
        #expect(abs(radius - 1) < 1e-6)
    }

    @Test func normalizeLeavesAOnePointCloudCentredAndUnscaled() throws {
        let out = try PreprocessStep.normalize.apply(to: PointCloud(positions: [SIMD3(5, 5, 5), SIMD3(5, 5, 5)]))
        #expect(out.positions == [.zero, .zero])
    }

    /// PCL's farthest point sampling against a plain greedy implementation started from the same point.
    @Test func farthestPointSamplingMatchesAGreedyReference() throws {
        let cloud = Self.randomCloud(2000, seed: 3)
        let out = try PreprocessStep.sample(points: 64, seed: 11).apply(to: cloud)
        #expect(out.count == 64)
        let first = try #require(cloud.positions.firstIndex(of: out.positions[0]))
        var chosen = [first]
        var nearest = cloud.positions.map { Self.distance($0, cloud.positions[first]) }
        while chosen.count < 64 {
            let next = nearest.indices.max { nearest[$0] < nearest[$1] }!
            chosen.append(next)
            for i in nearest.indices { nearest[i] = min(nearest[i], Self.distance(cloud.positions[i], cloud.positions[next])) }
        }
        #expect(out.positions == chosen.map { cloud.positions[$0] })
        let again = try PreprocessStep.sample(points: 64, seed: 11).apply(to: cloud)
        #expect(again == out, "same seed, same sample")
    }

    @Test func upsamplingKeepsEveryPointAndIsSeeded() throws {
        let cloud = Self.randomCloud(100)
        let a = try PreprocessStep.sample(points: 1024, seed: 5).apply(to: cloud)
        let b = try PreprocessStep.sample(points: 1024, seed: 5).apply(to: cloud)
        let c = try PreprocessStep.sample(points: 1024, seed: 6).apply(to: cloud)
        #expect(a.count == 1024)
        #expect(Set(cloud.positions.map { [$0.x, $0.y, $0.z] }) == Set(a.positions.map { [$0.x, $0.y, $0.z] }))
        #expect(a == b)
        #expect(a != c)
    }

    /// Voxel grid against an independent binning: same number of cells, each output the mean of its cell.
    @Test func voxelGridAveragesEachOccupiedCell() throws {
        let cloud = Self.randomCloud(3000, seed: 9)
        let leaf: Float = 0.25
        let out = try PreprocessStep.voxelGrid(size: leaf).apply(to: cloud)
        var cells = [SIMD3<Int32>: (sum: SIMD3<Double>, n: Int)]()
        for p in cloud.positions {
            let key = SIMD3<Int32>((p * (1 / leaf)).rounded(.down))  // PCL's cells sit on multiples of the leaf
            cells[key, default: (.zero, 0)].sum += SIMD3<Double>(p)
            cells[key, default: (.zero, 0)].n += 1
        }
        #expect(out.count == cells.count)
        let means = cells.values.map { SIMD3<Float>($0.sum / Double($0.n)) }
        for p in out.positions {
            #expect(means.contains { Self.distance($0, p) < 1e-5 }, "\(p) is not a cell mean")
        }
    }

    @Test func voxelGridRefusesASizeThatWouldOverflow() {
        let cloud = Self.randomCloud(100, scale: 1000)
        #expect(throws: PointCloudError.self) { try PreprocessStep.voxelGrid(size: 1e-6).apply(to: cloud) }
    }

    /// Statistical outlier removal against a brute-force computation of PCL's rule: mean distance to the
    /// k nearest other points above mean + m·σ (σ the sample deviation) is an outlier.
    @Test func outlierRemovalFollowsTheStatisticalRule() throws {
        var cloud = Self.randomCloud(400, seed: 4)
        cloud.positions += [SIMD3(9, 9, 9), SIMD3(-8, 7, 0), SIMD3(0, 0, 12)]
        let k = 8, m = 1.0
        let out = try PreprocessStep.removeOutliers(neighbours: k, stddev: m).apply(to: cloud)
        let pts = cloud.positions
        let meanDistances: [Double] = pts.indices.map { i in
            let d = pts.indices.filter { $0 != i }.map { Double(Self.distance(pts[i], pts[$0])) }.sorted()
            return d.prefix(k).reduce(0, +) / Double(k)
        }
        let mean = meanDistances.reduce(0, +) / Double(pts.count)
        let variance = meanDistances.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(pts.count - 1)
        let threshold = mean + m * variance.squareRoot()
        let expected = pts.indices.filter { meanDistances[$0] <= threshold }.map { pts[$0] }
        #expect(!out.positions.contains(SIMD3(9, 9, 9)))
        #expect(out.positions == expected)
    }

    @Test func upAxisIsAProperRotationThatLiftsTheGivenAxis() throws {
        for axis in PreprocessStep.Axis.allCases {
            var unit = SIMD3<Float>.zero
            unit[["x", "y", "z"].firstIndex(of: axis.rawValue)!] = 1
            let basis = PointCloud(positions: [SIMD3(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, 1), unit])
            let r = try PreprocessStep.upAxis(from: axis).apply(to: basis).positions
            #expect(r[3] == SIMD3(0, 0, 1))
            let det = r[0].x * (r[1].y * r[2].z - r[1].z * r[2].y) - r[0].y * (r[1].x * r[2].z - r[1].z * r[2].x)
                + r[0].z * (r[1].x * r[2].y - r[1].y * r[2].x)
            #expect(det == 1)
        }
    }

    @Test func pipelineIsCodableAndReportsEachStep() throws {
        let pipeline = Preprocessing(steps: [.removeNonFinite, .removeOutliers(neighbours: 10, stddev: 2),
                                             .voxelGrid(size: 0.05), .upAxis(from: .y), .normalize, .sample(points: 256, seed: 3)])
        let decoded = try JSONDecoder().decode(Preprocessing.self, from: JSONEncoder().encode(pipeline))
        #expect(decoded == pipeline)
        var cloud = Self.randomCloud(2000, seed: 8, scale: 3)
        cloud.positions[0] = SIMD3(.nan, 0, 0)
        let prepared = try Preprocessing.standard(points: 512).apply(to: cloud)
        #expect(prepared.cloud.count == 512)
        #expect(prepared.trace.map(\.pointsAfter) == [1999, 1999, 512])
    }

    @Test func aCloudWithNoValidPointsIsAnErrorNamingTheFile() {
        let cloud = PointCloud(positions: [SIMD3(.nan, 0, 0), SIMD3(0, .infinity, 0)])
        #expect { try Preprocessing.standard().apply(to: cloud, path: "scan.pcd") } throws: { error in
            guard case .invalid(let path, _) = error as? PointCloudError else { return false }
            return path == "scan.pcd"
        }
    }
}
