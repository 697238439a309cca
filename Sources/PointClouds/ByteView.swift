/// Fixed-width numbers at byte offsets of a file's bytes. Callers check offsets against `count` first
/// (every reader compares its header with the file size before reading records); reads are unaligned.
struct ByteView {
    let bytes: UnsafeRawBufferPointer

    func load<T: FixedWidthInteger>(_ offset: Int, as: T.Type, bigEndian: Bool = false) -> T {
        let raw = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        return bigEndian ? T(bigEndian: raw) : T(littleEndian: raw)
    }

    func float(_ offset: Int, bigEndian: Bool = false) -> Float { Float(bitPattern: load(offset, as: UInt32.self, bigEndian: bigEndian)) }
    func double(_ offset: Int, bigEndian: Bool = false) -> Double { Double(bitPattern: load(offset, as: UInt64.self, bigEndian: bigEndian)) }
}

extension Array where Element == UInt8 {
    mutating func append<T: FixedWidthInteger>(le value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

/// Names for columns a file does not name: x, y, z, then `scalar_1`, `scalar_2`, …
func unnamedColumns(_ count: Int) -> [String] {
    Array(["x", "y", "z"].prefix(count)) + (count > 3 ? (1 ... count - 3).map { "scalar_\($0)" } : [])
}

/// A cloud from columns: those named x, y, z become positions, the rest scalar fields, in file order.
/// `values` is point-major with `names.count` values per point.
func cloudFromColumns(_ names: [String], _ values: [Float], colors: [PointCloud.Color]? = nil) -> PointCloud {
    let width = names.count, n = width == 0 ? 0 : values.count / width
    let xi = names.firstIndex(of: "x")!, yi = names.firstIndex(of: "y")!, zi = names.firstIndex(of: "z")!
    var positions = [SIMD3<Float>](repeating: .zero, count: n)
    values.withUnsafeBufferPointer { v in
        for i in 0 ..< n { positions[i] = SIMD3(v[i * width + xi], v[i * width + yi], v[i * width + zi]) }
    }
    let fields = names.indices.filter { ![xi, yi, zi].contains($0) }.map { c in
        values.withUnsafeBufferPointer { v in
            PointCloud.Field(name: names[c], values: (0 ..< n).map { v[$0 * width + c] })
        }
    }
    return PointCloud(positions: positions, colors: colors, fields: fields)
}
