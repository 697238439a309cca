/// PCD files read without PCL: the cloud PCL's reader (through the bridge) gives, bit for bit, for the
/// files pcdiag meets — ascii, binary and binary_compressed (LZF) data of F (4 or 8 bytes), I and U
/// (1, 2 or 4 bytes) fields, with a VERSION 0.7 style header. Values reach the cloud as the bridge
/// passes them (each widened to double, then rounded to float), and fields map as `BridgeCloud` maps
/// them.
///
/// Why: PCL's I/O library needs VTK, about ninety shared libraries that take longer to load than a
/// small cloud takes to read and classify; a command that only reads .pcd files never loads them.
///
/// It returns nil for anything else — a header key or type it does not know, data it cannot account
/// for exactly, and every file that PCL's header check (`file_check.cpp`) would refuse — and then PCL
/// reads the file, so its checks and messages stay the one answer for those. Every offset is checked
/// against the bytes before it is read; nothing is allocated that the file's size does not cover.
enum PCDReader {
    static func read(_ bytes: [UInt8], path: String) throws(PointCloudError) -> (cloud: PointCloud, encoding: PointCloudEncoding)? {
        guard let header = Header(bytes) else { return nil }
        let records: [UInt8]
        let layout: [(base: Int, stride: Int)]
        switch header.encoding {
        case .binary:
            guard header.points * header.step <= bytes.count - header.dataStart else { return nil }
            records = bytes
            layout = header.offsets.map { (header.dataStart + $0, header.step) }
        case .compressed:
            guard let (data, blocks) = decompress(bytes, header) else { return nil }
            records = data
            layout = blocks
        case .ascii:
            guard let data = parseASCII(bytes, header) else { return nil }
            records = data
            layout = header.offsets.map { ($0, header.step) }
        }
        let n = header.points
        let fields = header.fields.map {
            BridgeCloud.FieldInfo(name: $0.name, components: $0.count,
                                  holdsWords: $0.count == 1 && $0.size == 4)  // I4, U4 or F4: rgb as 32-bit words
        }
        let assembled = records.withUnsafeBytes { raw in Result { () throws(PointCloudError) in
            let view = ByteView(bytes: raw)
            return try BridgeCloud.assemble(width: header.width, height: header.height, fields: fields, path: path, floats: { index in
                let f = header.fields[index], (base, stride) = layout[index]
                var values = [Float](repeating: 0, count: n * f.count)
                for i in 0 ..< n {
                    for c in 0 ..< f.count { values[i * f.count + c] = f.value(view, base + i * stride + c * f.size) }
                }
                return values
            }, words: { index in
                let (base, stride) = layout[index]
                return (0 ..< n).map { view.load(base + $0 * stride, as: UInt32.self) }
            })
        } }
        return (try assembled.get(), header.encoding)
    }

    /// One field of the header: TYPE letter, SIZE and COUNT.
    struct Field {
        var name: String
        var type: UInt8  // F, I or U
        var size: Int
        var count: Int

        /// The stored value at `offset`, widened to double and rounded to float, as the bridge does.
        func value(_ view: ByteView, _ offset: Int) -> Float {
            switch (type, size) {
            case (UInt8(ascii: "F"), 4): view.float(offset)
            case (UInt8(ascii: "F"), _): Float(view.double(offset))
            case (UInt8(ascii: "I"), 1): Float(Double(view.load(offset, as: Int8.self)))
            case (UInt8(ascii: "I"), 2): Float(Double(view.load(offset, as: Int16.self)))
            case (UInt8(ascii: "I"), _): Float(Double(view.load(offset, as: Int32.self)))
            case (_, 1): Float(Double(view.load(offset, as: UInt8.self)))
            case (_, 2): Float(Double(view.load(offset, as: UInt16.self)))
            default: Float(Double(view.load(offset, as: UInt32.self)))
            }
        }
    }

    /// The header, held to what PCL's check accepts and to the keys and types read here.
    struct Header {
        var fields = [Field]()
        var width = 0, height = 0, points = 0
        var encoding = PointCloudEncoding.binary
        var dataStart = 0
        /// Each field's byte offset in a point record, and the record's size.
        var offsets = [Int](), step = 0

        // The limits of file_check.cpp: a longer header, a larger record or more values are refused.
        static let maxHeaderBytes = 1 << 20
        static let maxRecord = 1 << 20

        init?(_ bytes: [UInt8]) {
            var seen = Set<String>()
            var names: [String]?, types: [String]?, sizes: [Int]?, countLine: [Int]?
            var width: Int?, height: Int?, points: Int?
            var start = 0
            var haveData = false
            while !haveData {
                guard start < bytes.count, let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")),
                      end + 1 <= Self.maxHeaderBytes else { return nil }
                let words = bytes[start ..< end].split(whereSeparator: isSpace).map { String(decoding: $0, as: UTF8.self) }
                start = end + 1
                guard let key = words.first, !key.hasPrefix("#") else { continue }
                guard seen.insert(key).inserted else { return nil }
                let rest = Array(words.dropFirst())
                switch key {
                case "VERSION", "VIEWPOINT": continue
                case "FIELDS":
                    guard rest.allSatisfy({ $0.utf8.allSatisfy { (0x21 ... 0x7E).contains($0) } }) else { return nil }
                    names = rest
                case "TYPE": types = rest
                case "SIZE", "COUNT":
                    let values = rest.compactMap(Self.number)
                    guard values.count == rest.count, values.allSatisfy({ $0 <= 1_000_000 }) else { return nil }
                    if key == "SIZE" { sizes = values } else { countLine = values }
                case "WIDTH", "HEIGHT", "POINTS":
                    guard rest.count == 1, let value = Self.number(rest[0]), value <= UInt32.max else { return nil }
                    switch key {
                    case "WIDTH": width = value
                    case "HEIGHT": height = value
                    default: points = value
                    }
                case "DATA":
                    switch rest.first {
                    case "ascii": encoding = .ascii
                    case "binary": encoding = .binary
                    case "binary_compressed": encoding = .compressed
                    default: return nil
                    }
                    haveData = true
                default: return nil
                }
            }
            guard let names, let types, let sizes, let width, let height, let points,
                  !names.isEmpty, types.count == names.count, sizes.count == names.count,
                  height > 0, points > 0, width.multipliedReportingOverflow(by: height) == (points, false) else { return nil }
            let counts = countLine ?? Array(repeating: 1, count: names.count)
            guard counts.count == names.count else { return nil }
            for i in names.indices {
                guard counts[i] > 0, let type = types[i].utf8.first, types[i].utf8.count == 1 else { return nil }
                switch (type, sizes[i]) {
                case (UInt8(ascii: "F"), 4), (UInt8(ascii: "F"), 8),
                     (UInt8(ascii: "I"), 1), (UInt8(ascii: "I"), 2), (UInt8(ascii: "I"), 4),
                     (UInt8(ascii: "U"), 1), (UInt8(ascii: "U"), 2), (UInt8(ascii: "U"), 4): break
                default: return nil
                }
                fields.append(Field(name: names[i], type: type, size: sizes[i], count: counts[i]))
                offsets.append(step)
                step += sizes[i] * counts[i]
            }
            guard step <= Self.maxRecord, counts.reduce(0, +) <= Self.maxRecord else { return nil }
            (self.width, self.height, self.points, dataStart) = (width, height, points, start)
        }

        /// A whole number written in decimal digits alone, as the header check reads them.
        static func number(_ word: String) -> Int? {
            guard (1 ... 18).contains(word.utf8.count), word.utf8.allSatisfy({ (0x30 ... 0x39).contains($0) }) else { return nil }
            return Int(word)
        }
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09 ... 0x0D).contains(byte) }

    /// binary_compressed: two little-endian sizes, then LZF data that holds each field's values for
    /// all points in turn (the field blocks, in header order). Returns the data and where each field's
    /// block starts, with the stride of one point's values in it.
    static func decompress(_ bytes: [UInt8], _ header: Header) -> (data: [UInt8], blocks: [(base: Int, stride: Int)])? {
        let start = header.dataStart
        guard bytes.count - start >= 8 else { return nil }
        let (compressed, size) = bytes.withUnsafeBytes { raw in
            let view = ByteView(bytes: raw)
            return (Int(view.load(start, as: UInt32.self)), Int(view.load(start + 4, as: UInt32.self)))
        }
        // The check's bounds: the block lies in the file, holds the promised records, and claims no
        // ratio LZF cannot reach.
        guard compressed + 8 <= bytes.count - start, size == header.points * header.step,
              size <= compressed * 128 + 4096,
              let data = lzf(bytes[(start + 8) ..< (start + 8 + compressed)], size: size) else { return nil }
        var blocks = [(base: Int, stride: Int)](), base = 0
        for f in header.fields {
            blocks.append((base, f.size * f.count))
            base += header.points * f.size * f.count
        }
        return (data, blocks)
    }

    /// LZF (the format of liblzf, which PCL writes): literal runs and back references. Nil unless the
    /// input decodes to exactly `size` bytes with every reference inside what was already written.
    static func lzf(_ input: ArraySlice<UInt8>, size: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: size)
        let complete = out.withUnsafeMutableBufferPointer { out -> Bool in
            input.withUnsafeBufferPointer { input -> Bool in
                var i = 0, o = 0
                while i < input.count {
                    let control = Int(input[i])
                    i += 1
                    if control < 32 {
                        let length = control + 1
                        guard i + length <= input.count, o + length <= size else { return false }
                        for k in 0 ..< length { out[o + k] = input[i + k] }
                        i += length
                        o += length
                    } else {
                        var length = control >> 5
                        if length == 7 {
                            guard i < input.count else { return false }
                            length += Int(input[i])
                            i += 1
                        }
                        length += 2
                        guard i < input.count else { return false }
                        let back = (control & 0x1F) << 8 + Int(input[i]) + 1
                        i += 1
                        guard back <= o, o + length <= size else { return false }
                        // Byte by byte: a reference may overlap what it writes (a repeated run).
                        for k in 0 ..< length { out[o + k] = out[o + k - back] }
                        o += length
                    }
                }
                return o == size
            }
        }
        return complete ? out : nil
    }

    /// ascii: one line per point with every value of every field, in header order, as point records
    /// (what PCL builds). Words are plain decimals ("nan" for NaN) that the stored type holds; any
    /// other spelling (inf, hexadecimal, a fraction in an integer field) is left to PCL.
    static func parseASCII(_ bytes: [UInt8], _ header: Header) -> [UInt8]? {
        var slots = [(field: Field, offset: Int)]()
        for (f, offset) in zip(header.fields, header.offsets) {
            for c in 0 ..< f.count { slots.append((f, offset + c * f.size)) }
        }
        // Each value takes a character and a separator: the file must be able to hold them (the check's bound).
        let (cells, overflow) = header.points.multipliedReportingOverflow(by: slots.count)
        guard !overflow, cells * 2 <= bytes.count - header.dataStart + 1 else { return nil }
        var records = [UInt8](repeating: 0, count: header.points * header.step)
        var point = 0
        let ok = records.withUnsafeMutableBytes { out -> Bool in
            var start = header.dataStart
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                // PCL splits a line at spaces, tabs and carriage returns; a word with anything else fails below.
                let words = bytes[start ..< end].split { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
                start = end + 1
                if words.isEmpty { continue }
                guard words.count == slots.count, point < header.points else { return false }
                let record = point * header.step
                for (word, slot) in zip(words, slots) {
                    guard store(word, slot.field, out, record + slot.offset) else { return false }
                }
                point += 1
            }
            return true
        }
        return ok && point == header.points ? records : nil
    }

    /// Writes `word` as the field's stored type at `offset`; false for a spelling left to PCL.
    static func store(_ word: ArraySlice<UInt8>, _ field: Field, _ out: UnsafeMutableRawBufferPointer, _ offset: Int) -> Bool {
        let text = String(decoding: word, as: UTF8.self)
        if field.type == UInt8(ascii: "F") {
            let isNaN = text.lowercased() == "nan"
            guard isNaN || isDecimal(word) else { return false }
            if field.size == 4 {
                guard let value = isNaN ? Float.nan : Float(text) else { return false }
                out.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: offset, as: UInt32.self)
            } else {
                guard let value = isNaN ? Double.nan : Double(text) else { return false }
                out.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: offset, as: UInt64.self)
            }
            return true
        }
        // Integers: optional sign and digits, inside the type's range.
        guard word.count <= 12, let value = Int64(text) else { return false }
        let signed = field.type == UInt8(ascii: "I")
        let bits = Int64(field.size * 8)
        let range: ClosedRange<Int64> = signed ? -(1 << (bits - 1)) ... (1 << (bits - 1)) - 1 : 0 ... (1 << bits) - 1
        guard range.contains(value), !(word.first == UInt8(ascii: "-") && !signed) else { return false }
        for k in 0 ..< field.size { out[offset + k] = UInt8(truncatingIfNeeded: value >> (8 * Int64(k))) }
        return true
    }

    /// [+-] digits [. digits] [(e|E) [+-] digits], at least one digit before the exponent: the words
    /// C++'s stream extraction reads whole, so PCL's value is strtof's (or strtod's), as Swift's.
    static func isDecimal(_ word: ArraySlice<UInt8>) -> Bool {
        var i = word.startIndex
        func digits() -> Int {
            let from = i
            while i < word.endIndex, (0x30 ... 0x39).contains(word[i]) { i += 1 }
            return i - from
        }
        if i < word.endIndex, word[i] == UInt8(ascii: "+") || word[i] == UInt8(ascii: "-") { i += 1 }
        var mantissa = digits()
        if i < word.endIndex, word[i] == UInt8(ascii: ".") {
            i += 1
            mantissa += digits()
        }
        guard mantissa > 0 else { return false }
        if i < word.endIndex, word[i] == UInt8(ascii: "e") || word[i] == UInt8(ascii: "E") {
            i += 1
            if i < word.endIndex, word[i] == UInt8(ascii: "+") || word[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return false }
        }
        return i == word.endIndex
    }
}
