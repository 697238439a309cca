import Support
import CPCL

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
        let xyz = cloud.interleavedXYZ(finite)
        var picked = [Int32](repeating: 0, count: target)
        var error = cpcl_error()
        guard cpcl_farthest_point_indices(xyz, finite.count, target, UInt32(truncatingIfNeeded: seed), &picked, &error) == 0 else {
            throw .invalidArgument(message(error))
        }
        return cloud.selecting(picked.map { finite[Int($0)] })
    }
}
