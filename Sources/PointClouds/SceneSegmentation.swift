import CPCLInterface

/// Cutting a scene (a table top, a room, a LiDAR sweep) into the objects standing on its supports.
///
/// Supports are the largest plane and any other large plane parallel to it (a floor under a table);
/// their points, and everything under them, belong to no object. The rest is cut into clusters of
/// neighbouring points: on an organized cloud (a depth image) along the image grid with PCL's organized
/// multi-plane and connected-component segmentations — neighbours do not join across a concave fold,
/// and pieces seen either side of a nearer object join — otherwise with RANSAC plane fits and Euclidean
/// cluster extraction on a k-d tree (not joining across concave folds either with `singleView`). Distances are in the cloud's units (metres for depth cameras and
/// LiDAR); left unset, they are multiples of the cloud's median nearest-neighbour distance, so the same
/// defaults fit a Kinect table top and a LiDAR scan.
public struct SegmentationOptions: Sendable, Equatable {
    /// The scene's up axis, when known; nil: the camera's side of the largest plane (organized clouds)
    /// or the side most of the other points are on.
    public var up: SIMD3<Float>?
    /// A point this close to a support plane (or under it) belongs to the support; nil: `planeSpacings`.
    public var planeDistance: Double?
    /// Neighbours closer than this are one object; nil: `clusterSpacings`.
    public var clusterDistance: Double?
    /// Smaller clusters are noise, not objects.
    public var minPoints: Int
    /// A cluster larger than this along x, y or z is background (a wall, a shelf), not an object; nil: no limit.
    public var maxExtent: Double?
    /// Keep the support planes' points among the clusters (a segmentation of everything).
    public var keepPlanes: Bool
    /// Use the image grid of an organized cloud; false treats every cloud as unorganized.
    public var useGrid: Bool
    /// An unorganized cloud seen from one viewpoint at the origin (a depth camera's frame, its NaNs
    /// dropped): concave folds are found there too, with normals facing the origin. Off by default: a
    /// scan merged from all sides would have half of every object's normals turned inward.
    public var singleView: Bool

    /// Chosen on the 16 mOSD scenes (BENCHMARKS.md, "Scene segmentation"): 6 spacings for the plane,
    /// 5 for clusters.
    public static let planeSpacings = 6.0
    public static let clusterSpacings = 5.0
    /// A plane smaller than this share of the finite points is no support.
    public static let minimumPlaneShare = 0.05

    public init(up: SIMD3<Float>? = nil, planeDistance: Double? = nil, clusterDistance: Double? = nil,
                minPoints: Int = 300, maxExtent: Double? = nil, keepPlanes: Bool = false, useGrid: Bool = true,
                singleView: Bool = false) {
        self.up = up
        self.planeDistance = planeDistance
        self.clusterDistance = clusterDistance
        self.minPoints = minPoints
        self.maxExtent = maxExtent
        self.keepPlanes = keepPlanes
        self.useGrid = useGrid
        self.singleView = singleView
    }
}

/// A plane n · p + d = 0 with a unit normal pointing to the side the objects stand on.
public struct SupportPlane: Sendable, Equatable {
    public var normal: SIMD3<Float>
    public var offset: Float

    public init(normal: SIMD3<Float>, offset: Float) { (self.normal, self.offset) = (normal, offset) }

    public func distance(_ p: SIMD3<Float>) -> Float { (normal * p).sum() + offset }
    /// a, b, c, d.
    public var coefficients: [Float] { [normal.x, normal.y, normal.z, offset] }
}

/// One object of a segmented scene.
public struct SegmentedObject: Sendable, Equatable {
    /// 1, 2, …: the largest object first; the value of the `object` field on its points.
    public var id: Int
    public var points: Int
    public var centroid: SIMD3<Float>
    /// The axis-aligned box: its lowest corner and its sides.
    public var boxMinimum: SIMD3<Float>
    public var boxExtent: SIMD3<Float>
    /// The principal-axis box: its centre, unit axes (the direction of greatest spread first) and its
    /// sides along them.
    public var orientedCentre: SIMD3<Float>
    public var orientedAxes: [SIMD3<Float>]
    public var orientedExtent: SIMD3<Float>
    /// The index in `SceneSegmentation.supports` of the plane the object stands on (the nearest one);
    /// nil when the scene has no support.
    public var support: Int?
}

extension SupportPlane {
    /// The proper rotation taking this plane's normal to +z, the up axis of pcdiag's models: an object
    /// turned by it stands upright as the training clouds do (its heading about z is left as seen).
    public func upright(_ p: SIMD3<Float>) -> SIMD3<Float> {
        // Rodrigues' formula divides by 1 + cos θ: a normal facing down is first given half a turn about x.
        let down = normal.z < 0
        let n = down ? SIMD3(normal.x, -normal.y, -normal.z) : normal
        let q = down ? SIMD3(p.x, -p.y, -p.z) : p
        // With v = n × z and c = n · z ≥ 0: R q = q + v × q + v × (v × q) / (1 + c).
        let v = n.cross(SIMD3(0, 0, 1))
        let vq = v.cross(q)
        return q + vq + v.cross(vq) / (1 + n.z)
    }
}

/// What `segmenting` found/// What `segmenting` found: a label per point (0: support, noise, non-finite; 1… objects) and the objects.
public struct SceneSegmentation: Sendable, Equatable {
    /// One entry per input point, in the input's order.
    public var object: [UInt32]
    public var objects: [SegmentedObject]
    public var supports: [SupportPlane]
    /// Whether the image grid was used (an organized cloud, `useGrid`).
    public var usedGrid: Bool
    /// The cloud's median nearest-neighbour distance (0 when it has fewer than two distinct finite points).
    public var spacing: Double
    public var planeDistance: Double
    public var clusterDistance: Double
}

extension PointCloud {
    /// Segments the scene into objects; see `SegmentationOptions`. A cloud without finite points, or
    /// with a single one, has no objects. Throws `invalidArgument` for a non-positive distance.
    public func segmenting(_ options: SegmentationOptions = SegmentationOptions()) throws(PointCloudError) -> SceneSegmentation {
        for (name, value) in [("plane distance", options.planeDistance), ("cluster distance", options.clusterDistance),
                              ("maximum extent", options.maxExtent)] {
            if let value, !(value > 0 && value.isFinite) { throw .invalidArgument("the \(name) must be a positive number") }
        }
        guard options.minPoints >= 1 else { throw .invalidArgument("the minimum object size must be at least 1 point") }
        if let up = options.up, !(up * up).sum().isNormal { throw .invalidArgument("the up axis must not be zero") }
        let finite = finiteCount
        var p = cpcl_segment_parameters()
        p.organized = options.useGrid ? 1 : 0
        let up = options.up ?? .zero
        p.up = (up.x, up.y, up.z)
        p.plane_distance = options.planeDistance ?? 0
        p.cluster_distance = options.clusterDistance ?? 0
        p.plane_spacings = SegmentationOptions.planeSpacings
        p.cluster_spacings = SegmentationOptions.clusterSpacings
        p.min_points = UInt32(clamping: options.minPoints)
        p.max_extent = options.maxExtent ?? 0
        p.keep_planes = options.keepPlanes ? 1 : 0
        p.min_plane_points = UInt32(clamping: max(3, Int(SegmentationOptions.minimumPlaneShare * Double(finite))))
        p.min_plane_share = SegmentationOptions.minimumPlaneShare
        // A second support (a floor under the table) is parallel to the first and not much smaller.
        p.support_share = 0.3
        p.parallel_degrees = 10
        p.angular_degrees = 3
        p.depth_change = 0.02
        p.normal_smoothing = 10
        p.ransac_iterations = 200
        p.flatness = 0.4
        // On the grid: pixels on a concave fold judged over 10 pixels either side do not join (a box on,
        // against or leaning on another) and go to the object they touch afterwards;
        // pieces either side of something 6 cluster distances nearer, at depths within 2, seen so along
        // 10 rows or columns, join (an object behind another). Chosen on mOSD (BENCHMARKS.md).
        p.concave_baseline = 10
        p.concave_tolerance = 0.4
        // Off the grid, seen from the origin: normals over 2 cluster distances, folds against
        // neighbours up to 1.5 away.
        p.fold_normal_distances = options.singleView ? 2 : 0
        p.fold_radius_distances = 1.5
        p.occluder_distances = 6
        p.occluded_gap_distances = 2
        p.occlusion_lines = 10
        var labels = [UInt32](repeating: 0, count: count)
        var result = cpcl_segment_result()
        var error = cpcl_error()
        let xyz = interleavedXYZ()
        let status = try PCLBridge.api().segment(xyz, count, UInt32(clamping: width), UInt32(clamping: height), &p, &labels, &result, &error)
        guard status == Int32(CPCL_OK.rawValue) else { throw .invalidArgument(message(error)) }
        let supports = withUnsafeBytes(of: result.planes) { raw in
            let v = raw.bindMemory(to: Float.self)
            return (0 ..< Int(result.supports)).map { SupportPlane(normal: SIMD3(v[4 * $0], v[4 * $0 + 1], v[4 * $0 + 2]), offset: v[4 * $0 + 3]) }
        }
        return SceneSegmentation(object: labels, objects: try describeObjects(labels, supports: supports), supports: supports,
                                 usedGrid: result.organized != 0, spacing: result.spacing,
                                 planeDistance: result.plane_distance, clusterDistance: result.cluster_distance)
    }

    /// The points of each object of `segmentation`, in its order, with all their fields, as unorganized clouds.
    public func objects(of segmentation: SceneSegmentation) -> [PointCloud] {
        var members = [[Int]](repeating: [], count: segmentation.objects.count)
        for (i, id) in segmentation.object.enumerated() where id > 0 { members[Int(id) - 1].append(i) }
        return members.map(selecting)
    }

    private func describeObjects(_ labels: [UInt32], supports: [SupportPlane]) throws(PointCloudError) -> [SegmentedObject] {
        let count = Int(labels.max() ?? 0)
        var members = [[Int]](repeating: [], count: count)
        for (i, l) in labels.enumerated() where l > 0 { members[Int(l) - 1].append(i) }
        var objects = [SegmentedObject]()
        for (k, indices) in members.enumerated() {
            var lo = SIMD3<Float>(repeating: .infinity), hi = -lo, sum = SIMD3<Double>.zero
            for i in indices {
                let p = positions[i]
                lo = pointwiseMin(lo, p)
                hi = pointwiseMax(hi, p)
                sum += SIMD3<Double>(p)
            }
            var axes = [Float](repeating: 0, count: 9), extent = [Float](repeating: 0, count: 3), centre = extent
            var error = cpcl_error()
            guard try PCLBridge.api().principal_box(interleavedXYZ(indices), indices.count, &axes, &extent, &centre, &error) == Int32(CPCL_OK.rawValue) else {
                throw .invalidArgument(message(error))
            }
            // The support an object stands on: the plane its lowest point is nearest to.
            let support = supports.indices.min { a, b in
                Self.clearance(indices.map { positions[$0] }, supports[a]) < Self.clearance(indices.map { positions[$0] }, supports[b])
            }
            objects.append(SegmentedObject(
                id: k + 1, points: indices.count, centroid: SIMD3<Float>(sum / Double(indices.count)),
                boxMinimum: lo, boxExtent: hi - lo, orientedCentre: SIMD3(centre[0], centre[1], centre[2]),
                orientedAxes: (0 ..< 3).map { SIMD3(axes[3 * $0], axes[3 * $0 + 1], axes[3 * $0 + 2]) },
                orientedExtent: SIMD3(extent[0], extent[1], extent[2]), support: support))
        }
        return objects
    }

    /// How far the lowest of `points` is from `plane`, either side.
    private static func clearance(_ points: [SIMD3<Float>], _ plane: SupportPlane) -> Float {
        abs(points.map(plane.distance).min() ?? .infinity)
    }
}
