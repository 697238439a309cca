/// What `pcdiag info` says about a cloud file: how it is stored and where its valid points lie.
public struct CloudDescription: Sendable, Equatable {
    public var path: String
    public var format: PointCloudFormat
    public var encoding: PointCloudEncoding
    /// Points whose three coordinates are finite.
    public var points: Int
    /// Every record in the file, the NaN holes of organized depth scans included.
    public var totalPoints: Int
    public var width: Int
    public var height: Int
    public var isOrganized: Bool
    public var fields: [String]
    /// Per-axis minimum and maximum over the valid points.
    public var boundsMin: SIMD3<Float>
    public var boundsMax: SIMD3<Float>
    /// The mean of the valid points (summed in double precision).
    public var centroid: SIMD3<Float>

    /// Describes a cloud read from a file. Throws `.invalid` when no point has finite coordinates.
    public init(_ file: PointCloudFile) throws(PointCloudError) {
        let cloud = file.cloud
        let finite = cloud.positions.filter(\.isFinite)
        guard let first = finite.first else {
            throw .invalid(path: file.path, reason: "no valid points (all \(cloud.count) have NaN or infinite coordinates)")
        }
        var lo = first, hi = first
        var sum = SIMD3<Double>.zero
        for p in finite {
            lo = pointwiseMin(lo, p)
            hi = pointwiseMax(hi, p)
            sum += SIMD3<Double>(p)
        }
        path = file.path
        format = file.format
        encoding = file.encoding
        points = finite.count
        totalPoints = cloud.count
        width = cloud.width
        height = cloud.height
        isOrganized = cloud.isOrganized
        fields = cloud.fieldNames
        boundsMin = lo
        boundsMax = hi
        centroid = SIMD3<Float>(sum / Double(finite.count))
    }

    /// Reads and describes a cloud file (see `PointCloudFile.read`).
    public init(contentsOf path: String, reading: CloudReadOptions = CloudReadOptions()) throws(PointCloudError) {
        try self.init(PointCloudFile.read(path, options: reading))
    }
}
