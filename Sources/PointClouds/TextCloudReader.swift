import Foundation

/// XYZ, TXT, CSV and PTS files: one point per line, `x y z [more]`, the values separated by spaces,
/// tabs, commas or semicolons (the first data line decides).
///
/// An optional header line names the columns (x, y and z among them, in any case; red/green/blue or
/// r/g/b, with alpha or a, become colours); without one the columns are x, y, z, then `scalar_1`, `scalar_2`, … — six
/// columns are x, y, z and a normal (`normal_x` …), as ModelNet40's resampled files have them. A
/// leading line with one integer is a point count (PTS) and must match; a PTS file's 4th column is
/// `intensity`, its last three the colour when it has 6 or 7. Empty lines and `#` lines are skipped.
/// `nan` and `inf` are read as such and kept, as the PCD reader keeps them. Every line must have as
/// many values as the first; numbers are parsed as float32, correctly rounded.
enum TextCloudReader {
    static func read(_ bytes: [UInt8], path: String, format: PointCloudFormat) throws(PointCloudError) -> PointCloud {
        var buffer = bytes
        buffer.append(0)  // strtof stops at a separator or at this terminator
        return try buffer.withUnsafeBufferPointer { b in
            Result { () throws(PointCloudError) in try parse(b, size: bytes.count, path: path, pts: format == .pts) }
        }.get()
    }

    private enum Separator { case whitespace, byte(UInt8) }

    static func isBlank(_ c: UInt8) -> Bool { c == 32 || c == 9 }

    private static func parse(_ b: UnsafeBufferPointer<UInt8>, size: Int, path: String, pts: Bool) throws(PointCloudError) -> PointCloud {
        var separator: Separator?
        var names: [String]?
        var declaredCount: Int?
        var width = 0
        var values = [Float]()
        var tokens = [Range<Int>]()
        var lineNumber = 0, start = 0, points = 0, contentLines = 0
        while start < size {
            lineNumber += 1
            var end = start
            while end < size && b[end] != 10 { end += 1 }
            let next = end + 1
            if end > start && b[end - 1] == 13 { end -= 1 }
            var first = start
            while first < end && isBlank(b[first]) { first += 1 }
            defer { start = next }
            if first == end || b[first] == 35 { continue }  // empty, or a # comment
            if separator == nil {
                let line = b[first ..< end]
                separator = line.contains(44) ? .byte(44) : line.contains(59) ? .byte(59) : .whitespace
            }
            split(b, first ..< end, separator!, into: &tokens)
            contentLines += 1
            if width == 0 && names == nil {
                // Before the data: a count line (first), or a header (the only line that is not numbers).
                if contentLines == 1, tokens.count == 1, let n = Int(text(b, tokens[0])) {
                    guard n >= 0 else { throw .invalid(path: path, reason: "line \(lineNumber): a negative point count \(n)") }
                    declaredCount = n
                    continue
                }
                if tokens.contains(where: { number(b, $0) == nil }) {
                    let header = try header(tokens.map { text(b, $0) }, path: path, line: lineNumber)
                    names = header
                    width = header.count
                    continue
                }
            }
            if width == 0 {
                width = tokens.count
                guard width >= 3 else {
                    throw .invalid(path: path, reason: "line \(lineNumber) has \(width) value\(width == 1 ? "" : "s") (x, y and z are needed)")
                }
                // A value takes two bytes at least (a digit and a separator): what the rest of the file can hold.
                values.reserveCapacity((size - start) / 2 + width)
            }
            guard tokens.count == width else {
                throw .invalid(path: path, reason: "line \(lineNumber) has \(tokens.count) values, expected \(width)")
            }
            for t in tokens {
                guard let v = number(b, t) else {
                    throw .invalid(path: path, reason: "line \(lineNumber): '\(text(b, t).prefix(40))' is not a number")
                }
                values.append(v)
            }
            points += 1
        }
        if let declaredCount, declaredCount != points {
            throw .invalid(path: path, reason: "the count line says \(declaredCount) points, the file has \(points)")
        }
        guard points > 0 else { throw .invalid(path: path, reason: "the cloud has no points") }
        return columns(names ?? defaultNames(width, pts: pts), values, path: path)
    }

    private static func split(_ b: UnsafeBufferPointer<UInt8>, _ line: Range<Int>, _ separator: Separator, into tokens: inout [Range<Int>]) {
        tokens.removeAll(keepingCapacity: true)
        switch separator {
        case .whitespace:
            var i = line.lowerBound
            while i < line.upperBound {
                while i < line.upperBound && isBlank(b[i]) { i += 1 }
                let s = i
                while i < line.upperBound && !isBlank(b[i]) { i += 1 }
                if i > s { tokens.append(s ..< i) }
            }
        case .byte(let sep):
            var s = line.lowerBound
            while true {
                var e = s
                while e < line.upperBound && b[e] != sep { e += 1 }
                var lo = s, hi = e
                while lo < hi && isBlank(b[lo]) { lo += 1 }
                while hi > lo && isBlank(b[hi - 1]) { hi -= 1 }
                tokens.append(lo ..< hi)
                if e == line.upperBound { break }
                s = e + 1
            }
        }
    }

    /// The token as a float, or nil unless the whole token is one number (correctly rounded: the fast
    /// path below, else strtof).
    static func number(_ b: UnsafeBufferPointer<UInt8>, _ token: Range<Int>) -> Float? {
        guard !token.isEmpty, !isBlank(b[token.lowerBound]) else { return nil }
        if let fast = decimal(b, token) { return fast }
        let begin = UnsafeRawPointer(b.baseAddress! + token.lowerBound).assumingMemoryBound(to: CChar.self)
        var end: UnsafeMutablePointer<CChar>?
        let v = strtof(begin, &end)
        guard let end, UnsafePointer(end) - begin == token.count else { return nil }
        return v
    }

    /// Plain decimal text (`-12.5`, `3e-4`) as a float without strtof, where that is exact: at most 19
    /// significant digits and a power of ten within ±22 make one correctly rounded double operation
    /// (Clinger's fast path); rounding that double to float then equals rounding the text to float
    /// unless the double lies exactly halfway between two floats, or outside the normal float range.
    /// nil: leave it to strtof (also nan, inf, hex and anything malformed). Text reads 1.3–2.4× faster
    /// with it (BENCHMARKS.md).
    static func decimal(_ b: UnsafeBufferPointer<UInt8>, _ token: Range<Int>) -> Float? {
        var i = token.lowerBound
        let end = token.upperBound
        let negative = b[i] == 45
        if negative || b[i] == 43 { i += 1 }
        var mantissa: UInt64 = 0, digits = 0, exponent = 0, seen = false
        var fraction = false
        while i < end {
            let c = b[i]
            if c == 46 && !fraction {
                fraction = true
            } else if c &- 48 < 10 {
                seen = true
                if mantissa != 0 || c != 48 {
                    digits += 1
                    if digits > 19 { return nil }
                    mantissa = mantissa * 10 + UInt64(c - 48)
                }
                if fraction { exponent -= 1 }
            } else {
                break
            }
            i += 1
        }
        guard seen else { return nil }
        if i < end && (b[i] == 101 || b[i] == 69) {
            i += 1
            let negativeExponent = i < end && b[i] == 45
            if i < end && (b[i] == 45 || b[i] == 43) { i += 1 }
            var e = 0, eDigits = 0
            while i < end && b[i] &- 48 < 10 && e < 10_000 {
                e = e * 10 + Int(b[i] - 48)
                eDigits += 1
                i += 1
            }
            guard eDigits > 0 else { return nil }
            exponent += negativeExponent ? -e : e
        }
        guard i == end, mantissa < 1 << 53, exponent >= -22, exponent <= 22 else { return nil }
        let value = exponent < 0 ? Double(mantissa) / powersOfTen[-exponent] : Double(mantissa) * powersOfTen[exponent]
        if value != 0 {
            guard value >= Double(Float.leastNormalMagnitude), value <= Double(Float.greatestFiniteMagnitude),
                  value.bitPattern & 0x1FFF_FFFF != 0x1000_0000 else { return nil }
        }
        return negative ? -Float(value) : Float(value)
    }

    /// 10^0 … 10^22, each exact in a double (5^22 < 2^53).
    private static let powersOfTen: [Double] = (0 ... 22).reduce(into: []) { table, k in table.append(k == 0 ? 1 : table[k - 1] * 10) }

    static func text(_ b: UnsafeBufferPointer<UInt8>, _ token: Range<Int>) -> String {
        String(decoding: b[token], as: UTF8.self)
    }

    private static func header(_ raw: [String], path: String, line: Int) throws(PointCloudError) -> [String] {
        let names = raw.map { name -> String in
            let unquoted = name.trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            return ["x", "y", "z"].contains(unquoted.lowercased()) ? unquoted.lowercased() : unquoted
        }
        guard ["x", "y", "z"].allSatisfy(names.contains) else {
            throw .invalid(path: path, reason: "line \(line) is not numbers, nor a header naming x, y and z")
        }
        var seen = Set<String>()
        if let twice = names.first(where: { !seen.insert($0).inserted }) {
            throw .invalid(path: path, reason: "line \(line): the header names '\(twice.prefix(40))' twice")
        }
        if let empty = names.firstIndex(where: \.isEmpty) {
            throw .invalid(path: path, reason: "line \(line): header column \(empty + 1) has no name")
        }
        return names
    }

    private static func defaultNames(_ width: Int, pts: Bool) -> [String] {
        if pts {
            switch width {
            case 4: return ["x", "y", "z", "intensity"]
            case 6: return ["x", "y", "z", "red", "green", "blue"]
            case 7: return ["x", "y", "z", "intensity", "red", "green", "blue"]
            default: break
            }
        }
        if width == 6 { return ["x", "y", "z", "normal_x", "normal_y", "normal_z"] }
        return unnamedColumns(width)
    }

    /// Colours from red/green/blue (or r/g/b) columns, 0–255, with alpha (or a) when there is one, as
    /// the text writer writes an rgba cloud; the rest through `cloudFromColumns`.
    private static func columns(_ names: [String], _ values: [Float], path: String) -> PointCloud {
        let lower = names.map { $0.lowercased() }
        let sets = [["red", "green", "blue", "alpha"], ["r", "g", "b", "a"]]
        guard let set = sets.first(where: { $0.prefix(3).allSatisfy(lower.contains) }) else { return cloudFromColumns(names, values) }
        let rgba = set.compactMap { lower.firstIndex(of: $0) }  // three, or four with alpha
        let width = names.count, n = values.count / width
        let colors = (0 ..< n).map { i in
            let c = rgba.map { (column: Int) -> UInt8 in
                let v = values[i * width + column]
                return v.isNaN ? 0 : UInt8(min(max(v.rounded(), 0), 255))
            }
            return PointCloud.Color(r: c[0], g: c[1], b: c[2], a: c.count == 4 ? c[3] : 255)
        }
        let keep = names.indices.filter { !rgba.contains($0) }
        var kept = [Float]()
        kept.reserveCapacity(n * keep.count)
        for i in 0 ..< n { for c in keep { kept.append(values[i * width + c]) } }
        var cloud = cloudFromColumns(keep.map { names[$0] }, kept, colors: colors)
        cloud.colorHasAlpha = rgba.count == 4
        return cloud
    }
}
