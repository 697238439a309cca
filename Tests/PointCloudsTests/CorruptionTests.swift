import Foundation
import PointClouds
import Support
import Testing

/// Each corruption's contract, measured on the output with the test's own arithmetic. The parameters
/// checked against are ModelNet-C's (Ren, Kong, Chen 2022) and the ones documented for pcdiag's kinds.
@Suite struct CorruptionTests {
    // MARK: Fixtures and independent measures

    static func gaussian(_ rng: inout SeededGenerator) -> Double {
        let u1 = Double.random(in: Double.leastNormalMagnitude ..< 1, using: &rng), u2 = Double.random(in: 0 ..< 1, using: &rng)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// `n` points uniform on the unit sphere, with an `index` field (the point's number).
    static func sphere(_ n: Int, seed: UInt64 = 1, radius: Float = 1, offset: SIMD3<Float> = .zero) -> PointCloud {
        var rng = SeededGenerator(seed: seed)
        let points = (0 ..< n).map { _ -> SIMD3<Float> in
            let g = SIMD3(gaussian(&rng), gaussian(&rng), gaussian(&rng))
            return offset + radius * SIMD3<Float>(g / (g * g).sum().squareRoot())
        }
        var cloud = PointCloud(positions: points)
        cloud.setField("index", values: (0 ..< n).map(Float.init))
        return cloud
    }

    /// `n` points uniform in the unit ball.
    static func ball(_ n: Int, seed: UInt64 = 2) -> PointCloud {
        var rng = SeededGenerator(seed: seed)
        var points = [SIMD3<Float>]()
        while points.count < n {
            let p = SIMD3<Float>(.random(in: -1 ... 1, using: &rng), .random(in: -1 ... 1, using: &rng), .random(in: -1 ... 1, using: &rng))
            if (p * p).sum() <= 1 { points.append(p) }
        }
        return PointCloud(positions: points)
    }

    /// Centroid and farthest distance, in Double.
    static func frame(_ points: [SIMD3<Float>]) -> (centre: SIMD3<Double>, radius: Double) {
        let centre = points.reduce(SIMD3<Double>.zero) { $0 + SIMD3<Double>($1) } / Double(points.count)
        let radius = points.map { p -> Double in let d = SIMD3<Double>(p) - centre; return (d * d).sum() }.max()!.squareRoot()
        return (centre, radius)
    }

    static func unit(_ points: [SIMD3<Float>], in f: (centre: SIMD3<Double>, radius: Double)) -> [SIMD3<Double>] {
        points.map { (SIMD3<Double>($0) - f.centre) / f.radius }
    }

    static func dot(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double { (a * b).sum() }
    static func norm(_ a: SIMD3<Double>) -> Double { dot(a, a).squareRoot() }

    /// Mean distance from each point of `a` to its nearest in `b`, plus the same from `b` to `a`.
    static func chamfer(_ a: [SIMD3<Double>], _ b: [SIMD3<Double>]) -> Double {
        func oneWay(_ x: [SIMD3<Double>], _ y: [SIMD3<Double>]) -> Double {
            x.reduce(0) { sum, p in sum + y.map { q in let d = p - q; return (d * d).sum() }.min()!.squareRoot() } / Double(x.count)
        }
        return oneWay(a, b) + oneWay(b, a)
    }

    /// The `index` field of a corrupted sphere: which input point each output point is (or came from).
    static func indices(_ cloud: PointCloud) -> [Int] { cloud.field(named: "index")!.values.map { Int($0) } }

    // MARK: ModelNet-C's seven

    @Test func jitterHasTheSeverityStandardDeviationRelativeToTheRadius() throws {
        // A sphere of radius 50 far from the origin: σ is relative to the object's radius.
        let cloud = Self.sphere(4096, radius: 50, offset: SIMD3(1000, -200, 30))
        let r = Self.frame(cloud.positions).radius
        for severity in 1 ... 5 {
            let out = Corruption(.jitter, severity: severity).apply(to: cloud, seed: 7)
            #expect(out.count == cloud.count && out.fields == cloud.fields)
            let sigma = 0.01 * Double(severity)
            for axis in 0 ..< 3 {
                let d = zip(out.positions, cloud.positions).map { Double($0[axis] - $1[axis]) / r }
                let mean = d.reduce(0, +) / Double(d.count)
                let sd = (d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d.count)).squareRoot()
                #expect(abs(mean) < 4 * sigma / 64, "severity \(severity) axis \(axis): mean \(mean)")
                #expect(abs(sd / sigma - 1) < 0.05, "severity \(severity) axis \(axis): σ \(sd), expected \(sigma)")
            }
        }
    }

    @Test func scaleIsAPerAxisFactorWithinTheBoundThenRenormalised() throws {
        var cloud = Self.ball(600)
        cloud.positions = cloud.positions.map { $0 * 3 + SIMD3(5, 6, 7) }
        let normals = cloud.positions.map { p -> SIMD3<Float> in let d = p - SIMD3(5, 6, 7); return d / (d * d).sum().squareRoot() }
        cloud.setField("normal_x", values: normals.map(\.x))
        cloud.setField("normal_y", values: normals.map(\.y))
        cloud.setField("normal_z", values: normals.map(\.z))
        let before = Self.frame(cloud.positions)
        for severity in 1 ... 5 {
            let s = [1.6, 1.7, 1.8, 1.9, 2.0][severity - 1]
            var widest = 0.0
            for seed in UInt64(0) ..< 40 {
                let out = Corruption(.scale, severity: severity).apply(to: cloud, seed: seed)
                let after = Self.frame(out.positions)
                #expect(Self.norm(after.centre - before.centre) < 1e-4 * before.radius)
                #expect(abs(after.radius / before.radius - 1) < 1e-5)
                // The per-axis gains g (output offset / input offset) are the same for every point …
                var g = SIMD3<Double>.zero
                for a in 0 ..< 3 {
                    let i = cloud.positions.indices.max { abs(Double(cloud.positions[$0][a]) - before.centre[a]) < abs(Double(cloud.positions[$1][a]) - before.centre[a]) }!
                    g[a] = (Double(out.positions[i][a]) - after.centre[a]) / (Double(cloud.positions[i][a]) - before.centre[a])
                }
                for (p, q) in zip(cloud.positions, out.positions) {
                    let predicted = after.centre + g * (SIMD3<Double>(p) - before.centre)
                    #expect(Self.norm(predicted - SIMD3<Double>(q)) < 1e-4 * before.radius)
                }
                // … and, being the factors up to one common normalisation, their ratios stay within s².
                let ratio = g.max() / g.min()
                #expect(ratio <= s * s * (1 + 1e-4) && g.min() > 0, "severity \(severity) seed \(seed): ratio \(ratio)")
                widest = max(widest, ratio)
                // Normals transform with the inverse factors.
                let n0 = SIMD3<Double>(normals[0]) / g
                let n1 = SIMD3<Double>(Double(out.field(named: "normal_x")!.values[0]), Double(out.field(named: "normal_y")!.values[0]),
                                       Double(out.field(named: "normal_z")!.values[0]))
                #expect(Self.norm(n0 / Self.norm(n0) - n1) < 1e-4)
            }
            #expect(widest > 0.6 * s * s, "severity \(severity): the factors never spread (widest ratio \(widest))")
        }
    }

    /// The 3×3 least-squares map M with y ≈ M x over centred point pairs: M = (Σ y xᵀ)(Σ x xᵀ)⁻¹.
    static func leastSquaresMap(from x: [SIMD3<Double>], to y: [SIMD3<Double>]) -> [[Double]] {
        var yx = [[Double]](repeating: [0, 0, 0], count: 3), xx = yx
        for (p, q) in zip(x, y) {
            for i in 0 ..< 3 { for j in 0 ..< 3 { yx[i][j] += q[i] * p[j]; xx[i][j] += p[i] * p[j] } }
        }
        let a = xx
        let det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
            + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
        var inverse = [[Double]](repeating: [0, 0, 0], count: 3)
        for i in 0 ..< 3 {
            for j in 0 ..< 3 {
                let (r1, r2) = ((j + 1) % 3, (j + 2) % 3), (c1, c2) = ((i + 1) % 3, (i + 2) % 3)
                inverse[i][j] = (a[r1][c1] * a[r2][c2] - a[r1][c2] * a[r2][c1]) / det
            }
        }
        return (0 ..< 3).map { i in (0 ..< 3).map { j in (0 ..< 3).reduce(0) { $0 + yx[i][$1] * inverse[$1][j] } } }
    }

    @Test func rotateIsARotationWithEulerAnglesWithinTheBound() throws {
        var cloud = Self.ball(500)
        cloud.positions = cloud.positions.map { $0 * 2 + SIMD3(-3, 1, 4) }
        cloud.setField("normal_x", values: [Float](repeating: 1, count: 500))
        cloud.setField("normal_y", values: [Float](repeating: 0, count: 500))
        cloud.setField("normal_z", values: [Float](repeating: 0, count: 500))
        let before = Self.frame(cloud.positions)
        for severity in 1 ... 5 {
            let limit = Double.pi / 30 * Double(severity)
            var largest = 0.0
            for seed in UInt64(0) ..< 30 {
                let out = Corruption(.rotate, severity: severity).apply(to: cloud, seed: seed)
                let after = Self.frame(out.positions)
                #expect(Self.norm(after.centre - before.centre) < 1e-4)
                let m = Self.leastSquaresMap(from: cloud.positions.map { SIMD3<Double>($0) - before.centre },
                                             to: out.positions.map { SIMD3<Double>($0) - after.centre })
                // Orthonormal with determinant 1.
                for i in 0 ..< 3 {
                    for j in 0 ..< 3 {
                        let d = (0 ..< 3).reduce(0) { $0 + m[i][$1] * m[j][$1] }
                        #expect(abs(d - (i == j ? 1 : 0)) < 1e-4)
                    }
                }
                let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                    + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
                #expect(abs(det - 1) < 1e-4)
                // Points are row vectors multiplied by R = Rz Ry Rx, so R = Mᵀ; its ZYX Euler angles:
                let r = { (i: Int, j: Int) in m[j][i] }
                let beta = -asin(max(-1, min(1, r(2, 0))))
                let alpha = atan2(r(2, 1), r(2, 2)), gamma = atan2(r(1, 0), r(0, 0))
                for angle in [alpha, beta, gamma] { #expect(abs(angle) <= limit + 1e-4, "severity \(severity) seed \(seed): \(angle)") }
                largest = max(largest, abs(alpha), abs(beta), abs(gamma))
                // The normal (1, 0, 0) turns with the points: M's first column.
                let n = SIMD3<Double>(Double(out.field(named: "normal_x")!.values[0]), Double(out.field(named: "normal_y")!.values[0]),
                                      Double(out.field(named: "normal_z")!.values[0]))
                #expect(Self.norm(n - SIMD3(m[0][0], m[1][0], m[2][0])) < 1e-4)
            }
            #expect(largest > 0.8 * limit, "severity \(severity): angles never approach the bound")
        }
    }

    @Test func dropoutGlobalKeepsTheRateAndTheFieldsOfTheKeptPoints() throws {
        for n in [1024, 1000] {
            let cloud = Self.sphere(n)
            for (severity, rate) in zip(1 ... 5, [0.25, 0.375, 0.5, 0.625, 0.75]) {
                let out = Corruption(.dropoutGlobal, severity: severity).apply(to: cloud, seed: 3)
                #expect(out.count == Int(Double(n) * (1 - rate)), "n \(n) severity \(severity)")
                let kept = Self.indices(out)
                #expect(Set(kept).count == kept.count)
                #expect(zip(kept, out.positions).allSatisfy { cloud.positions[$0] == $1 })
            }
        }
    }

    /// Groups of removed points, linked when one lies in the other's empty ball (the ball around it
    /// reaching to the nearest kept point). A local-dropout cluster is the points nearest its centre (a
    /// removed point), so all of it lies in the centre's empty ball: at most one group per cluster.
    static func removedGroups(_ cloud: PointCloud, kept: Set<Int>) -> Int {
        let p = cloud.positions.map { SIMD3<Double>($0) }
        let removed = cloud.positions.indices.filter { !kept.contains($0) }
        let reach = removed.map { c in kept.map { norm(p[$0] - p[c]) }.min()! }
        var group = Array(removed.indices)
        func root(_ i: Int) -> Int { group[i] == i ? i : root(group[i]) }
        for a in removed.indices {
            for b in removed.indices where b > a {
                let d = norm(p[removed[a]] - p[removed[b]])
                if d < reach[a] || d < reach[b] { group[root(a)] = root(b) }
            }
        }
        return Set(removed.indices.map(root)).count
    }

    @Test func dropoutLocalRemovesTheCountInAtMostSevenClusters() throws {
        let cloud = Self.sphere(1024, seed: 5)
        for severity in 1 ... 5 {
            for seed in UInt64(0) ..< 4 {
                let out = Corruption(.dropoutLocal, severity: severity).apply(to: cloud, seed: seed)
                #expect(out.count == 1024 - 100 * severity)
                #expect(zip(Self.indices(out), out.positions).allSatisfy { cloud.positions[$0] == $1 })
                let groups = Self.removedGroups(cloud, kept: Set(Self.indices(out)))
                #expect((1 ... 7).contains(groups), "severity \(severity) seed \(seed): \(groups) groups")
            }
        }
        // The measure tells local from global: points dropped at random stay apart.
        let global = Corruption(.dropoutGlobal, severity: 1).apply(to: cloud, seed: 0)
        #expect(Self.removedGroups(cloud, kept: Set(Self.indices(global))) > 50)
    }

    @Test func addGlobalAddsTheCountInsideTheUnitBallWithTheNearestPointsFields() throws {
        let cloud = Self.sphere(1024, radius: 4, offset: SIMD3(1, 2, 3))
        let f = Self.frame(cloud.positions)
        for severity in 1 ... 5 {
            let out = Corruption(.addGlobal, severity: severity).apply(to: cloud, seed: 11)
            #expect(out.count == 1024 + 10 * severity)
            #expect(Array(out.positions.prefix(1024)) == cloud.positions)
            let original = Self.unit(cloud.positions, in: f)
            for (k, q) in Self.unit(Array(out.positions.dropFirst(1024)), in: f).enumerated() {
                #expect(Self.norm(q) <= 1 + 1e-5)
                let nearest = original.indices.min { Self.norm(original[$0] - q) < Self.norm(original[$1] - q) }!
                #expect(Self.indices(out)[1024 + k] == nearest)
            }
        }
        // 10 per 1024 points, scaled to the cloud.
        #expect(Corruption(.addGlobal, severity: 3).apply(to: Self.sphere(2048), seed: 1).count == 2048 + 60)
    }

    @Test func addLocalAddsTheCountInAtMostSevenClustersOfTheDocumentedSpread() throws {
        let cloud = Self.sphere(1024, seed: 9)
        let f = Self.frame(cloud.positions)
        let p = Self.unit(cloud.positions, in: f)
        for severity in 1 ... 5 {
            for seed in UInt64(0) ..< 4 {
                let out = Corruption(.addLocal, severity: severity).apply(to: cloud, seed: seed)
                #expect(out.count == 1024 + 100 * severity)
                #expect(Array(out.positions.prefix(1024)) == cloud.positions)
                let added = Self.unit(Array(out.positions.dropFirst(1024)), in: f)
                let sources = Array(Self.indices(out).dropFirst(1024))
                #expect(added.allSatisfy { Self.norm($0) <= 1 + 1e-5 })
                let clusters = Dictionary(grouping: added.indices, by: { sources[$0] })
                #expect((1 ... 7).contains(clusters.count))
                for (centre, members) in clusters where members.count >= 40 {
                    // Inversion into the sphere keeps distances to a surface point to first order.
                    let rms = (members.map { let d = Self.norm(added[$0] - p[centre]); return d * d }.reduce(0, +) / Double(3 * members.count)).squareRoot()
                    #expect(rms > 0.075 * 0.75 && rms < 0.125 * 1.25, "severity \(severity) seed \(seed): spread \(rms)")
                }
            }
        }
    }

    // MARK: pcdiag's three

    @Test func occlusionHidesTheFarSideOfASphere() throws {
        let cloud = Self.sphere(4096, seed: 4)
        let f = Self.frame(cloud.positions)
        let p = Self.unit(cloud.positions, in: f)
        for severity in 1 ... 5 {
            let d = [10.0, 4, 2.5, 1.8, 1.4][severity - 1]
            for seed in UInt64(0) ..< 3 {
                let corruption = Corruption(.occlusion, severity: severity)
                let out = corruption.apply(to: cloud, seed: seed)
                let eye = (SIMD3<Double>(try #require(corruption.viewpoint(for: cloud, seed: seed))) - f.centre) / f.radius
                #expect(abs(Self.norm(eye) - d) < 1e-3)
                let omega = eye / Self.norm(eye)
                let kept = Set(Self.indices(out))
                // The kept points lean toward the viewpoint the API reports.
                let lean = kept.reduce(SIMD3<Double>.zero) { $0 + p[$1] }
                #expect(Self.dot(lean / Self.norm(lean), omega) > cos(10 * Double.pi / 180))
                // A point of the unit sphere is visible from the eye exactly when p·ω > 1/d.
                let behind = p.indices.filter { Self.dot(p[$0], omega) < 1 / d - 0.1 }
                let front = p.indices.filter { Self.dot(p[$0], omega) > 1 / d + 0.1 }
                #expect(behind.allSatisfy { !kept.contains($0) }, "severity \(severity) seed \(seed): hidden points kept")
                let seen = Double(front.filter(kept.contains).count) / Double(front.count)
                #expect(seen > 0.85, "severity \(severity) seed \(seed): only \(seen) of the visible cap kept")
            }
        }
    }

    /// Two parallel sheets 0.2 apart (about 3 point spacings): from either side the far sheet is
    /// behind the near one, except for a strip along the edges when seen at a slant.
    @Test func occlusionHidesTheFarSheetOfAPlate() throws {
        var rng = SeededGenerator(seed: 13)
        let sheet = { (z: Float, rng: inout SeededGenerator) in
            (0 ..< 1000).map { _ in SIMD3<Float>(.random(in: -1 ... 1, using: &rng), .random(in: -1 ... 1, using: &rng), z) }
        }
        var cloud = PointCloud(positions: sheet(0.1, &rng) + sheet(-0.1, &rng))
        cloud.setField("index", values: (0 ..< 2000).map(Float.init))
        var checked = 0
        for seed in UInt64(0) ..< 12 {
            let corruption = Corruption(.occlusion, severity: 1)
            let eye = try #require(corruption.viewpoint(for: cloud, seed: seed))
            let slant = abs(eye.z) / (eye * eye).sum().squareRoot()
            guard slant > 0.5 else { continue }  // seen edge on, both sheets show
            checked += 1
            let kept = Self.indices(corruption.apply(to: cloud, seed: seed))
            let nearSheet = eye.z > 0 ? 0 ..< 1000 : 1000 ..< 2000
            // Far-sheet points more than 0.1 inside the edges are covered by the near sheet.
            let inner = kept.filter { !nearSheet.contains($0) && abs(cloud.positions[$0].x) < 0.9 && abs(cloud.positions[$0].y) < 0.9 }
            #expect(inner.count <= 20, "seed \(seed): \(inner.count) far-sheet points kept")
            #expect(kept.filter(nearSheet.contains).count >= 950, "seed \(seed)")
        }
        #expect(checked >= 4)
    }

    @Test func lidarKeepsBandsOfEquallySpacedElevationsOnTheVisibleSide() throws {
        let cloud = Self.sphere(8192, seed: 6)
        let f = Self.frame(cloud.positions)
        let p = Self.unit(cloud.positions, in: f)
        for severity in 1 ... 5 {
            let rings = [16, 12, 8, 6, 4][severity - 1]
            for seed in UInt64(0) ..< 2 {
                let corruption = Corruption(.lidar, severity: severity)
                let out = corruption.apply(to: cloud, seed: seed)
                let eye = (SIMD3<Double>(try #require(corruption.viewpoint(for: cloud, seed: seed))) - f.centre) / f.radius
                #expect(abs((eye.x * eye.x + eye.y * eye.y).squareRoot() - 4) < 1e-3 && eye.z >= -1e-4 && eye.z <= 1 + 1e-4)
                let kept = Self.indices(out)
                // Visible side only: on the unit sphere, p is seen from the eye when p·eye > 1.
                #expect(kept.allSatisfy { Self.dot(p[$0], eye) > 1 - 0.1 * Self.norm(eye) })
                let elevations = kept.map { i -> Double in
                    let d = p[i] - eye
                    return atan2(d.z, (d.x * d.x + d.y * d.y).squareRoot())
                }.sorted()
                let range = elevations.last! - elevations.first!
                var bands = [[elevations[0]]]
                for e in elevations.dropFirst() {
                    if e - bands[bands.count - 1].last! > range / Double(3 * rings) { bands.append([e]) } else { bands[bands.count - 1].append(e) }
                }
                #expect(bands.count == rings, "severity \(severity) seed \(seed): \(bands.count) bands for \(rings) rings")
                guard bands.count == rings else { continue }
                let centres = bands.map { ($0.first! + $0.last!) / 2 }
                let step = (centres.last! - centres.first!) / Double(rings - 1)
                for (k, c) in centres.enumerated() { #expect(abs(c - (centres[0] + Double(k) * step)) < 0.15 * step) }
                // Each band is at most 2/96 of the span (rings × step) wide.
                for band in bands { #expect(band.last! - band.first! <= 2 * Double(rings) * step / 96 * 1.1) }
            }
        }
    }

    @Test func densityThinsPointsLinearlyAlongOneDirection() throws {
        let cloud = Self.ball(20000)
        let f = Self.frame(cloud.positions)
        let p = Self.unit(cloud.positions, in: f)
        for severity in 1 ... 5 {
            let m = [0.3, 0.45, 0.6, 0.75, 0.9][severity - 1]
            let out = Corruption(.density, severity: severity).apply(to: cloud, seed: 21)
            // The direction thinned most: where the kept centroid moved away from.
            let keptSet = Set(out.positions.map { [$0.x, $0.y, $0.z] })
            let kept = p.indices.filter { keptSet.contains([cloud.positions[$0].x, cloud.positions[$0].y, cloud.positions[$0].z]) }
            let shift = kept.reduce(SIMD3<Double>.zero) { $0 + p[$1] } / Double(kept.count)
            let u = -shift / Self.norm(shift)
            let t = p.map { (Self.dot($0, u) + 1) / 2 }
            let keptIndices = Set(kept)
            for bin in 0 ..< 4 {
                let members = p.indices.filter { t[$0] >= Double(bin) / 4 && t[$0] < Double(bin + 1) / 4 }
                let meanT = members.reduce(0) { $0 + t[$1] } / Double(members.count)
                let fraction = Double(members.filter(keptIndices.contains).count) / Double(members.count)
                #expect(abs(fraction - (1 - m * meanT)) < 0.06, "severity \(severity) bin \(bin): kept \(fraction), expected \(1 - m * meanT)")
            }
        }
    }

    // MARK: Every kind

    @Test(arguments: Corruption.Kind.allCases)
    func sameSeedSameCloudOtherSeedOtherCloud(kind: Corruption.Kind) throws {
        let cloud = Self.sphere(1024, seed: 8)
        let corruption = Corruption(kind, severity: 3)
        let a = corruption.apply(to: cloud, seed: 42)
        #expect(corruption.apply(to: cloud, seed: 42) == a)
        #expect(corruption.apply(to: cloud, seed: 43) != a)
        #expect(a != cloud)
    }

    @Test(arguments: Corruption.Kind.allCases)
    func moreSevereChangesMore(kind: Corruption.Kind) throws {
        let cloud = Self.sphere(256, seed: 12)
        let f = Self.frame(cloud.positions)
        let original = Self.unit(cloud.positions, in: f)
        let change = (1 ... 5).map { severity in
            (UInt64(0) ..< 8).reduce(0.0) { sum, seed in
                sum + Self.chamfer(original, Self.unit(Corruption(kind, severity: severity).apply(to: cloud, seed: seed).positions, in: f))
            } / 8
        }
        for s in 1 ..< 5 { #expect(change[s] > change[s - 1], "\(kind.rawValue): Chamfer by severity \(change)") }
    }

    @Test(arguments: Corruption.Kind.allCases)
    func neverEmptyNeverNaN(kind: Corruption.Kind) throws {
        var withHoles = Self.sphere(300)
        withHoles.positions[5] = SIMD3(.nan, 0, 0)
        withHoles.positions[77].z = .infinity
        let clouds = [
            withHoles, Self.sphere(1), Self.sphere(3), Self.sphere(9), Self.sphere(40),
            PointCloud(positions: [SIMD3<Float>](repeating: SIMD3(2, 2, 2), count: 20)),
            PointCloud(positions: (0 ..< 50).map { SIMD3(Float($0), 0, 0) }),  // a line
        ]
        for cloud in clouds {
            let finite = cloud.positions.filter { $0.x.isFinite && $0.y.isFinite && $0.z.isFinite }.count
            for severity in 1 ... 5 {
                let out = Corruption(kind, severity: severity).apply(to: cloud, seed: 1)
                #expect(out.count >= min(finite, 8), "\(kind.rawValue) severity \(severity) on \(cloud.count) points: \(out.count) left")
                #expect(out.positions.allSatisfy { $0.x.isFinite && $0.y.isFinite && $0.z.isFinite })
                #expect(out.fields.allSatisfy { $0.values.count == out.count * $0.components })
                #expect(out.height == 1 && out.width == out.count)
            }
        }
        #expect(Corruption(kind, severity: 5).apply(to: PointCloud(positions: [SIMD3(.nan, 1, 1)]), seed: 1).count == 0)
    }

    @Test func fieldsAndColoursFollowTheirPoints() throws {
        var cloud = Self.sphere(1024)
        cloud.colors = (0 ..< 1024).map { PointCloud.Color(r: UInt8($0 % 256), g: UInt8($0 / 256), b: 7) }
        for kind in Corruption.Kind.allCases {
            let out = Corruption(kind, severity: 4).apply(to: cloud, seed: 2)
            let colors = try #require(out.colors)
            for (i, c) in zip(Self.indices(out), colors) { #expect(c == cloud.colors![i], "\(kind.rawValue)") }
        }
    }

    @Test func kindsAreNamedAsOnTheCommandLineAndSeverityIsChecked() throws {
        #expect(Corruption.Kind.allCases.map(\.rawValue) == [
            "jitter", "scale", "rotate", "dropout-global", "dropout-local", "add-global", "add-local", "occlusion", "lidar", "density",
        ])
        let json = try JSONEncoder().encode(Corruption(.dropoutLocal, severity: 2))
        #expect(try JSONDecoder().decode(Corruption.self, from: json) == Corruption(.dropoutLocal, severity: 2))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Corruption.self, from: Data(#"{"kind":"jitter","severity":6}"#.utf8)) }
    }

    @Test func fileSeedsDependOnTheBaseAndThePathOnly() throws {
        let a = Corruption.seed(1, for: "chair/chair_0001.pcd")
        #expect(Corruption.seed(1, for: "chair/chair_0001.pcd") == a)
        #expect(Corruption.seed(2, for: "chair/chair_0001.pcd") != a)
        #expect(Corruption.seed(1, for: "chair/chair_0002.pcd") != a)
        let many = Set((0 ..< 1000).map { Corruption.seed(0, for: "c/\($0).pcd") })
        #expect(many.count == 1000)
    }
}
