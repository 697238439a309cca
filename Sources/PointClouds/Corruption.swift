import Foundation
import Support

/// A seeded corruption of a point cloud, at a severity from 1 (mild) to 5 (harsh): what a robustness
/// set is made of.
///
/// The first seven kinds are those of ModelNet-C (Ren, Kong, Chen, "Benchmarking and Analyzing Point
/// Cloud Classification under Corruptions", 2022) with the paper's parameters per severity (the tables
/// below; their severity levels 0…4 are our 1…5). The last three — `occlusion`, `lidar`, `density` —
/// are pcdiag's own, modelled on single-view scans.
///
/// Every kind works, as ModelNet-C does, on the cloud normalised to the unit sphere (centred on its
/// centroid, farthest point at distance 1), and the result is mapped back into the input's frame: the
/// parameters are relative to the object's size (a jitter σ of 0.03 is 3 % of its radius) and a scan
/// in metres stays in metres. Counts of added or removed points are ModelNet-C's for its 1024-point
/// clouds and scale with the cloud (`round(count × n / 1024)`, at least 1).
///
/// Contract of `apply(to:seed:)`:
/// - pure and deterministic: the same cloud, corruption and seed give the same points everywhere;
///   the same seed at another severity draws the same random numbers where it can (the same shuffle,
///   direction or viewpoint), so a severity sweep changes the strength, not the draw;
/// - points with a NaN or infinite coordinate are dropped first, and the result is unorganized;
/// - no coordinate of the result is NaN or infinite, and a removing kind keeps at least
///   `minimumPoints` points (all of them when there are fewer): a cloud is never emptied (a cloud with
///   no finite point comes back empty — the caller reports it);
/// - colours and fields follow their points: removed points take theirs along, added points copy
///   those of the point they came from (`add-local`: their cluster's centre; `add-global`: their nearest
///   original point). `rotate` turns and `scale` re-normalises the normals (`normal_x/y/z`); `jitter`
///   keeps them as they were.
public struct Corruption: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// Gaussian noise on every coordinate, σ = `jitterSigma` (0.01 × severity).
        case jitter
        /// Each axis scaled by a factor uniform in [1/s, s], s = `scaleLimit` (1.6…2.0), then the cloud
        /// is normalised to the unit sphere again.
        case scale
        /// Rotation R = Rz(γ) Ry(β) Rx(α) about the centroid, applied to row vectors as ModelNet-C does
        /// (pᵀR), each angle uniform in ±`rotateLimitDegrees` (6° × severity).
        case rotate
        /// A random `dropoutGlobalRate` of the points removed (25 % … 75 %).
        case dropoutGlobal = "dropout-global"
        /// 1 to 7 clusters removed (`localClusters`), `dropoutLocalPoints` points in all (100 × severity
        /// per 1024) shared among them at random; each cluster is the points nearest a random remaining
        /// point, removed one cluster after the other.
        case dropoutLocal = "dropout-local"
        /// `addGlobalPoints` points (10 × severity per 1024) uniform in the unit ball.
        case addGlobal = "add-global"
        /// 1 to 7 Gaussian clusters, `addLocalPoints` points in all (100 × severity per 1024), around
        /// distinct random points of the cloud, σ uniform in `addLocalSigma` (0.075…0.125) per
        /// cluster; an added point outside the unit sphere is inverted into it (p / |p|²).
        case addLocal = "add-local"
        /// Single-view occlusion: only the points visible from a random viewpoint at distance
        /// `occlusionDistance` (10, 4, 2.5, 1.8, 1.4 radii) from the centroid are kept. Nearer viewpoints
        /// see less: on a sphere the visible cap is (1 − 1/d)/2 of the surface (45 % … 14 %).
        /// Visibility comes from a depth buffer of small discs along the surface as seen from the
        /// viewpoint, not from Katz et al.'s hidden point removal, which needs a convex hull (no qhull
        /// in this build): surfaces nearer each other than ~1.5 point spacings are not told apart, and
        /// on ModelNet40's clouds the distance matters less than on a sphere (54 % of the points kept
        /// at severity 1, 43 % at 5).
        case occlusion
        /// A LiDAR ring pattern: from a sensor at horizontal distance `lidarDistance` (4 radii), random
        /// azimuth and a height uniform in `lidarHeight` above the centroid (z up), the visible points
        /// (as for occlusion) whose elevation angle lies within ± `lidarBeamHalfWidth` of the visible
        /// elevation span of one of `lidarRings` (16, 12, 8, 6, 4) rings spread evenly over that span
        /// (on ModelNet40's 1024-point clouds about 150 points are left at severity 1, 37 at 5).
        case lidar
        /// Non-uniform density: along a random direction u, a point with t = (p·u + 1)/2 (0 at the
        /// near end of the unit sphere, 1 at the far end) is dropped with probability m·t, m =
        /// `densityDrop` (0.3 … 0.9): density falls from unchanged to (1 − m) across the object.
        case density
    }

    public let kind: Kind
    /// 1 (mild) … 5 (harsh).
    public let severity: Int

    public static let severities = 1 ... 5

    public init(_ kind: Kind, severity: Int) {
        precondition(Self.severities.contains(severity), "a corruption's severity is 1…5, not \(severity)")
        self.kind = kind
        self.severity = severity
    }

    private enum CodingKeys: String, CodingKey { case kind, severity }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let severity = try container.decode(Int.self, forKey: .severity)
        guard Self.severities.contains(severity) else {
            throw DecodingError.dataCorruptedError(forKey: .severity, in: container, debugDescription: "severity \(severity) is not in 1…5")
        }
        self.init(try container.decode(Kind.self, forKey: .kind), severity: severity)
    }

    /// Below this many points no kind removes any more (a cloud is never emptied).
    public static let minimumPoints = 8
    /// The cloud size ModelNet-C's counts refer to.
    public static let referencePoints = 1024

    // ModelNet-C's parameters per severity (index severity − 1), from its build/corrupt_utils.py.
    public static let jitterSigma: [Float] = [0.01, 0.02, 0.03, 0.04, 0.05]
    public static let scaleLimit: [Float] = [1.6, 1.7, 1.8, 1.9, 2.0]
    public static let rotateLimitDegrees: [Float] = [6, 12, 18, 24, 30]
    public static let dropoutGlobalRate: [Double] = [0.25, 0.375, 0.5, 0.625, 0.75]
    public static let dropoutLocalPoints = [100, 200, 300, 400, 500]
    public static let addGlobalPoints = [10, 20, 30, 40, 50]
    public static let addLocalPoints = [100, 200, 300, 400, 500]
    public static let localClusters = 1 ... 7
    public static let addLocalSigma: ClosedRange<Float> = 0.075 ... 0.125

    // pcdiag's own kinds.
    public static let occlusionDistance: [Float] = [10, 4, 2.5, 1.8, 1.4]
    public static let lidarRings = [16, 12, 8, 6, 4]
    public static let lidarDistance: Float = 4
    public static let lidarHeight: ClosedRange<Float> = 0 ... 1
    /// Half the width of a ring's band, as a fraction of the visible elevation span.
    public static let lidarBeamHalfWidth: Float = 1.0 / 96
    public static let densityDrop: [Float] = [0.3, 0.45, 0.6, 0.75, 0.9]

    /// The parameters of this corruption in a few words, for logs and result rows.
    public var summary: String {
        let l = severity - 1
        switch kind {
        case .jitter: return "σ \(Self.jitterSigma[l])"
        case .scale: return "per-axis factor in [1/\(Self.scaleLimit[l]), \(Self.scaleLimit[l])], renormalised"
        case .rotate: return "Euler angles within ±\(Int(Self.rotateLimitDegrees[l]))°"
        case .dropoutGlobal: return String(format: "%g %% of the points removed", Self.dropoutGlobalRate[l] * 100)
        case .dropoutLocal: return "\(Self.dropoutLocalPoints[l]) per 1024 points removed in 1–7 clusters"
        case .addGlobal: return "\(Self.addGlobalPoints[l]) per 1024 points added in the unit ball"
        case .addLocal: return "\(Self.addLocalPoints[l]) per 1024 points added in 1–7 clusters"
        case .occlusion: return String(format: "view from %g radii", Double(Self.occlusionDistance[l]))
        case .lidar: return String(format: "%d rings from %g radii", Self.lidarRings[l], Double(Self.lidarDistance))
        case .density: return "drop probability up to \(Self.densityDrop[l])"
        }
    }

    /// The seed of one file of a set: from the set's `base` seed and the file's path relative to the
    /// set (FNV-1a of its UTF-8 bytes, mixed by SplitMix64), so a file's result does not depend on
    /// which other files are processed, in what order or on how many threads.
    public static func seed(_ base: UInt64, for relativePath: String) -> UInt64 {
        var generator = SeededGenerator(seed: base ^ FNV1a.hash(relativePath))
        return generator.next()
    }

    /// The corrupted cloud; see the type's contract. O(n) for most kinds; `dropout-local` sorts the
    /// remaining points once per cluster (O(n log n) each); `add-global`, `occlusion` and `lidar` build
    /// a grid of the points and query it (normals from 10 neighbours, a depth buffer) — milliseconds for
    /// a 1024-point cloud.
    public func apply(to cloud: PointCloud, seed: UInt64) -> PointCloud {
        let input = Self.finitePoints(of: cloud)
        guard input.count > 0 else { return input }
        let frame = UnitFrame(input.positions)
        let unit = input.positions.map(frame.toUnit)
        var rng = SeededGenerator(seed: seed)
        let l = severity - 1
        switch kind {
        case .jitter:
            let sigma = Self.jitterSigma[l]
            return input.moved(to: unit.map { $0 + sigma * rng.gaussian3() }, frame: frame)
        case .scale:
            let s = Self.scaleLimit[l]
            let factors = SIMD3<Float>((0 ..< 3).map { _ in Float.random(in: 1 / s ... s, using: &rng) })
            let scaled = unit.map { $0 * factors }
            let again = UnitFrame(scaled)
            var out = input.moved(to: scaled.map(again.toUnit), frame: frame)
            out.transformNormals { $0 / factors }
            return out
        case .rotate:
            let limit = Self.rotateLimitDegrees[l] * .pi / 180
            let angles = SIMD3<Float>((0 ..< 3).map { _ in Float.random(in: -limit ... limit, using: &rng) })
            let rows = Self.rotationRows(x: angles.x, y: angles.y, z: angles.z)
            // ModelNet-C multiplies row vectors: p' = pᵀR = Σᵢ pᵢ Rᵢ (the rows of R).
            let turn = { (p: SIMD3<Float>) in p.x * rows.0 + p.y * rows.1 + p.z * rows.2 }
            var out = input.moved(to: unit.map(turn), frame: frame)
            out.transformNormals(turn)
            return out
        case .dropoutGlobal:
            var order = Array(unit.indices)
            order.shuffle(using: &rng)
            let keep = max(Int((Double(unit.count) * (1 - Self.dropoutGlobalRate[l])).rounded(.down)), Self.floor(unit.count))
            return input.selecting(order.prefix(keep).sorted())
        case .dropoutLocal:
            return input.selecting(Self.dropLocal(unit, total: Self.scaled(Self.dropoutLocalPoints[l], unit.count), using: &rng))
        case .addGlobal:
            let added = (0 ..< Self.scaled(Self.addGlobalPoints[l], unit.count)).map { _ in Random.inUnitBall(&rng) }
            let grid = PointGrid(unit)
            return input.adding(added, copying: added.map { grid.nearest(to: $0, count: 1)[0].index }, frame: frame)
        case .addLocal:
            let (added, sources) = Self.addLocal(unit, total: Self.scaled(Self.addLocalPoints[l], unit.count), using: &rng)
            return input.adding(added, copying: sources, frame: frame)
        case .occlusion:
            let eye = Self.occlusionEye(severity: severity, &rng)
            let visible = Visibility.visibleFromViewpoint(unit, eye: eye)
            return input.selecting(Self.kept(visible) { -(unit[$0] - eye).length })
        case .lidar:
            let eye = Self.lidarEye(&rng)
            return input.selecting(Self.lidarRingPoints(unit, eye: eye, rings: Self.lidarRings[l]))
        case .density:
            let direction = Random.unitVector(&rng)
            let m = Self.densityDrop[l]
            // Dropped when u < m·t: the margin u − m·t says how far from being dropped a point is.
            let margin = unit.map { p in Float.random(in: 0 ..< 1, using: &rng) - m * min(max((p.dot(direction) + 1) / 2, 0), 1) }
            return input.selecting(Self.kept(margin.map { $0 >= 0 }) { margin[$0] })
        }
    }

    /// Where the virtual sensor of `occlusion` and `lidar` stands for this cloud and seed, in the cloud's
    /// coordinates; nil for the other kinds. The same draw as `apply(to:seed:)` makes.
    public func viewpoint(for cloud: PointCloud, seed: UInt64) -> SIMD3<Float>? {
        let input = Self.finitePoints(of: cloud)
        guard input.count > 0 else { return nil }
        var rng = SeededGenerator(seed: seed)
        switch kind {
        case .occlusion: return UnitFrame(input.positions).fromUnit(Self.occlusionEye(severity: severity, &rng))
        case .lidar: return UnitFrame(input.positions).fromUnit(Self.lidarEye(&rng))
        default: return nil
        }
    }
}

// MARK: - The kinds' pieces

extension Corruption {
    static func finitePoints(of cloud: PointCloud) -> PointCloud {
        let finite = cloud.positions.indices.filter { cloud.positions[$0].isFinite }
        return finite.count == cloud.count && !cloud.isOrganized ? cloud : cloud.selecting(finite)
    }

    /// ModelNet-C's count for 1024 points, scaled to `n` points (at least 1).
    static func scaled(_ count: Int, _ n: Int) -> Int {
        max(1, Int((Double(count) * Double(n) / Double(referencePoints)).rounded()))
    }

    /// The fewest points a removing kind leaves.
    static func floor(_ n: Int) -> Int { min(n, minimumPoints) }

    /// The indices where `keep` is true, in order; when fewer than `minimumPoints`, topped up with the
    /// others of highest `priority`.
    static func kept(_ keep: [Bool], priority: (Int) -> Float) -> [Int] {
        var indices = keep.indices.filter { keep[$0] }
        let wanted = floor(keep.count)
        if indices.count < wanted {
            let rest = keep.indices.filter { !keep[$0] }.sorted { priority($0) > priority($1) }
            indices = (indices + rest.prefix(wanted - indices.count)).sorted()
        }
        return indices
    }

    /// Rows of R = Rz(z) Ry(y) Rx(x).
    static func rotationRows(x: Float, y: Float, z: Float) -> (SIMD3<Float>, SIMD3<Float>, SIMD3<Float>) {
        let (cx, sx, cy, sy, cz, sz) = (cos(x), sin(x), cos(y), sin(y), cos(z), sin(z))
        return (SIMD3(cz * cy, cz * sy * sx - sz * cx, cz * sy * cx + sz * sx),
                SIMD3(sz * cy, sz * sy * sx + cz * cx, sz * sy * cx - cz * sx),
                SIMD3(-sy, cy * sx, cy * cx))
    }

    /// `total` points shared at random among 1…7 clusters.
    static func clusterSizes(total: Int, using rng: inout SeededGenerator) -> [Int] {
        var sizes = [Int](repeating: 0, count: Int.random(in: localClusters, using: &rng))
        for _ in 0 ..< total { sizes[Int.random(in: 0 ..< sizes.count, using: &rng)] += 1 }
        return sizes
    }

    /// The indices kept by local dropout: cluster after cluster, the points nearest a random remaining
    /// point are removed, `total` in all (fewer if that would leave under `minimumPoints`).
    static func dropLocal(_ unit: [SIMD3<Float>], total: Int, using rng: inout SeededGenerator) -> [Int] {
        var alive = Array(unit.indices)
        for size in clusterSizes(total: min(total, unit.count - floor(unit.count)), using: &rng) where size > 0 {
            let centre = unit[alive[Int.random(in: 0 ..< alive.count, using: &rng)]]
            let byDistance = alive.map { ((unit[$0] - centre).lengthSquared, $0) }.sorted { $0 < $1 }
            alive = byDistance.dropFirst(size).map(\.1)
        }
        return alive.sorted()
    }

    /// Points of Gaussian clusters around distinct random points of the cloud, and for each added point
    /// the index of its cluster's centre.
    static func addLocal(_ unit: [SIMD3<Float>], total: Int, using rng: inout SeededGenerator) -> ([SIMD3<Float>], [Int]) {
        let sizes = clusterSizes(total: total, using: &rng)
        var order = Array(unit.indices)
        // A partial Fisher–Yates shuffle: distinct centres while the cloud has enough points.
        for i in 0 ..< min(sizes.count, order.count) { order.swapAt(i, Int.random(in: i ..< order.count, using: &rng)) }
        var added = [SIMD3<Float>](), sources = [Int]()
        for (j, size) in sizes.enumerated() {
            let centre = order[j % order.count]
            let sigma = Float.random(in: addLocalSigma, using: &rng)
            for _ in 0 ..< size {
                var p = unit[centre] + sigma * rng.gaussian3()
                let r2 = p.lengthSquared
                if r2 > 1 { p /= r2 }
                added.append(p)
                sources.append(centre)
            }
        }
        return (added, sources)
    }

    static func occlusionEye(severity: Int, _ rng: inout SeededGenerator) -> SIMD3<Float> {
        Random.unitVector(&rng) * occlusionDistance[severity - 1]
    }

    static func lidarEye(_ rng: inout SeededGenerator) -> SIMD3<Float> {
        let azimuth = Float.random(in: 0 ..< 2 * .pi, using: &rng)
        let height = Float.random(in: lidarHeight, using: &rng)
        return SIMD3(lidarDistance * cos(azimuth), lidarDistance * sin(azimuth), height)
    }

    /// The elevation of `p` seen from `eye`, z up, in radians.
    public static func elevation(of p: SIMD3<Float>, from eye: SIMD3<Float>) -> Float {
        let d = p - eye
        return atan2(d.z, (d.x * d.x + d.y * d.y).squareRoot())
    }

    /// Visible points near one of `rings` evenly spread elevations; topped up to `minimumPoints` with
    /// the visible points nearest a ring (then the hidden ones).
    static func lidarRingPoints(_ unit: [SIMD3<Float>], eye: SIMD3<Float>, rings: Int) -> [Int] {
        let visible = Visibility.visibleFromViewpoint(unit, eye: eye)
        let elevations = unit.map { elevation(of: $0, from: eye) }
        let seen = unit.indices.filter { visible[$0] }.map { elevations[$0] }
        let low = seen.min() ?? 0, span = (seen.max() ?? 0) - low
        guard span > 0 else { return kept(visible) { _ in 0 } }
        let spacing = span / Float(rings), halfWidth = span * lidarBeamHalfWidth
        let offRing = elevations.map { e -> Float in
            let ring = min(max(((e - low) / spacing - 0.5).rounded(), 0), Float(rings - 1))
            return abs(e - (low + (ring + 0.5) * spacing))
        }
        return kept(unit.indices.map { visible[$0] && offRing[$0] <= halfWidth }) { (visible[$0] ? 0 : -.pi) - offRing[$0] }
    }
}

extension PointCloud {
    /// The same points (and fields) at new positions given in `frame`'s unit coordinates.
    func moved(to unit: [SIMD3<Float>], frame: UnitFrame) -> PointCloud {
        var out = self
        out.positions = unit.map(frame.fromUnit)
        return out
    }

    /// The cloud with `unit` points (in `frame`'s unit coordinates) appended, each with the colour and
    /// fields of the point at its index in `sources`.
    func adding(_ unit: [SIMD3<Float>], copying sources: [Int], frame: UnitFrame) -> PointCloud {
        var out = selecting(Array(positions.indices) + sources)
        for (k, p) in unit.enumerated() { out.positions[count + k] = frame.fromUnit(p) }
        return out
    }

    /// Applies `transform` to the normals (`normal_x/y/z` scalar fields), renormalised to length 1.
    mutating func transformNormals(_ transform: (SIMD3<Float>) -> SIMD3<Float>) {
        guard let nx = field(named: "normal_x"), let ny = field(named: "normal_y"), let nz = field(named: "normal_z"),
              [nx, ny, nz].allSatisfy({ $0.components == 1 }) else { return }
        let normals = (0 ..< count).map { i -> SIMD3<Float> in
            let n = SIMD3(nx.values[i], ny.values[i], nz.values[i])
            let t = transform(n)
            let length = t.length
            return length > 0 && length.isFinite ? t / length : n
        }
        setField("normal_x", values: normals.map(\.x))
        setField("normal_y", values: normals.map(\.y))
        setField("normal_z", values: normals.map(\.z))
    }
}
