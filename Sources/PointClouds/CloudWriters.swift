/// A cloud as a table of float columns, what text and NPY files hold: x, y, z, then `red`, `green`,
/// `blue` (and `alpha` for rgba) when it has colours, then each field (a field of k components as
/// `NAME_0` … `NAME_k-1`). Values point-major.
struct CloudColumns {
    var names: [String]
    var values: [Float]

    init(_ cloud: PointCloud) {
        names = ["x", "y", "z"]
        if cloud.colors != nil { names += ["red", "green", "blue"] + (cloud.colorHasAlpha ? ["alpha"] : []) }
        for f in cloud.fields { names += f.components == 1 ? [f.name] : (0 ..< f.components).map { "\(f.name)_\($0)" } }
        values = []
        values.reserveCapacity(cloud.count * names.count)
        for i in 0 ..< cloud.count {
            let p = cloud.positions[i]
            values += [p.x, p.y, p.z]
            if let c = cloud.colors?[i] {
                values += [Float(c.r), Float(c.g), Float(c.b)]
                if cloud.colorHasAlpha { values.append(Float(c.a)) }
            }
            for f in cloud.fields { values += f.values[i * f.components ..< (i + 1) * f.components] }
        }
    }
}

/// XYZ / TXT / PTS / CSV output: a header line of the column names, then a line per point. Numbers are
/// the shortest text that reads back as the same float (`nan`, `inf` for those), so a file written here
/// reads back bit-exact.
enum CloudTextWriter {
    static func bytes(_ cloud: PointCloud, separator: String) -> [UInt8] {
        let table = CloudColumns(cloud)
        let width = table.names.count
        var text = table.names.joined(separator: separator) + "\n"
        text.reserveCapacity(cloud.count * width * 12)
        for i in 0 ..< cloud.count {
            for c in 0 ..< width {
                if c > 0 { text += separator }
                text += table.values[i * width + c].description
            }
            text += "\n"
        }
        return Array(text.utf8)
    }
}

/// NPY output: one little-endian float32 array of N × columns (`CloudColumns`), C order, format 1.0.
enum NumPyWriter {
    static func bytes(_ cloud: PointCloud) -> [UInt8] {
        let table = CloudColumns(cloud)
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(cloud.count), \(table.names.count)), }"
        // The format pads the header with spaces and a newline so the data starts at a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        out.append(le: UInt16(header.utf8.count))
        out += Array(header.utf8)
        out.reserveCapacity(out.count + table.values.count * 4)
        for v in table.values { out.append(le: v.bitPattern) }
        return out
    }
}
