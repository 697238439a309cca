/// LAS 1.0–1.4 files (ASPRS), point data record formats 0–10, uncompressed.
///
/// Positions are the stored integers × scale + offset (in double precision, then rounded to float32).
/// Kept as fields: `intensity`, `return_number`, `number_of_returns`, `classification`; formats 2, 3,
/// 5, 7, 8 and 10 carry RGB, kept as the cloud's colours (16-bit values scaled to 8 bits when any
/// exceeds 255, as most writers store 8-bit colour × 256). The header's point count, record length
/// and offset are checked against the file's size before anything is allocated.
enum LASReader {
    /// The smallest record of each point data format, in bytes.
    static let recordSizes = [20, 28, 26, 34, 57, 63, 30, 36, 38, 59, 67]
    /// Where each format keeps R, G, B (three UInt16), if it has them.
    static let rgbOffsets: [Int: Int] = [2: 20, 3: 28, 5: 28, 7: 30, 8: 30, 10: 30]

    static func compressed(_ path: String) -> PointCloudError {
        .invalid(path: path, reason: "LAZ (compressed LAS) is not read; convert it first: pdal translate \(path) out.las, or las2las -i \(path) -o out.las")
    }

    static func read(_ bytes: [UInt8], path: String) throws(PointCloudError) -> PointCloud {
        func invalid(_ reason: String) -> PointCloudError { .invalid(path: path, reason: reason) }
        guard bytes.count >= 227, bytes.starts(with: Array("LASF".utf8)) else {
            throw invalid(bytes.starts(with: Array("LASF".utf8)) ? "truncated header (\(bytes.count) bytes)" : "not a LAS file (no LASF signature)")
        }
        return try bytes.withUnsafeBytes { raw in Result { () throws(PointCloudError) -> PointCloud in
            let v = ByteView(bytes: raw)
            let major = raw[24], minor = raw[25]
            guard major == 1, minor <= 4 else { throw invalid("LAS version \(major).\(minor) (pcdiag reads 1.0 to 1.4)") }
            let headerSize = Int(v.load(94, as: UInt16.self))
            let offset = Int(v.load(96, as: UInt32.self))
            let formatID = raw[104]
            if formatID & 0xC0 != 0 { throw compressed(path) }
            guard Int(formatID) < recordSizes.count else { throw invalid("point data format \(formatID) (pcdiag reads 0 to 10)") }
            let format = Int(formatID)
            let length = Int(v.load(105, as: UInt16.self))
            guard length >= recordSizes[format] else {
                throw invalid("a record length of \(length) bytes, less than format \(format)'s \(recordSizes[format])")
            }
            var count = Int(v.load(107, as: UInt32.self))
            if minor >= 4 && headerSize >= 375 && bytes.count >= 255 {
                let full = v.load(247, as: UInt64.self)
                if full != 0 {
                    guard full <= UInt64(Int.max) else { throw invalid("an implausible point count \(full)") }
                    count = Int(full)
                }
            }
            guard headerSize >= 227, headerSize <= offset else {
                throw invalid("the header size \(headerSize) and the point data offset \(offset) do not fit together")
            }
            let (dataBytes, overflow) = count.multipliedReportingOverflow(by: length)
            guard !overflow, offset <= bytes.count, dataBytes <= bytes.count - offset else {
                throw invalid("the header promises \(count) points of \(length) bytes from byte \(offset), more than the file's \(bytes.count) bytes")
            }
            guard count > 0 else { throw invalid("the cloud has no points") }
            let scale = SIMD3(v.double(131), v.double(139), v.double(147))
            let origin = SIMD3(v.double(155), v.double(163), v.double(171))
            guard scale.x.isFinite, scale.y.isFinite, scale.z.isFinite, origin.x.isFinite, origin.y.isFinite, origin.z.isFinite else {
                throw invalid("a scale or offset that is not a finite number")
            }
            let extended = format >= 6
            var positions = [SIMD3<Float>](repeating: .zero, count: count)
            var intensity = [Float](repeating: 0, count: count), returnNumber = intensity, returns = intensity, classes = intensity
            var rgb = rgbOffsets[format].map { _ in [SIMD3<UInt16>](repeating: .zero, count: count) }
            for i in 0 ..< count {
                let at = offset + i * length
                let stored = SIMD3(Double(v.load(at, as: Int32.self)), Double(v.load(at + 4, as: Int32.self)), Double(v.load(at + 8, as: Int32.self)))
                positions[i] = SIMD3<Float>(stored * scale + origin)
                intensity[i] = Float(v.load(at + 12, as: UInt16.self))
                let bits = raw[at + 14]
                returnNumber[i] = Float(extended ? bits & 0x0F : bits & 0x07)
                returns[i] = Float(extended ? bits >> 4 : (bits >> 3) & 0x07)
                classes[i] = Float(extended ? raw[at + 16] : raw[at + 15] & 0x1F)
                if let c = rgbOffsets[format] {
                    rgb![i] = SIMD3(v.load(at + c, as: UInt16.self), v.load(at + c + 2, as: UInt16.self), v.load(at + c + 4, as: UInt16.self))
                }
            }
            let colors = rgb.map { rgb in
                let shift: UInt16 = rgb.contains { $0.max() > 255 } ? 8 : 0
                return rgb.map { PointCloud.Color(r: UInt8(truncatingIfNeeded: $0.x >> shift), g: UInt8(truncatingIfNeeded: $0.y >> shift),
                                                  b: UInt8(truncatingIfNeeded: $0.z >> shift)) }
            }
            return PointCloud(positions: positions, colors: colors, fields: [
                .init(name: "intensity", values: intensity), .init(name: "return_number", values: returnNumber),
                .init(name: "number_of_returns", values: returns), .init(name: "classification", values: classes),
            ])
        } }.get()
    }
}
