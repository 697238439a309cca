import Support
import CPCLInterface

/// Resampling a cloud to a fixed number of points.
enum Sampling {
    /// More points than `target`: PCL farthest point sampling, which keeps the shape's extent.
    /// Fewer: every point once, then random repeats (seeded), so no measured point is lost.
    /// Non-finite points are dropped first; O(n · target) for farthest point sampling.
    static func resample(_ cloud: PointCloud, to target: Int, seed: UInt64) throws(PointCloudError) -> PointCloud {
        let finite = cloud.positions.indices.filter { cloud.positions[$0].isFinite }
        guard !finite.isEmpty else { throw .invalidArgument("the cloud has no valid points to sample") }
        if finite.count == target { return cloud.selecting(finite) }
        if finite.count < target {
            var rng = SeededGenerator(seed: seed)
            let extra = (0 ..< target - finite.count).map { _ in finite[Int.random(in: 0 ..< finite.count, using: &rng)] }
            return cloud.selecting(finite + extra)
        }
        return cloud.selecting(try cloud.farthestPointIndices(target, among: finite, seed: seed))
    }
}

extension PointCloud {
    /// `count` of the points at `among` (default: all; every one must be finite, and count ≤ their
    /// number) picked by PCL's farthest point sampling from a seeded random start: indices into the cloud.
    public func farthestPointIndices(_ count: Int, among: [Int]? = nil, seed: UInt64) throws(PointCloudError) -> [Int] {
        let candidates = among ?? Array(positions.indices)
        guard count >= 0, count <= candidates.count else {
            throw .invalidArgument("cannot pick \(count) of \(candidates.count) points")
        }
        if count == 0 { return [] }
        let xyz = interleavedXYZ(candidates)
        var picked = [Int32](repeating: 0, count: count)
        var error = cpcl_error()
        guard try PCLBridge.api().farthest_point_indices(xyz, candidates.count, count, UInt32(truncatingIfNeeded: seed), &picked, &error) == 0 else {
            throw .invalidArgument(message(error))
        }
        return picked.map { candidates[Int($0)] }
    }
}
