import Foundation
import Support

/// The unit-sphere frame of a cloud: centred on the centroid (in Double), scaled so the farthest point
/// lies at distance 1. A cloud of one repeated point has no size: its radius is taken as 1.
struct UnitFrame {
    let centre: SIMD3<Double>
    let radius: Double

    init(_ points: [SIMD3<Float>]) {
        var sum = SIMD3<Double>.zero
        for p in points { sum += SIMD3<Double>(p) }
        let centre = sum / Double(max(points.count, 1))
        var farthest = 0.0
        for p in points {
            let d = SIMD3<Double>(p) - centre
            farthest = max(farthest, (d * d).sum())
        }
        self.centre = centre
        radius = farthest > 0 && farthest.isFinite ? farthest.squareRoot() : 1
    }

    func toUnit(_ p: SIMD3<Float>) -> SIMD3<Float> { SIMD3<Float>((SIMD3<Double>(p) - centre) / radius) }
    func fromUnit(_ u: SIMD3<Float>) -> SIMD3<Float> { SIMD3<Float>(centre + SIMD3<Double>(u) * radius) }
}

extension SIMD3 where Scalar == Float {
    func dot(_ other: SIMD3<Float>) -> Float { (self * other).sum() }
    func cross(_ b: SIMD3<Float>) -> SIMD3<Float> { SIMD3(y * b.z - z * b.y, z * b.x - x * b.z, x * b.y - y * b.x) }
    var lengthSquared: Float { (self * self).sum() }
    var length: Float { lengthSquared.squareRoot() }
}

/// Seeded draws the corruptions share.
enum Random {
    /// A direction uniform on the unit sphere.
    static func unitVector(_ rng: inout SeededGenerator) -> SIMD3<Float> {
        let z = Float.random(in: -1 ... 1, using: &rng)
        let azimuth = Float.random(in: 0 ..< 2 * .pi, using: &rng)
        let r = max(1 - z * z, 0).squareRoot()
        return SIMD3(r * cos(azimuth), r * sin(azimuth), z)
    }

    /// A point uniform in the unit ball (radius U^(1/3), uniform direction), as ModelNet-C draws it.
    static func inUnitBall(_ rng: inout SeededGenerator) -> SIMD3<Float> {
        let radius = Float.random(in: 0 ... 1, using: &rng)
        return Foundation.cbrt(radius) * unitVector(&rng)
    }
}

/// Points bucketed in cubes, for nearest-neighbour queries: a query searches shells of cubes outward
/// until no unsearched cube can hold a nearer point. Building is O(n); a query near the cloud touches
/// a few cubes.
struct PointGrid {
    let points: [SIMD3<Float>]
    let cell: Float
    private let origin: SIMD3<Float>
    private var buckets: [SIMD3<Int32>: [Int32]] = [:]
    private var low = SIMD3<Int32>(repeating: .max), high = SIMD3<Int32>(repeating: .min)

    /// Cubes of about two points each in a volume, one in a plane or on a line — whichever is largest,
    /// so that a flat or thin cloud is not cut into needlessly many cubes.
    init(_ points: [SIMD3<Float>]) {
        self.points = points
        var lo = points.first ?? .zero, hi = lo
        for p in points {
            lo = pointwiseMin(lo, p)
            hi = pointwiseMax(hi, p)
        }
        let extent = pointwiseMax(hi - lo, SIMD3(repeating: 1e-6))
        let sides = [Double(extent.x), Double(extent.y), Double(extent.z)].sorted(by: >)
        let n = Double(max(points.count, 1))
        cell = Float(max(Foundation.cbrt(2 * sides[0] * sides[1] * sides[2] / n), (sides[0] * sides[1] / n).squareRoot(), sides[0] / n))
        origin = lo
        for (i, p) in points.enumerated() {
            let key = self.key(p)
            buckets[key, default: []].append(Int32(i))
            low = pointwiseMin(low, key)
            high = pointwiseMax(high, key)
        }
    }

    private func key(_ p: SIMD3<Float>) -> SIMD3<Int32> {
        let c = ((p - origin) / cell).rounded(.down)
        return SIMD3(Int32(clamping: Int(max(min(c.x, 1e9), -1e9))), Int32(clamping: Int(max(min(c.y, 1e9), -1e9))),
                     Int32(clamping: Int(max(min(c.z, 1e9), -1e9))))
    }

    /// The `count` points nearest `q` (fewer if the cloud has fewer), nearest first, leaving out the
    /// point at index `skipping`.
    func nearest(to q: SIMD3<Float>, count: Int, skipping: Int? = nil) -> [(index: Int, distance: Float)] {
        guard !points.isEmpty else { return [] }
        var best = [(index: Int, distanceSquared: Float)]()
        let centre = key(q)
        // Shells that miss the occupied box are skipped: start at the box, stop past its far side.
        let first = pointwiseMax(pointwiseMax(low &- centre, centre &- high), .zero).max()
        let last = max((centre &- low).max(), (high &- centre).max())
        var shell = first
        while shell <= last {
            visitShell(centre, shell) { indices in
                for i32 in indices {
                    let i = Int(i32)
                    if i == skipping { continue }
                    let d = (points[i] - q).lengthSquared
                    if best.count < count || d < best[best.count - 1].distanceSquared {
                        let at = best.firstIndex { $0.distanceSquared > d } ?? best.count
                        best.insert((i, d), at: at)
                        if best.count > count { best.removeLast() }
                    }
                }
            }
            // Every point beyond this shell is at least `shell` cubes away.
            if best.count == count, let worst = best.last, worst.distanceSquared <= (Float(shell) * cell) * (Float(shell) * cell) { break }
            shell += 1
        }
        return best.map { ($0.index, $0.distanceSquared.squareRoot()) }
    }

    /// Calls `body` with the points of every occupied cube at Chebyshev distance `r` from `c`.
    private func visitShell(_ c: SIMD3<Int32>, _ r: Int32, _ body: ([Int32]) -> Void) {
        // The shell's offsets, clipped to the occupied box.
        let from = pointwiseMax(SIMD3(repeating: -r), low &- c), to = pointwiseMin(SIMD3(repeating: r), high &- c)
        guard from.x <= to.x, from.y <= to.y, from.z <= to.z else { return }
        for dx in from.x ... to.x {
            for dy in from.y ... to.y {
                let onFace = abs(dx) == r || abs(dy) == r
                for dz in stride(from: from.z, through: to.z, by: 1) where onFace || abs(dz) == r {
                    if let indices = buckets[c &+ SIMD3(dx, dy, dz)] { body(indices) }
                }
            }
        }
    }

    /// A typical distance between neighbouring points of a surface cloud: the median distance to the
    /// 8th nearest neighbour × √(π/8) — the side of the square each point would own on an evenly
    /// sampled surface. Zero for fewer than 9 points.
    func typicalSpacing() -> Float {
        medianNeighbourDistance(k: 8) * (Float.pi / 8).squareRoot()
    }

    /// The median distance to the `k`-th nearest neighbour over up to 256 evenly spread points; zero
    /// for `k` or fewer points.
    func medianNeighbourDistance(k: Int) -> Float {
        guard points.count > k else { return 0 }
        return Self.medianOverSpreadPoints(points.count) { nearest(to: points[$0], count: k, skipping: $0).last?.distance ?? 0 }
    }

    /// The median of `value` over up to 256 evenly spread indices of `count` (at least one).
    static func medianOverSpreadPoints(_ count: Int, _ value: (Int) -> Float) -> Float {
        var values = stride(from: 0, to: count, by: max(1, count / 256)).map(value)
        values.sort()
        return values[values.count / 2]
    }
}
