import Foundation
import Support

/// The floor a depth scan of a standing object picks up around it. Left in, it is often wider than the
/// object, so centring and scaling to the unit sphere shrink the object to a fraction of the sphere.
///
/// The floor is the *lowest* near-horizontal plane (z up) with nothing under it — not the largest, which
/// is what PCL's perpendicular-plane segmentation finds (a table top or a bed would win there). So a
/// seeded RANSAC over the lowest quarter of the cloud's height scores each plane within `maxTilt` of
/// horizontal by its points within `thickness` (× the median nearest-neighbour distance), refusing
/// planes with more than 1 % of the points below them.
public struct FloorRemoval: Sendable, Equatable {
    /// Degrees a floor may lean from horizontal (the sensor's pose is not exactly known).
    public var maxTilt: Double
    /// Half-thickness of the floor, in median nearest-neighbour distances (range noise thickens it).
    public var thickness: Double

    /// A plane smaller than this share of the points is not taken for a floor (it is an object's
    /// lowest edge: chair feet, a lamp's base rim).
    static let minimumShare = 0.03
    static let maximumShareBelow = 0.01
    /// A removal that would leave less than this share is refused: the cloud is mostly flat and the
    /// "floor" is the object.
    static let minimumShareLeft = 0.1
    static let trials = 400

    public init(maxTilt: Double = 15, thickness: Double = 2) {
        self.maxTilt = maxTilt
        self.thickness = thickness
    }

    public var step: PreprocessStep { .removeFloor(maxTilt: maxTilt, thickness: thickness) }

    /// Indices of the points to keep: all of them when no floor is found.
    public func keptIndices(_ points: [SIMD3<Float>]) -> [Int] {
        let all = Array(points.indices)
        guard points.count >= 16, let (normal, offset, tolerance) = floor(points) else { return all }
        let kept = all.filter { normal.dot(points[$0]) - offset >= tolerance }
        return Double(kept.count) >= Self.minimumShareLeft * Double(points.count) ? kept : all
    }

    /// The median distance from a point to its nearest neighbour (over up to 256 evenly spread points).
    /// A scan of a few thousand points is searched directly: faster than building a grid for it.
    static func medianNearestDistance(_ points: [SIMD3<Float>]) -> Float {
        guard points.count <= 8192 else { return PointGrid(points).medianNeighbourDistance(k: 1) }
        guard points.count > 1 else { return 0 }
        return PointGrid.medianOverSpreadPoints(points.count) { i in
            var nearest = Float.infinity
            for (j, p) in points.enumerated() where j != i { nearest = min(nearest, (p - points[i]).lengthSquared) }
            return nearest.squareRoot()
        }
    }

    /// The floor's unit normal (pointing up), its offset (normal · p on the plane) and the tolerance.
    func floor(_ points: [SIMD3<Float>]) -> (SIMD3<Float>, Float, Float)? {
        let tolerance = Float(thickness) * Self.medianNearestDistance(points)
        guard tolerance > 0 else { return nil }
        var low = Float.infinity, high = -Float.infinity
        for p in points { low = min(low, p.z); high = max(high, p.z) }
        let bottom = points.filter { $0.z <= low + 0.25 * (high - low) }
        guard bottom.count >= 3 else { return nil }
        let minimumZ = Float(cos(maxTilt * .pi / 180))
        // Planes are scored on at most 4,096 evenly spread points: a large scan costs no more.
        let scored = stride(from: 0, to: points.count, by: max(1, points.count / 4096)).map { points[$0] }
        let allowedBelow = Int(Self.maximumShareBelow * Double(scored.count))
        var rng = SeededGenerator(seed: FNV1a.hash(points))
        var best: (inliers: Int, normal: SIMD3<Float>, offset: Float)?
        for _ in 0 ..< Self.trials {
            let a = bottom.randomElement(using: &rng)!, b = bottom.randomElement(using: &rng)!, c = bottom.randomElement(using: &rng)!
            let cross = (b - a).cross(c - a)
            guard cross.length > 0 else { continue }
            var normal = cross / cross.length
            if normal.z < 0 { normal = -normal }
            guard normal.z >= minimumZ else { continue }
            let offset = normal.dot(a)
            var inliers = 0, below = 0
            for p in scored {
                let d = normal.dot(p) - offset
                if d < -tolerance { below += 1 } else if d < tolerance { inliers += 1 }
            }
            if below <= allowedBelow, inliers > best?.inliers ?? 0 { best = (inliers, normal, offset) }
        }
        guard let best, Double(best.inliers) >= Self.minimumShare * Double(scored.count) else { return nil }
        return (best.normal, best.offset, tolerance)
    }
}
