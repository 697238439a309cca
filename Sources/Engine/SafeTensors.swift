import Foundation
import Support
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A set of named tensors in the safetensors format, the file layout PyTorch and most model hubs use.
///
/// Layout: an 8-byte little-endian `UInt64` N, then N bytes of UTF-8 JSON (the header), then the data
/// region. The header is an object mapping each tensor name to
/// `{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}` (byte offsets into the data region,
/// `end` exclusive), plus an optional `"__metadata__"` object of string → string. Tensor data is
/// little-endian and row-major.
///
/// Reading checks every length, offset and product against the file, with overflow-checked arithmetic,
/// so a corrupt or hostile file gives `SafeTensorsError.invalid`, never a trap or an allocation larger
/// than the file. Gaps between tensors in the data region are tolerated; overlapping tensors are not.
public struct SafeTensors: Sendable, Equatable {
    /// Element types of the format. `size` is the number of bytes per element.
    public enum DType: String, Sendable, CaseIterable {
        case F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL

        public var size: Int {
            switch self {
            case .F64, .I64: 8
            case .F32, .I32: 4
            case .F16, .BF16, .I16: 2
            case .I8, .U8, .BOOL: 1
            }
        }
    }

    /// One tensor: its element type, shape and raw stored bytes.
    public struct Entry: Sendable, Equatable {
        public var dtype: DType
        public var shape: [Int]
        /// The little-endian row-major data exactly as stored: `count × dtype.size` bytes.
        public var bytes: [UInt8]

        /// Number of elements: the product of `shape`, 1 for a scalar (shape `[]`), 0 if any dimension is 0.
        public var count: Int { shape.reduce(1, *) }

        public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        /// An F32 tensor. Precondition: `floats.count` is the product of `shape`, no dimension negative.
        public init(shape: [Int], floats: [Float]) {
            precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == floats.count,
                         "\(floats.count) values for shape \(shape)")
            dtype = .F32
            self.shape = shape
            bytes = floats.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Array($0) }
        }

        /// The elements as `Float`, in row-major order.
        ///
        /// F32 is exact; F16 and BF16 are exact (every half and bfloat16 value, including subnormals,
        /// infinities and NaN payloads, is representable); F64 and integers wider than 24 bits round to
        /// nearest; BOOL gives 0 or 1. Throws only if `bytes` does not hold `count × dtype.size` bytes
        /// (an entry built by hand inconsistently; decoded entries always match).
        public func floats() throws(SafeTensorsError) -> [Float] {
            guard let expected = SafeTensors.byteCount(shape: shape, dtype: dtype), expected == bytes.count else {
                let reason = "\(dtype.rawValue) tensor of shape \(shape) does not match its \(bytes.count) bytes"
                throw .invalid(path: "(in memory)", reason: reason)
            }
            switch dtype {
            case .F32:
                #if _endian(little)
                return words(Float.self)
                #else
                return words(UInt32.self).map { Float(bitPattern: UInt32(littleEndian: $0)) }
                #endif
            case .F64: return words(UInt64.self).map { Float(Double(bitPattern: UInt64(littleEndian: $0))) }
            case .F16: return words(UInt16.self).map { SafeTensors.halfToFloat(UInt16(littleEndian: $0)) }
            case .BF16: return words(UInt16.self).map { Float(bitPattern: UInt32(UInt16(littleEndian: $0)) << 16) }
            case .I64: return words(Int64.self).map { Float(Int64(littleEndian: $0)) }
            case .I32: return words(Int32.self).map { Float(Int32(littleEndian: $0)) }
            case .I16: return words(Int16.self).map { Float(Int16(littleEndian: $0)) }
            case .I8: return bytes.map { Float(Int8(bitPattern: $0)) }
            case .U8: return bytes.map { Float($0) }
            case .BOOL: return bytes.map { $0 == 0 ? 0 : 1 }
            }
        }

        /// `bytes` reinterpreted as stored words (still little-endian), copied in bulk.
        private func words<W: BitwiseCopyable>(_: W.Type) -> [W] {
            let n = bytes.count / MemoryLayout<W>.size
            return [W](unsafeUninitializedCapacity: n) { buffer, initialized in
                bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
                initialized = n
            }
        }
    }

    /// Tensor names in file order: the order they are written in, and data-offset order when read.
    public var names: [String]
    public var entries: [String: Entry]
    public var metadata: [String: String]

    /// Headers larger than this are refused as corrupt, before anything is allocated for them.
    public static let maximumHeaderLength = 100 << 20

    public init(metadata: [String: String] = [:]) {
        names = []
        entries = [:]
        self.metadata = metadata
    }

    /// The entry called `name`. Setting a new name appends it to `names`; setting `nil` removes it.
    public subscript(name: String) -> Entry? {
        get { entries[name] }
        set {
            if let newValue {
                if entries.updateValue(newValue, forKey: name) == nil { names.append(name) }
            } else if entries.removeValue(forKey: name) != nil {
                names.removeAll { $0 == name }
            }
        }
    }

    // MARK: Reading

    /// Reads and validates the file at `path`. O(file size).
    public static func read(_ path: String) throws(SafeTensorsError) -> SafeTensors {
        try decode(readFile(path), path: path)
    }

    /// Parses and validates a whole file held in memory; `path` only names it in error messages.
    public static func decode(_ data: [UInt8], path: String) throws(SafeTensorsError) -> SafeTensors {
        func corrupt(_ reason: String) -> SafeTensorsError { .invalid(path: path, reason: reason) }

        guard data.count >= 8 else {
            throw corrupt("file is \(data.count) bytes, too short for the 8-byte header length")
        }
        let declared = data[0 ..< 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard declared <= UInt64(maximumHeaderLength) else {
            throw corrupt("header length \(declared) exceeds the limit of \(maximumHeaderLength >> 20) MiB")
        }
        let headerLength = Int(declared)
        guard headerLength <= data.count - 8 else {
            throw corrupt("header length \(headerLength) runs past the end of the file (\(data.count) bytes)")
        }
        let header = data[8 ..< 8 + headerLength]
        let dataStart = 8 + headerLength
        let dataLength = data.count - dataStart

        guard String(validating: header, as: UTF8.self) != nil else { throw corrupt("header is not valid UTF-8") }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(header))
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw corrupt("header is not valid JSON" + (detail.map { " (\(oneLine($0)))" } ?? ""))
        }
        guard let object = json as? [String: Any] else { throw corrupt("header is JSON but not an object") }
        // JSONSerialization keeps one of two equal keys without a word: a second tensor of the same
        // name would silently replace the first.
        let keys = topLevelKeys(header)
        if keys.count != object.count {
            var seen = Set<String>()
            let twice = keys.first { !seen.insert($0).inserted } ?? "?"
            throw corrupt("the header names \(quoted(twice)) twice")
        }

        var result = SafeTensors()
        var placed: [(name: String, begin: Int, end: Int)] = []
        for (name, value) in object {
            if name == metadataKey {
                guard let pairs = value as? [String: Any] else { throw corrupt("\(metadataKey) is not an object") }
                for (key, text) in pairs {
                    guard let text = text as? String else {
                        throw corrupt("\(metadataKey) value for \(quoted(key)) is not a string")
                    }
                    result.metadata[key] = text
                }
                continue
            }
            func bad(_ what: String) -> SafeTensorsError { corrupt("tensor \(quoted(name)): \(what)") }
            guard let fields = value as? [String: Any] else { throw bad("entry is not an object") }
            guard let dtypeName = fields["dtype"] as? String else { throw bad("dtype is missing or not a string") }
            guard let dtype = DType(rawValue: dtypeName) else {
                let known = DType.allCases.map(\.rawValue).joined(separator: ", ")
                throw bad("unknown dtype \(quoted(dtypeName)) (known: \(known))")
            }
            guard let dims = fields["shape"] as? [Any] else { throw bad("shape is missing or not an array") }
            var shape: [Int] = []
            shape.reserveCapacity(dims.count)
            for (axis, dim) in dims.enumerated() {
                guard let size = nonNegativeInteger(dim) else {
                    throw bad("shape[\(axis)] is not a non-negative integer")
                }
                shape.append(size)
            }
            guard let offsets = fields["data_offsets"] as? [Any], offsets.count == 2,
                  let begin = nonNegativeInteger(offsets[0]), let end = nonNegativeInteger(offsets[1]) else {
                throw bad("data_offsets is not a pair of non-negative integers")
            }
            guard begin <= end else { throw bad("data_offsets [\(begin), \(end)] begin after they end") }
            guard let size = byteCount(shape: shape, dtype: dtype) else {
                throw bad("shape \(shape) of \(dtype.rawValue) is too large (the byte count overflows)")
            }
            guard size == end - begin else {
                throw bad("shape \(shape) of \(dtype.rawValue) needs \(size) bytes "
                          + "but data_offsets [\(begin), \(end)] hold \(end - begin)")
            }
            guard end <= dataLength else {
                throw bad("data_offsets [\(begin), \(end)] run past the end of the data (\(dataLength) bytes)")
            }
            result.entries[name] = Entry(dtype: dtype, shape: shape,
                                         bytes: Array(data[dataStart + begin ..< dataStart + end]))
            placed.append((name, begin, end))
        }

        // Data-offset order; empty tensors can share an offset, and then the header order decides.
        placed.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        if zip(placed, placed.dropFirst()).contains(where: { $0.begin == $1.begin && $0.end == $1.end }) {
            var rank = [String: Int]()
            for (position, key) in keys.enumerated() { rank[key] = position }
            placed.sort {
                ($0.begin, $0.end, rank[$0.name] ?? Int.max, $0.name)
                    < ($1.begin, $1.end, rank[$1.name] ?? Int.max, $1.name)
            }
        }
        var furthest: (name: String, begin: Int, end: Int)?
        for tensor in placed where tensor.begin < tensor.end {
            if let previous = furthest, tensor.begin < previous.end {
                throw corrupt("tensors \(quoted(previous.name)) [\(previous.begin), \(previous.end)] and "
                              + "\(quoted(tensor.name)) [\(tensor.begin), \(tensor.end)] overlap")
            }
            if tensor.end > furthest?.end ?? 0 { furthest = tensor }
        }
        result.names = placed.map(\.name)
        return result
    }

    // MARK: Writing

    /// The whole file: compact JSON header (`__metadata__` first when not empty, its keys sorted, then the
    /// tensors in `names` order, their data contiguous in that order), space-padded so the data region
    /// starts at a multiple of 8.
    ///
    /// Precondition: `names` lists each key of `entries` once, none is `__metadata__`, and every entry's
    /// bytes match its shape and dtype. `write(to:)` checks this and throws instead.
    public func encoded() -> [UInt8] {
        if let problem = inconsistency() { preconditionFailure(problem) }
        var json = "{"
        if !metadata.isEmpty {
            json += JSON.quoted(SafeTensors.metadataKey) + ":{"
            json += metadata.sorted { $0.key < $1.key }
                .map { JSON.quoted($0.key) + ":" + JSON.quoted($0.value) }
                .joined(separator: ",")
            json += "}"
        }
        var offset = 0
        for (index, name) in names.enumerated() {
            let entry = entries[name]!
            if index > 0 || !metadata.isEmpty { json += "," }
            json += JSON.quoted(name) + ":{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":["
                + entry.shape.map(String.init).joined(separator: ",")
                + "],\"data_offsets\":[\(offset),\(offset + entry.bytes.count)]}"
            offset += entry.bytes.count
        }
        json += "}"
        var header = Array(json.utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var file: [UInt8] = []
        file.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(contentsOf: header)
        for name in names { file.append(contentsOf: entries[name]!.bytes) }
        return file
    }

    /// Writes the file atomically: a temporary file beside `path` is written, flushed and renamed over it,
    /// so readers see the old file or the new one, never a partial one.
    public func write(to path: String) throws(SafeTensorsError) {
        if let problem = inconsistency() { throw .unwritable(path: path, reason: problem) }
        try writeFileAtomically(encoded(), to: path)
    }

    // MARK: Helpers

    private static let metadataKey = "__metadata__"

    /// Why this value cannot be encoded, or nil when it can.
    private func inconsistency() -> String? {
        if Set(names).count != names.count { return "a tensor name is listed twice in names" }
        if names.count != entries.count || !names.allSatisfy({ entries[$0] != nil }) {
            return "names and entries list different tensors"
        }
        for name in names {
            if name == SafeTensors.metadataKey { return "a tensor cannot be called \(SafeTensors.metadataKey)" }
            let entry = entries[name]!
            guard entry.shape.allSatisfy({ $0 >= 0 }),
                  SafeTensors.byteCount(shape: entry.shape, dtype: entry.dtype) == entry.bytes.count else {
                return "tensor \(quoted(name)): \(entry.bytes.count) bytes do not fit "
                    + "shape \(entry.shape) of \(entry.dtype.rawValue)"
            }
        }
        return nil
    }

    /// `product(shape) × dtype.size`, or nil if it overflows.
    private static func byteCount(shape: [Int], dtype: DType) -> Int? {
        var total = dtype.size
        for dim in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: dim)
            if overflow { return nil }
            total = product
        }
        return total
    }

    /// A JSON number that is written as an integer (not `2.0`, not `true`), fits `Int` and is ≥ 0.
    private static func nonNegativeInteger(_ value: Any) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        // Booleans arrive as NSNumber of type "c"; literals with a fraction or exponent as "d".
        guard !["c", "f", "d"].contains(String(cString: number.objCType)),
              let integer = number as? Int, integer >= 0 else { return nil }
        return integer
    }

    /// The top-level keys of a header that JSONSerialization has already accepted, in order, repeats kept.
    private static func topLevelKeys(_ header: ArraySlice<UInt8>) -> [String] {
        var keys = [String]()
        var depth = 0
        var keyNext = false
        var i = header.startIndex
        while i < header.endIndex {
            switch header[i] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                keyNext = depth == 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
            case UInt8(ascii: ","):
                keyNext = depth == 1
            case UInt8(ascii: "\""):
                let start = i
                i += 1
                while i < header.endIndex, header[i] != UInt8(ascii: "\"") {
                    i += header[i] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard i < header.endIndex else { return keys }
                if keyNext, let key = try? JSONSerialization.jsonObject(with: Data(header[start ... i]),
                                                                        options: .fragmentsAllowed) as? String {
                    keys.append(key)
                }
                keyNext = false
            default:
                break
            }
            i += 1
        }
        return keys
    }

    /// IEEE 754 binary16 to binary32, exactly.
    private static func halfToFloat(_ half: UInt16) -> Float {
        let sign: Float = half & 0x8000 == 0 ? 1 : -1
        let exponent = UInt32(half >> 10 & 0x1F)
        let mantissa = UInt32(half & 0x3FF)
        switch exponent {
        case 0: return sign * Float(mantissa) * 0x1p-24  // zero and subnormals
        case 0x1F: return Float(bitPattern: UInt32(half & 0x8000) << 16 | 0x7F80_0000 | mantissa << 13)
        default: return Float(bitPattern: UInt32(half & 0x8000) << 16 | (exponent + 112) << 23 | mantissa << 13)
        }
    }
}

/// What went wrong reading or writing a safetensors file. The description is one line naming the file.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    /// The file system refused: missing file, a directory, no permission.
    case unreadable(path: String, reason: String)
    /// The file was read but its contents are not a valid safetensors file.
    case invalid(path: String, reason: String)
    /// The file could not be written, or the value cannot be encoded.
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason), .invalid(let path, let reason), .unwritable(let path, let reason):
            "\(path): \(reason)"
        }
    }
}

/// A name from a file, quoted for a one-line message: control characters escaped, long names cut.
private func quoted(_ name: String) -> String {
    let limit = 120
    let shown = name.count > limit ? String(name.prefix(limit)) + "…" : name
    return "'" + oneLine(shown) + "'"
}

/// `text` with control characters and line or paragraph separators written as Swift escapes.
private func oneLine(_ text: String) -> String {
    String(String.UnicodeScalarView(text.unicodeScalars.flatMap { scalar -> [Unicode.Scalar] in
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: Array(scalar.escaped(asASCII: true).unicodeScalars)
        default: [scalar]
        }
    }))
}

private func systemError() -> String { String(cString: strerror(errno)) }

/// The whole file, or `.unreadable` with the system's reason.
private func readFile(_ path: String) throws(SafeTensorsError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .unreadable(path: path, reason: systemError()) }
    defer { close(fd) }
    var status = stat()
    guard fstat(fd, &status) == 0 else { throw .unreadable(path: path, reason: systemError()) }
    guard status.st_mode & S_IFMT != S_IFDIR else { throw .unreadable(path: path, reason: "is a directory") }
    let size = Int(status.st_size)
    var failure: String?
    let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
        while initialized < size {
            let n = read(fd, buffer.baseAddress! + initialized, size - initialized)
            if n > 0 {
                initialized += n
            } else if n == 0 {
                break  // the file shrank while being read: decode what is there
            } else if errno != EINTR {
                failure = systemError()
                break
            }
        }
    }
    if let failure { throw .unreadable(path: path, reason: failure) }
    return bytes
}

/// Writes `bytes` to a temporary file beside `path`, flushes it and renames it over `path`.
private func writeFileAtomically(_ bytes: [UInt8], to path: String) throws(SafeTensorsError) {
    TemporaryFile.removeStale(for: path)
    let temporary = TemporaryFile.path(for: path)
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
        throw .unwritable(path: path, reason: "cannot create a temporary file beside it (\(systemError()))")
    }
    var failure: String?
    bytes.withUnsafeBytes { raw in
        var done = 0
        while done < raw.count {
            let n = write(fd, raw.baseAddress! + done, raw.count - done)
            if n >= 0 {
                done += n
            } else if errno != EINTR {
                failure = "write failed (\(systemError()))"
                return
            }
        }
    }
    if failure == nil, fsync(fd) != 0 { failure = "flush failed (\(systemError()))" }
    if close(fd) != 0, failure == nil { failure = "close failed (\(systemError()))" }
    if failure == nil, rename(temporary, path) != 0 { failure = "cannot replace it (\(systemError()))" }
    if let failure {
        unlink(temporary)
        throw .unwritable(path: path, reason: failure)
    }
}
