import Foundation
import PointClouds
import Support

/// DefRec's deformation (Achituve et al. 2021): split the cube [−1, 1]³ that holds a normalised cloud
/// into a 3×3×3 grid, pick a random cell with at least 40 points (the fullest cell when none has), and
/// replace its points by draws from a Gaussian at the cell's centre (variance 0.001). The network then
/// learns to put them back.
public struct RegionDeformation: Sendable, Equatable {
    public var cellsPerAxis = 3
    public var minimumPoints = 40
    public var variance = 0.001

    public init() {}

    /// Deforms the `n` points stored xyz-interleaved at `p` in place; returns the indices it replaced.
    public func apply(_ p: UnsafeMutablePointer<Float>, count n: Int, using rng: inout SeededGenerator) -> [Int] {
        let m = cellsPerAxis
        func cell(_ v: Float) -> Int { min(max(Int(((v + 1) / 2 * Float(m)).rounded(.down)), 0), m - 1) }
        var members = [[Int]](repeating: [], count: m * m * m)
        for i in 0 ..< n { members[(cell(p[3 * i]) * m + cell(p[3 * i + 1])) * m + cell(p[3 * i + 2])].append(i) }
        let order = members.indices.shuffled(using: &rng)
        let region = order.first { members[$0].count >= minimumPoints } ?? order.max { members[$0].count < members[$1].count }!
        let indices = [region / (m * m), region / m % m, region % m]
        let centre = SIMD3(indices.map { -1 + (Float($0) + 0.5) * 2 / Float(m) })
        let sigma = Float(variance.squareRoot())
        for i in members[region] {
            let v = centre + sigma * rng.gaussian3()
            p[3 * i] = v.x; p[3 * i + 1] = v.y; p[3 * i + 2] = v.z
        }
        return members[region]
    }
}

/// Rotation prediction (GAST, Zou et al. 2021): the cloud turned by k quarter turns about the
/// horizontal x axis, k ∈ 0…3 the label. About x rather than the up axis, so the task asks which way
/// is up — which an upright object answers and a square table's symmetry does not spoil.
public enum QuarterTurn {
    public static func apply(_ p: UnsafeMutablePointer<Float>, count n: Int, turns k: Int) {
        for i in 0 ..< n {
            let (y, z) = (p[3 * i + 1], p[3 * i + 2])
            switch k & 3 {
            case 1: p[3 * i + 1] = -z; p[3 * i + 2] = y
            case 2: p[3 * i + 1] = -y; p[3 * i + 2] = -z
            case 3: p[3 * i + 1] = z; p[3 * i + 2] = -y
            default: break
            }
        }
    }
}

/// PCM, point cloud mixup (Achituve et al. 2021): ⌊λ n⌉ points of cloud a and the rest of cloud b,
/// each part chosen by farthest point sampling so it still covers its shape; the label is mixed with
/// the share each cloud actually got.
public enum PointCloudMixup {
    /// Mixes two clouds of `n` points each (xyz-interleaved); returns the mixed points and a's share.
    public static func mix(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>, lambda: Double, seed: UInt64) -> (points: [Float], share: Double) {
        let n = a.count / 3
        precondition(b.count == a.count && n > 0, "mixup needs two clouds of the same size")
        let fromA = min(max(Int((lambda * Double(n)).rounded()), 0), n)
        func pick(_ xyz: ArraySlice<Float>, _ count: Int, _ seed: UInt64) -> [Float] {
            let cloud = PointCloud(positions: stride(from: xyz.startIndex, to: xyz.endIndex, by: 3).map { SIMD3(xyz[$0], xyz[$0 + 1], xyz[$0 + 2]) })
            // Prepared clouds are finite and count ≤ n, the only ways farthest point sampling can fail.
            let picked = (try? cloud.farthestPointIndices(count, seed: seed)) ?? Array(0 ..< count)
            return picked.flatMap { [cloud.positions[$0].x, cloud.positions[$0].y, cloud.positions[$0].z] }
        }
        return (pick(a, fromA, seed) + pick(b, n - fromA, seed &+ 1), Double(fromA) / Double(n))
    }
}
