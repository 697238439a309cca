import Support

/// Resampling a cloud to a fixed number of points.
enum Sampling {
    /// More points than `target`: farthest point sampling (PCL's picks), which keeps the shape's extent.
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
    /// number) picked by farthest point sampling from a seeded random start: indices into the cloud.
    ///
    /// The same picks as PCL's `FarthestPointSampling` (1.13) with the same seed, computed here so that
    /// resampling a cloud does not load PCL: the start drawn by `std::mt19937` through libstdc++'s
    /// `uniform_int_distribution`, distances as Eigen's `(p − q).norm()` evaluates them in float
    /// (x² + (y² + z²), then the square root), ties to the lowest index. O(n · count).
    public func farthestPointIndices(_ count: Int, among: [Int]? = nil, seed: UInt64) throws(PointCloudError) -> [Int] {
        let candidates = among ?? Array(positions.indices)
        guard count >= 0, count <= candidates.count else {
            throw .invalidArgument("cannot pick \(count) of \(candidates.count) points")
        }
        if count == 0 { return [] }
        let n = candidates.count
        // PCL returns every index, in order, when asked for all of them.
        if count == n { return candidates }
        guard n <= Int(Int32.max) else { throw .invalidArgument("too many points for farthest point sampling") }
        let points = candidates.map { positions[$0] }
        var generator = MersenneTwister(seed: UInt32(truncatingIfNeeded: seed))
        // Picked points are marked with −1, below every distance.
        var distance = [Float](repeating: .greatestFiniteMagnitude, count: n)
        var current = generator.uniform(below: UInt32(n))
        distance[current] = -1
        var picked = [current]
        picked.reserveCapacity(count)
        points.withUnsafeBufferPointer { points in
            distance.withUnsafeMutableBufferPointer { distance in
                for _ in 1 ..< count {
                    let p = points[current]
                    var next = 0
                    for i in 0 ..< n where distance[i] != -1 {
                        let d = points[i] - p
                        let norm = (d.x * d.x + (d.y * d.y + d.z * d.z)).squareRoot()
                        if norm < distance[i] { distance[i] = norm }
                        if distance[i] > distance[next] { next = i }
                    }
                    current = next
                    distance[current] = -1
                    picked.append(current)
                }
            }
        }
        return picked.map { candidates[$0] }
    }
}

/// std::mt19937, the 32-bit Mersenne Twister (Matsumoto and Nishimura, 1998) with the C++ standard's
/// parameters and seeding, and libstdc++'s (GCC 12) draw of an integer in a range from it.
struct MersenneTwister {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    init(seed: UInt32) {
        state[0] = seed
        for i in 1 ..< 624 { state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i) }
    }

    mutating func next() -> UInt32 {
        if index == 624 {
            for i in 0 ..< 624 {
                let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7FFF_FFFF)
                state[i] = state[(i + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_B0DF)
            }
            index = 0
        }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        return y ^ (y >> 18)
    }

    /// `uniform_int_distribution(0, range − 1)` as libstdc++ 12 draws it from a 32-bit generator:
    /// Lemire's multiply-and-reject (the high word of draw × range, redrawn while the low word falls in
    /// the biased sliver).
    mutating func uniform(below range: UInt32) -> Int {
        var product = UInt64(next()) * UInt64(range)
        if UInt32(truncatingIfNeeded: product) < range {
            let threshold = (0 &- range) % range
            while UInt32(truncatingIfNeeded: product) < threshold { product = UInt64(next()) * UInt64(range) }
        }
        return Int(product >> 32)
    }
}
