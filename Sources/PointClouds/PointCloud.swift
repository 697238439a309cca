/// A point cloud: positions plus any per-point fields the file carried.
///
/// Positions may hold NaN or ±Inf (organized depth scans mark missing pixels that way); `finiteCount`
/// says how many are usable and `RemoveNonFinite` drops the rest. Every per-point array has one entry
/// (or `components` entries, point-major) per position, in the same order.
public struct PointCloud: Sendable, Equatable {
    /// A named per-point field other than position and colour: intensity, normals, curvature, saliency…
    public struct Field: Sendable, Equatable {
        public var name: String
        /// Values per point (1 for a scalar, 33 for an FPFH histogram).
        public var components: Int
        /// `components × count` values, point-major.
        public var values: [Float]

        public init(name: String, components: Int = 1, values: [Float]) {
            self.name = name
            self.components = components
            self.values = values
        }
    }

    /// An 8-bit colour, as PCL packs it in `rgb` / `rgba` fields.
    public struct Color: Sendable, Equatable, Hashable {
        public var r, g, b, a: UInt8
        public init(r: UInt8, g: UInt8, b: UInt8, a: UInt8 = 255) {
            self.r = r; self.g = g; self.b = b; self.a = a
        }
        /// PCL's packing: 0xAARRGGBB in a 32-bit word.
        public init(packed: UInt32) {
            self.init(r: UInt8(truncatingIfNeeded: packed >> 16), g: UInt8(truncatingIfNeeded: packed >> 8),
                      b: UInt8(truncatingIfNeeded: packed), a: UInt8(truncatingIfNeeded: packed >> 24))
        }
        public var packed: UInt32 { UInt32(a) << 24 | UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b) }
    }

    public var positions: [SIMD3<Float>]
    /// Per-point colours, when the file had an `rgb` or `rgba` field (or PLY red/green/blue).
    public var colors: [Color]?
    /// Whether the colours carry a meaningful alpha (written back as `rgba` rather than `rgb`).
    public var colorHasAlpha: Bool
    public var fields: [Field]
    /// Organized clouds (depth images) keep their grid: `width × height == count`. Unorganized: height 1.
    public var width: Int
    public var height: Int

    public init(positions: [SIMD3<Float>], colors: [Color]? = nil, colorHasAlpha: Bool = false,
                fields: [Field] = [], width: Int? = nil, height: Int = 1) {
        self.positions = positions
        self.colors = colors
        self.colorHasAlpha = colorHasAlpha
        self.fields = fields
        self.width = width ?? positions.count
        self.height = height
    }

    public var count: Int { positions.count }
    public var isOrganized: Bool { height > 1 }

    /// Points whose three coordinates are all finite.
    public var finiteCount: Int { positions.reduce(0) { $0 + ($1.isFinite ? 1 : 0) } }

    /// The names of all fields, positions and colours included, as a file would list them.
    public var fieldNames: [String] {
        ["x", "y", "z"] + (colors == nil ? [] : [colorHasAlpha ? "rgba" : "rgb"]) + fields.map(\.name)
    }

    public func field(named name: String) -> Field? { fields.first { $0.name == name } }

    /// Adds or replaces a scalar field (one value per point).
    public mutating func setField(_ name: String, values: [Float]) {
        precondition(values.count == count, "field \(name) needs one value per point")
        let field = Field(name: name, values: values)
        if let i = fields.firstIndex(where: { $0.name == name }) { fields[i] = field } else { fields.append(field) }
    }

    /// The cloud with `rotation` applied to its positions and, when it has them, its normals
    /// (normal_x, normal_y, normal_z); other fields as they are.
    public func turned(_ rotation: (SIMD3<Float>) -> SIMD3<Float>) -> PointCloud {
        var out = self
        out.positions = positions.map(rotation)
        if let nx = field(named: "normal_x"), let ny = field(named: "normal_y"), let nz = field(named: "normal_z"),
           [nx, ny, nz].allSatisfy({ $0.components == 1 }) {
            let normals = (0 ..< count).map { rotation(SIMD3(nx.values[$0], ny.values[$0], nz.values[$0])) }
            out.setField("normal_x", values: normals.map(\.x))
            out.setField("normal_y", values: normals.map(\.y))
            out.setField("normal_z", values: normals.map(\.z))
        }
        return out
    }

    /// The points at `indices` (repeats allowed), with all their fields, as an unorganized cloud.
    public func selecting(_ indices: [Int]) -> PointCloud {
        PointCloud(
            positions: indices.map { positions[$0] },
            colors: colors.map { c in indices.map { c[$0] } },
            colorHasAlpha: colorHasAlpha,
            fields: fields.map { f in
                var values = [Float]()
                values.reserveCapacity(indices.count * f.components)
                for i in indices { values.append(contentsOf: f.values[i * f.components ..< (i + 1) * f.components]) }
                return Field(name: f.name, components: f.components, values: values)
            })
    }
}

extension PointCloud {
    /// x, y, z of the points at `indices` (all points when nil), interleaved: what PCL's filters take.
    func interleavedXYZ(_ indices: [Int]? = nil) -> [Float] {
        var xyz = [Float]()
        xyz.reserveCapacity(3 * (indices?.count ?? count))
        for i in indices ?? Array(positions.indices) {
            let p = positions[i]
            xyz.append(p.x); xyz.append(p.y); xyz.append(p.z)
        }
        return xyz
    }
}

extension SIMD3 where Scalar == Float {
    var isFinite: Bool { x.isFinite && y.isFinite && z.isFinite }
}
