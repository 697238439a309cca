/// NumPy `.npy` files (format versions 1, 2 and 3): one N × C array, C ≥ 3, of float32 or float64,
/// either byte order, C or Fortran order. The columns are x, y, z, then `scalar_1`, `scalar_2`, …;
/// float64 values are rounded to float32. The header's shape must account for the data exactly.
enum NumPyReader {
    static func read(_ bytes: [UInt8], path: String) throws(PointCloudError) -> PointCloud {
        func invalid(_ reason: String) -> PointCloudError { .invalid(path: path, reason: reason) }
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 10, Array(bytes.prefix(6)) == magic else { throw invalid("not a NumPy .npy file (no \\x93NUMPY magic)") }
        let major = bytes[6]
        guard (1 ... 3).contains(major) else { throw invalid("NPY format version \(major) (pcdiag reads 1, 2 and 3)") }
        let lengthSize = major == 1 ? 2 : 4
        guard bytes.count >= 8 + lengthSize else { throw invalid("truncated header") }
        let headerLength = lengthSize == 2 ? Int(bytes[8]) | Int(bytes[9]) << 8
            : (8 ..< 12).reduce(0) { $0 | Int(bytes[$1]) << (8 * ($1 - 8)) }
        let dataStart = 8 + lengthSize + headerLength
        guard dataStart <= bytes.count else { throw invalid("the header length \(headerLength) runs past the end of the file") }
        let header = String(decoding: bytes[(8 + lengthSize) ..< dataStart], as: UTF8.self)

        guard let descr = quoted(after: "'descr'", in: header) else { throw invalid("the header has no 'descr'") }
        let bigEndian: Bool, size: Int
        switch descr {
        case "<f4", "=f4": (bigEndian, size) = (false, 4)
        case ">f4": (bigEndian, size) = (true, 4)
        case "<f8", "=f8": (bigEndian, size) = (false, 8)
        case ">f8": (bigEndian, size) = (true, 8)
        default: throw invalid("dtype '\(descr.prefix(20))' (pcdiag reads float32 and float64 arrays)")
        }
        guard let order = value(after: "'fortran_order'", in: header), order.hasPrefix("True") || order.hasPrefix("False") else {
            throw invalid("the header has no fortran_order True or False")
        }
        let fortran = order.hasPrefix("True")
        guard let shapeText = value(after: "'shape'", in: header), shapeText.first == "(", let close = shapeText.firstIndex(of: ")") else {
            throw invalid("the header has no shape")
        }
        let dims = shapeText[shapeText.index(after: shapeText.startIndex) ..< close].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { Int($0) }
        guard dims.count == 2, let n = dims[0], let c = dims[1], n >= 0, c >= 0 else {
            throw invalid("shape (\(shapeText[shapeText.index(after: shapeText.startIndex) ..< close].prefix(40))): pcdiag reads a 2-D array of N points × 3 or more columns")
        }
        guard c >= 3 else { throw invalid("\(c) columns (x, y and z are needed)") }
        let (cells, o1) = n.multipliedReportingOverflow(by: c)
        let (needed, o2) = cells.multipliedReportingOverflow(by: size)
        guard !o1, !o2, needed == bytes.count - dataStart else {
            throw invalid("the shape (\(n), \(c)) of \(descr) needs \(o1 || o2 ? "more" : "\(needed)") bytes of data, the file has \(bytes.count - dataStart)")
        }
        guard n > 0 else { throw invalid("the cloud has no points") }

        var values = [Float](repeating: 0, count: cells)
        bytes.withUnsafeBytes { raw in
            let view = ByteView(bytes: UnsafeRawBufferPointer(rebasing: raw[dataStart...]))
            for i in 0 ..< n {
                for j in 0 ..< c {
                    let at = (fortran ? j * n + i : i * c + j) * size
                    values[i * c + j] = size == 4 ? view.float(at, bigEndian: bigEndian) : Float(view.double(at, bigEndian: bigEndian))
                }
            }
        }
        return cloudFromColumns(unnamedColumns(c), values)
    }

    /// The text after `key:` up to the end, leading spaces removed.
    private static func value(after key: String, in header: String) -> Substring? {
        guard let range = header.range(of: key) else { return nil }
        let rest = header[range.upperBound...].drop { $0 == " " }
        guard rest.first == ":" else { return nil }
        return rest.dropFirst().drop { $0 == " " }
    }

    private static func quoted(after key: String, in header: String) -> String? {
        guard let v = value(after: key, in: header), let q = v.first, q == "'" || q == "\"" else { return nil }
        let inner = v.dropFirst()
        return inner.firstIndex(of: q).map { String(inner[..<$0]) }
    }
}

/// Raw float32 records, as KITTI (x, y, z, intensity) and nuScenes (x, y, z, intensity, ring) store
/// lidar sweeps in `.bin` files: `fields` names the record's floats in order, little-endian. The file's
/// size must be a whole number of records.
enum RawRecordReader {
    static func read(_ bytes: [UInt8], path: String, fields: [String]) throws(PointCloudError) -> PointCloud {
        let record = 4 * fields.count
        guard bytes.count % record == 0 else {
            throw .invalid(path: path, reason: "\(bytes.count) bytes is not a whole number of \(record)-byte records (\(fields.joined(separator: ","))); give the layout with --bin-fields")
        }
        guard !bytes.isEmpty else { throw .invalid(path: path, reason: "the cloud has no points") }
        let values = bytes.withUnsafeBytes { raw in
            let view = ByteView(bytes: raw)
            return (0 ..< bytes.count / 4).map { view.float($0 * 4) }
        }
        return cloudFromColumns(fields, values)
    }
}
