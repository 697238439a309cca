import Foundation

/// XYZ, TXT, CSV and PTS files: one point per line, `x y z [more]`, the values separated by spaces,
/// tabs, commas or semicolons (the first data line decides).
///
/// An optional header line names the columns (x, y and z among them, in any case; red/green/blue or
/// r/g/b become colours); without one the columns are x, y, z, then `scalar_1`, `scalar_2`, … — six
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

    /// The token as a float, or nil unless the whole token is one number (strtof: correctly rounded).
    static func number(_ b: UnsafeBufferPointer<UInt8>, _ token: Range<Int>) -> Float? {
        guard !token.isEmpty, !isBlank(b[token.lowerBound]) else { return nil }
        let begin = UnsafeRawPointer(b.baseAddress! + token.lowerBound).assumingMemoryBound(to: CChar.self)
        var end: UnsafeMutablePointer<CChar>?
        let v = strtof(begin, &end)
        guard let end, UnsafePointer(end) - begin == token.count else { return nil }
        return v
    }

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

    /// Colours from red/green/blue (or r/g/b) columns, 0–255; the rest through `cloudFromColumns`.
    private static func columns(_ names: [String], _ values: [Float], path: String) -> PointCloud {
        let lower = names.map { $0.lowercased() }
        let rgb = [["red", "green", "blue"], ["r", "g", "b"]].lazy
            .compactMap { set in set.map { lower.firstIndex(of: $0) }.allSatisfy { $0 != nil } ? set.map { lower.firstIndex(of: $0)! } : nil }
            .first
        guard let rgb else { return cloudFromColumns(names, values) }
        let width = names.count, n = values.count / width
        let colors = (0 ..< n).map { i in
            let c = rgb.map { (column: Int) -> UInt8 in
                let v = values[i * width + column]
                return v.isNaN ? 0 : UInt8(min(max(v.rounded(), 0), 255))
            }
            return PointCloud.Color(r: c[0], g: c[1], b: c[2])
        }
        let keep = names.indices.filter { !rgb.contains($0) }
        var kept = [Float]()
        kept.reserveCapacity(n * keep.count)
        for i in 0 ..< n { for c in keep { kept.append(values[i * width + c]) } }
        return cloudFromColumns(keep.map { names[$0] }, kept, colors: colors)
    }
}
