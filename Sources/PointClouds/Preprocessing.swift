import CPCLInterface

/// One preparation step: cloud in, cloud out, like a PCL filter. Steps are values, recorded (as JSON)
/// in model files so that training and inference prepare clouds identically.
public enum PreprocessStep: Sendable, Equatable, Codable {
    /// Drops points with a NaN or infinite coordinate (the holes of organized depth scans).
    case removeNonFinite
    /// PCL StatisticalOutlierRemoval: drops points whose mean distance to their `neighbours` nearest
    /// neighbours exceeds the cloud's mean by more than `stddev` standard deviations.
    case removeOutliers(neighbours: Int, stddev: Double)
    /// Drops the floor a depth scan picks up around a standing object (z up): the lowest
    /// near-horizontal plane, tilted at most `maxTilt` degrees, and the points within `thickness`
    /// median nearest-neighbour distances of it (`FloorRemoval`). A cloud without one is left alone.
    case removeFloor(maxTilt: Double, thickness: Double)
    /// PCL VoxelGrid: one point (the mean of every field) per occupied cube of side `size`; the cubes
    /// sit on multiples of `size` from the origin.
    case voxelGrid(size: Float)
    /// Rotates the cloud so that the axis that points up in the file (`from`) becomes +z.
    case upAxis(from: Axis)
    /// Centres the cloud on its centroid and scales it so the farthest point lies at distance 1.
    case normalize
    /// Resamples to exactly `points`: farthest point sampling (PCL) when there are more, all points
    /// plus random repeats when there are fewer. Deterministic for a given `seed`.
    case sample(points: Int, seed: UInt64)

    public enum Axis: String, Sendable, Codable, CaseIterable { case x, y, z }

    /// A short human description, for logs and `--help`.
    public var summary: String {
        switch self {
        case .removeNonFinite: "drop NaN/Inf points"
        case .removeOutliers(let k, let s): "statistical outlier removal (k=\(k), \(s)σ)"
        case .removeFloor(let tilt, let thickness): "floor removal (tilt ≤ \(tilt)°, ±\(thickness) spacings)"
        case .voxelGrid(let size): "voxel grid \(size)"
        case .upAxis(let axis): "up axis \(axis.rawValue) → z"
        case .normalize: "centre and scale to the unit sphere"
        case .sample(let n, let seed): "sample \(n) points (seed \(seed))"
        }
    }

    /// Applies the step. Throws when the cloud cannot go through it (no points left, bad arguments).
    public func apply(to cloud: PointCloud) throws(PointCloudError) -> PointCloud {
        try applyNoting(to: cloud).cloud
    }

    /// Applies the step, with what it could not do (the cloud still went through).
    func applyNoting(to cloud: PointCloud) throws(PointCloudError) -> (cloud: PointCloud, notice: Preprocessing.Notice?) {
        let out = try transform(cloud)
        // Floor removal also drops non-finite points: it found a floor only if it dropped more.
        if case .removeFloor = self, out.count == cloud.finiteCount { return (out, .noFloorFound) }
        return (out, nil)
    }

    private func transform(_ cloud: PointCloud) throws(PointCloudError) -> PointCloud {
        switch self {
        case .removeNonFinite:
            let keep = cloud.positions.indices.filter { cloud.positions[$0].isFinite }
            return keep.count == cloud.count && !cloud.isOrganized ? cloud : cloud.selecting(keep)
        case .removeOutliers(let k, let stddev):
            guard k >= 1, stddev.isFinite else {
                throw .invalidArgument("the outlier filter needs k ≥ 1 and a finite deviation multiplier")
            }
            let finite = try Self.removeNonFinite.apply(to: cloud)
            guard finite.count > k else { return finite }
            var keep = [UInt8](repeating: 0, count: finite.count)
            var error = cpcl_error()
            let xyz = finite.interleavedXYZ()
            guard try PCLBridge.api().statistical_outlier_mask(xyz, finite.count, Int32(k), stddev, &keep, &error) == 0 else {
                throw .invalidArgument(message(error))
            }
            return finite.selecting(keep.indices.filter { keep[$0] != 0 })
        case .removeFloor(let tilt, let thickness):
            guard (0 ..< 90).contains(tilt), thickness > 0, thickness.isFinite else {
                throw .invalidArgument("floor removal needs a tilt in [0, 90) degrees and a positive thickness")
            }
            let finite = try Self.removeNonFinite.apply(to: cloud)
            let keep = FloorRemoval(maxTilt: tilt, thickness: thickness).keptIndices(finite.positions)
            return keep.count == finite.count ? finite : finite.selecting(keep)
        case .voxelGrid(let size):
            guard size > 0, size.isFinite else { throw .invalidArgument("the voxel size must be a positive number") }
            let finite = try Self.removeNonFinite.apply(to: cloud)
            let pcl = try PCLBridge.api()
            let input = try BridgeCloud.encode(finite)
            defer { pcl.cloud_free(input) }
            var output: OpaquePointer?
            var error = cpcl_error()
            guard pcl.voxel_grid(input, size, &output, &error) == 0, let output else {
                throw .invalidArgument(message(error))
            }
            defer { pcl.cloud_free(output) }
            return try BridgeCloud.decode(output, path: "voxel grid")
        case .upAxis(let axis):
            return cloud.turned(axis.toZUp)
        case .normalize:
            let finite = cloud.positions.filter(\.isFinite)
            guard !finite.isEmpty else { throw .invalidArgument("the cloud has no valid points to normalise") }
            var sum = SIMD3<Double>.zero
            for p in finite { sum += SIMD3<Double>(p) }
            let centre = SIMD3<Float>(sum / Double(finite.count))
            let radius = finite.reduce(Float(0)) { max($0, (($1 - centre) * ($1 - centre)).sum()) }.squareRoot()
            // A cloud of one repeated point has no size: centre it and leave the scale alone.
            let scale: Float = radius > 0 ? 1 / radius : 1
            var out = cloud
            out.positions = cloud.positions.map { ($0 - centre) * scale }
            return out
        case .sample(let target, let seed):
            guard target > 0 else { throw .invalidArgument("the number of points to sample must be positive") }
            return try Sampling.resample(cloud, to: target, seed: seed)
        }
    }
}

extension PreprocessStep.Axis {
    /// The proper rotation taking this axis to +z.
    func toZUp(_ p: SIMD3<Float>) -> SIMD3<Float> {
        switch self {
        case .x: SIMD3(-p.z, p.y, p.x)
        case .y: SIMD3(p.x, -p.z, p.y)
        case .z: p
        }
    }
}

extension PreprocessStep {
    /// Bounds on what a stored step may ask for: no honest model comes near them, and a file that
    /// does asks for absurd work (a billion sampled points, a million neighbours).
    public enum Limits {
        public static let points = 1 ... 1_000_000
        public static let neighbours = 1 ... 1000
        public static let stddev = 0.0 ... 100.0
        public static let tilt = 0.0 ..< 90.0
        public static let thickness = 0.0 ... 1000.0
        public static let voxel: ClosedRange<Float> = 1e-6 ... 1e6
        public static let steps = 32
    }

    /// Why the step's arguments are out of `Limits`, or nil when they are fine.
    public var problem: String? {
        switch self {
        case .removeNonFinite, .upAxis, .normalize:
            return nil
        case .removeOutliers(let k, let stddev):
            if !Limits.neighbours.contains(k) { return "outlier removal with \(k) neighbours (allowed \(Limits.neighbours))" }
            if !Limits.stddev.contains(stddev) { return "outlier removal with a deviation multiplier of \(stddev) (allowed \(Limits.stddev))" }
        case .removeFloor(let tilt, let thickness):
            if !Limits.tilt.contains(tilt) { return "floor removal with a tilt of \(tilt)° (allowed \(Limits.tilt))" }
            if !(thickness > 0 && Limits.thickness.contains(thickness)) {
                return "floor removal with a thickness of \(thickness) (allowed > 0 and ≤ \(Limits.thickness.upperBound))"
            }
        case .voxelGrid(let size):
            if !Limits.voxel.contains(size) { return "a voxel size of \(size) (allowed \(Limits.voxel))" }
        case .sample(let points, _):
            if !Limits.points.contains(points) { return "sampling \(points) points (allowed \(Limits.points))" }
        }
        return nil
    }
}

/// An ordered list of steps: how a cloud is prepared for a network.
public struct Preprocessing: Sendable, Equatable, Codable {
    public var steps: [PreprocessStep]

    public init(steps: [PreprocessStep]) { self.steps = steps }

    /// The point count the steps resample to (a model's input size), if they do.
    public var samplePoints: Int? {
        steps.lazy.compactMap { if case .sample(let n, _) = $0 { n } else { nil } }.first
    }

    /// Why stored steps cannot be used (too many, or one out of `PreprocessStep.Limits`), or nil.
    public var problem: String? {
        if steps.count > PreprocessStep.Limits.steps {
            return "\(steps.count) preprocessing steps (allowed ≤ \(PreprocessStep.Limits.steps))"
        }
        return steps.lazy.compactMap { $0.problem.map { "preprocessing asks for " + $0 } }.first
    }

    /// The default for classification (DESIGN §3): drop NaN/Inf, centre, unit sphere, `points` points.
    public static func standard(points: Int = 1024, seed: UInt64 = 0) -> Preprocessing {
        Preprocessing(steps: [.removeNonFinite, .normalize, .sample(points: points, seed: seed)])
    }

    /// These steps with `step` added before the first that centres or resamples (where a cleaning step
    /// must go), unless it is already there.
    public func adding(_ step: PreprocessStep) -> Preprocessing {
        guard !steps.contains(step) else { return self }
        var out = self
        let at = steps.firstIndex { if case .normalize = $0 { true } else if case .sample = $0 { true } else { false } }
        out.steps.insert(step, at: at ?? steps.count)
        return out
    }

    /// What one step did, for logs.
    public struct Trace: Sendable, Equatable {
        public var step: PreprocessStep
        public var pointsBefore: Int
        public var pointsAfter: Int
        /// What the step could not do, if anything.
        public var notice: Notice?
    }

    /// A step that went through without doing its job: worth a warning, not an error.
    public enum Notice: Sendable, Equatable, CustomStringConvertible {
        /// Floor removal found no floor (or one that would have taken nearly all the points) and kept
        /// every point.
        case noFloorFound

        /// One line, to follow the file's name: "FILE: no floor found; kept all points".
        public var description: String {
            switch self {
            case .noFloorFound: "no floor found; kept all points"
            }
        }
    }

    /// A prepared cloud and what each step did to it.
    public struct Prepared: Sendable {
        public var cloud: PointCloud
        /// One entry per step, in order.
        public var trace: [Trace]
        /// The steps' notices, in order.
        public var notices: [Notice] { trace.compactMap(\.notice) }
    }

    /// Runs every step in order. Throws `.invalid` naming `path` when no valid point is left.
    public func apply(to cloud: PointCloud, path: String = "cloud") throws(PointCloudError) -> Prepared {
        var current = cloud
        var trace = [Trace]()
        for step in steps {
            let before = current.count
            let notice: Notice?
            do {
                (current, notice) = try step.applyNoting(to: current)
            } catch {
                if case .invalidArgument(let reason) = error { throw .invalid(path: path, reason: reason) }
                throw error
            }
            trace.append(Trace(step: step, pointsBefore: before, pointsAfter: current.count, notice: notice))
            if current.finiteCount == 0 {
                throw .invalid(path: path, reason: "no valid points left after '\(step.summary)' (\(before) before)")
            }
        }
        return Prepared(cloud: current, trace: trace)
    }
}
