import Foundation
import CPCLInterface
@testable import PointClouds
import Support
import Testing
import TestSupport

/// pcdiag's farthest point sampling picks what PCL's `FarthestPointSampling` picks, seed for seed: the
/// bridge keeps PCL's as the reference.
@Suite struct FarthestPointSamplingTests {
    static func pclPicks(_ cloud: PointCloud, _ count: Int, seed: UInt64) throws -> [Int] {
        var picked = [Int32](repeating: 0, count: count)
        var error = cpcl_error()
        let status = try PCLBridge.api().farthest_point_indices(cloud.interleavedXYZ(Array(cloud.positions.indices)), cloud.count, count,
                                                                UInt32(truncatingIfNeeded: seed), &picked, &error)
        #expect(status == 0)
        return picked.map(Int.init)
    }

    static let cases: [(Int, Int, UInt64)] = [(2000, 64, 11), (1025, 1024, 0), (5000, 1024, 0xFFFF_FFFF_1234), (3, 2, 7), (10, 1, 99)]

    @Test(arguments: cases)
    func picksWhatPCLPicks(points: Int, count: Int, seed: UInt64) throws {
        var rng = SeededGenerator(seed: UInt64(points))
        // Clustered, with repeated points and equal distances, so ties occur.
        let positions = (0 ..< points).map { i -> SIMD3<Float> in
            i % 7 == 0 ? SIMD3(1, 1, 1) : SIMD3(.random(in: -1 ... 1, using: &rng), .random(in: 0 ... 3e-3, using: &rng), Float(i % 5))
        }
        let cloud = PointCloud(positions: positions)
        #expect(try cloud.farthestPointIndices(count, seed: seed) == (try Self.pclPicks(cloud, count, seed: seed)))
    }

    @Test(.enabled(if: TestPaths.hasSharedData, "needs ../shared/data"))
    func picksWhatPCLPicksOnRealScans() throws {
        for name in ["pcl-samples/car6.pcd", "pcl-samples/milk.pcd", "mosd/learn0.pcd"] {
            let full = try PointCloud(contentsOf: TestPaths.shared(name))
            let finite = full.selecting(full.positions.indices.filter { full.positions[$0].isFinite })
            for seed in [UInt64(0), 42] {
                #expect(try finite.farthestPointIndices(1024, seed: seed) == (try Self.pclPicks(finite, 1024, seed: seed)), "\(name)")
            }
        }
    }

    /// std::mt19937's 10,000th draw from the default seed (5489) is 4123659995 (the C++ standard's check).
    @Test func theGeneratorIsTheStandardOne() {
        var generator = MersenneTwister(seed: 5489)
        for _ in 1 ..< 10_000 { _ = generator.next() }
        #expect(generator.next() == 4_123_659_995)
    }
}
