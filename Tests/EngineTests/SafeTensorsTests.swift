import Engine
import Support
import Foundation
import Testing
import TestSupport

/// Fixture bytes built here by hand, independently of `SafeTensors.encoded()`.
private enum Fixture {
    /// Little-endian bytes of an integer, by shifting.
    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0 ..< MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    /// An 8-byte length (the real one unless `declaredLength` says otherwise), the header, the data.
    static func file(_ header: String, _ data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
        let headerBytes = Array(header.utf8)
        return le(declaredLength ?? UInt64(headerBytes.count)) + headerBytes + data
    }

    /// A file with one tensor described by `fields` (the JSON inside its braces) and `dataCount` bytes of data.
    static func oneTensor(_ fields: String, name: String = "conv1.weight", dataCount: Int = 24) -> [UInt8] {
        file("{\"\(name)\":{\(fields)}}", [UInt8](repeating: 0, count: dataCount))
    }
}

/// The reason of the `.corrupt` error that decoding `bytes` throws; records an issue for anything else.
/// Also checks that the description is one line starting with the file name.
@discardableResult
private func corruptReason(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> String {
    do {
        _ = try SafeTensors.decode(bytes, path: "model.safetensors")
        Issue.record("decoded without error", sourceLocation: sourceLocation)
    } catch {
        guard case .invalid(let path, let reason) = error else {
            Issue.record("expected .corrupt, got \(error)", sourceLocation: sourceLocation)
            return ""
        }
        #expect(path == "model.safetensors", sourceLocation: sourceLocation)
        #expect(error.description == "model.safetensors: \(reason)", sourceLocation: sourceLocation)
        #expect(!error.description.contains("\n"), "one line: \(error.description)", sourceLocation: sourceLocation)
        return reason
    }
    return ""
}

@Suite struct SafeTensorsTests {
    /// A value with every dtype, scalars, empty tensors, awkward names and metadata.
    static func sample() -> SafeTensors {
        var tensors = SafeTensors(metadata: [
            "arch": "pointnet",
            "quote \"and\" backslash \\": "line one\nline two\ttab \u{1} control",
            "unicode": "é ✓ 😀 \u{2028}",
        ])
        tensors["zeta.weight"] = .init(shape: [2, 3], floats: [1, -2, 3.5, .infinity, -0.0, .leastNonzeroMagnitude])
        tensors["scalar"] = .init(shape: [], floats: [42])
        tensors["zz.empty"] = .init(shape: [0], floats: [])
        tensors["aa.empty"] = .init(dtype: .I64, shape: [3, 0], bytes: [])
        tensors["half"] = .init(dtype: .F16, shape: [3], bytes: [0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B])
        tensors["brain"] = .init(dtype: .BF16, shape: [1], bytes: [0x80, 0x3F])
        tensors["double"] = .init(dtype: .F64, shape: [1], bytes: Fixture.le((0.1 as Double).bitPattern))
        tensors["flags"] = .init(dtype: .BOOL, shape: [3], bytes: [1, 0, 1])
        tensors["name with \"quotes\"\nand a newline é"] = .init(dtype: .I8, shape: [2], bytes: [0xFF, 0x7F])
        tensors["last.u8"] = .init(dtype: .U8, shape: [3], bytes: [0, 128, 255])
        return tensors
    }

    // MARK: Reading a hand-built file

    @Test func readsAHandBuiltFile() throws {
        let f32: [Float] = [1, -2, 0.5, 3.25, -1e-3, 65504]
        var data = f32.flatMap { Fixture.le($0.bitPattern) }  // [0, 24)
        data += [2.5, -1e300].flatMap { Fixture.le(($0 as Double).bitPattern) }  // [24, 40)
        data += [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x8000, 0x7C00, 0xFC00, 0x7E00]
            .flatMap { Fixture.le(UInt16($0)) }  // [40, 58)
        data += [0x3F80, 0xC040].flatMap { Fixture.le(UInt16($0)) }  // [58, 62)
        data += Fixture.le(Int64(-5))  // [62, 70)
        // Keys deliberately not in data order, padding spaces, metadata with escapes.
        let header = """
            {"bf":{"dtype":"BF16","shape":[2],"data_offsets":[58,62]},\
            "__metadata__":{"arch":"pointnet","note":"a \\"quoted\\"\\nline \\u00e9"},\
            "count":{"data_offsets":[62,70],"shape":[],"dtype":"I64"},\
            "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},\
            "d":{"dtype":"F64","shape":[2,1],"data_offsets":[24,40]},\
            "h":{"dtype":"F16","shape":[9],"data_offsets":[40,58]}}
            """ + "     "
        let dir = TestPaths.scratch()
        let path = dir.appendingPathComponent("hand.safetensors").path
        try Data(Fixture.file(header, data)).write(to: URL(fileURLWithPath: path))

        let tensors = try SafeTensors.read(path)
        #expect(tensors.names == ["w", "d", "h", "bf", "count"])
        #expect(tensors.metadata == ["arch": "pointnet", "note": "a \"quoted\"\nline é"])
        #expect(tensors["w"]?.dtype == .F32)
        #expect(tensors["w"]?.shape == [2, 3])
        #expect(tensors["w"]?.count == 6)
        #expect(try tensors["w"]?.floats() == f32)
        #expect(tensors["w"]?.bytes == Array(data[0 ..< 24]))
        #expect(tensors["d"]?.shape == [2, 1])
        #expect(try tensors["d"]?.floats() == [2.5, -.infinity])
        let half = try #require(try tensors["h"]?.floats())
        #expect(half[0] == 1.0)
        #expect(half[1] == -2.0)
        #expect(half[2] == 65504)
        #expect(half[3] == 0x1p-24, "smallest subnormal")
        #expect(half[4] == 1023 * 0x1p-24, "largest subnormal")
        #expect(half[5] == 0 && half[5].sign == .minus, "negative zero")
        #expect(half[6] == .infinity)
        #expect(half[7] == -.infinity)
        #expect(half[8].isNaN)
        #expect(try tensors["bf"]?.floats() == [1.0, -3.0])
        #expect(tensors["count"]?.shape == [])
        #expect(tensors["count"]?.count == 1)
        #expect(try tensors["count"]?.floats() == [-5])
    }

    #if !(os(macOS) && arch(x86_64))
    @Test func halfDecodingMatchesFloat16ForEveryBitPattern() throws {
        let patterns = (0 ... UInt16.max).map { $0 }
        let entry = SafeTensors.Entry(dtype: .F16, shape: [patterns.count], bytes: patterns.flatMap { Fixture.le($0) })
        let decoded = try entry.floats()
        let mismatches = patterns.filter { pattern in
            let expected = Float(Float16(bitPattern: pattern)), got = decoded[Int(pattern)]
            return expected.isNaN ? !got.isNaN : expected.bitPattern != got.bitPattern
        }
        #expect(mismatches.isEmpty, "first mismatching pattern: \(mismatches.first.map { String($0, radix: 16) } ?? "")")
    }
    #endif

    @Test func integerAndBooleanTypesConvertToFloat() throws {
        let i32 = SafeTensors.Entry(dtype: .I32, shape: [2], bytes: Fixture.le(Int32(-7)) + Fixture.le(Int32(1 << 20)))
        #expect(try i32.floats() == [-7, 1_048_576])
        let i16 = SafeTensors.Entry(dtype: .I16, shape: [2], bytes: Fixture.le(Int16(-300)) + Fixture.le(Int16(300)))
        #expect(try i16.floats() == [-300, 300])
        #expect(try SafeTensors.Entry(dtype: .I8, shape: [2], bytes: [0x80, 0x05]).floats() == [-128, 5])
        #expect(try SafeTensors.Entry(dtype: .U8, shape: [2], bytes: [0x80, 0xFF]).floats() == [128, 255])
        #expect(try SafeTensors.Entry(dtype: .BOOL, shape: [3], bytes: [0, 1, 7]).floats() == [0, 1, 1])
    }

    @Test func floatsThrowsForAnEntryWhoseBytesDoNotMatchItsShape() {
        let entry = SafeTensors.Entry(dtype: .F32, shape: [2, 3], bytes: [0, 0, 0, 0])
        #expect(throws: SafeTensorsError.self) { try entry.floats() }
    }

    @Test func floatInitialiserStoresLittleEndianF32() {
        let entry = SafeTensors.Entry(shape: [2], floats: [1, -2])
        #expect(entry.dtype == .F32)
        #expect(entry.bytes == [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0])
    }

    @Test func dtypeSizes() {
        #expect(SafeTensors.DType.allCases.map(\.size) == [8, 4, 2, 2, 8, 4, 2, 1, 1, 1])
    }

    // MARK: Writing

    @Test func writeThenReadRoundTrips() throws {
        let dir = TestPaths.scratch()
        let path = dir.appendingPathComponent("round.safetensors").path
        let original = Self.sample()
        try original.write(to: path)
        let back = try SafeTensors.read(path)
        #expect(back == original)
        #expect(back.names == original.names, "two empty tensors at one offset keep the written order")

        let file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let headerLength = file[0 ..< 8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect((8 + headerLength) % 8 == 0, "data region starts at a multiple of 8")
        let header = try #require(String(bytes: file[8 ..< 8 + headerLength], encoding: .utf8))
        #expect(header.hasPrefix("{\"__metadata__\":{"))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(header.utf8)) as? [String: Any])
        #expect(parsed["__metadata__"] as? [String: String] == original.metadata, "Foundation reads our escaping")
    }

    @Test func encodedHeaderIsCompactOrderedAndPadded() {
        var tensors = SafeTensors(metadata: ["k": "v"])
        tensors["b"] = .init(shape: [2], floats: [1, 2])
        tensors["a"] = .init(dtype: .U8, shape: [1, 3], bytes: [7, 8, 9])
        let bytes = tensors.encoded()
        let header = #"{"__metadata__":{"k":"v"},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"U8","shape":[1,3],"data_offsets":[8,11]}}"#
        let padded = header + String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        #expect(bytes == Fixture.file(padded, [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 7, 8, 9]))
    }

    @Test func emptySetEncodesAndDecodes() throws {
        let empty = SafeTensors()
        #expect(empty.encoded() == Fixture.file("{}      "))
        #expect(try SafeTensors.decode(empty.encoded(), path: "e") == empty)
    }

    @Test func subscriptKeepsOrder() {
        var tensors = SafeTensors()
        tensors["b"] = .init(shape: [1], floats: [1])
        tensors["a"] = .init(shape: [1], floats: [2])
        tensors["b"] = .init(shape: [1], floats: [3])
        #expect(tensors.names == ["b", "a"])
        #expect(tensors["b"]?.bytes == SafeTensors.Entry(shape: [1], floats: [3]).bytes)
        tensors["b"] = nil
        #expect(tensors.names == ["a"])
        #expect(tensors.entries.keys.sorted() == ["a"])
    }

    @Test func largeFileRoundTrips() throws {
        let count = 3_500_000  // 14 MB of F32
        let values = (0 ..< count).map { Float($0) * 0.001 - 7 }
        var tensors = SafeTensors(metadata: ["size": "large"])
        tensors["big"] = .init(shape: [count / 1000, 1000], floats: values)
        let dir = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("large.safetensors").path
        try tensors.write(to: path)
        let back = try SafeTensors.read(path)
        #expect(try back["big"]?.floats() == values)
    }

    @Test func writeReplacesAnExistingFileAndLeavesNoTemporaryFile() throws {
        let dir = TestPaths.scratch()
        let path = dir.appendingPathComponent("model.safetensors").path
        try Data("old contents".utf8).write(to: URL(fileURLWithPath: path))
        let tensors = Self.sample()
        try tensors.write(to: path)
        #expect(try SafeTensors.read(path) == tensors)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.safetensors"])
    }

    @Test func writingIntoAMissingDirectoryIsUnwritable() throws {
        let dir = TestPaths.scratch()
        let path = dir.appendingPathComponent("no/such/dir/model.safetensors").path
        do {
            try Self.sample().write(to: path)
            Issue.record("wrote into a missing directory")
        } catch {
            guard case .unwritable(let errorPath, _) = error else { Issue.record("got \(error)"); return }
            #expect(errorPath == path)
            #expect(error.description.hasPrefix(path + ": "))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func writingAnInconsistentValueIsUnwritable() throws {
        let dir = TestPaths.scratch()
        let path = dir.appendingPathComponent("bad.safetensors").path
        var tensors = SafeTensors()
        tensors["w"] = .init(dtype: .F32, shape: [3], bytes: [1, 2, 3])
        #expect(throws: SafeTensorsError.unwritable(path: path, reason: "tensor 'w': 3 bytes do not fit shape [3] of F32")) {
            try tensors.write(to: path)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func missingFileOrDirectoryIsUnreadable() throws {
        let dir = TestPaths.scratch()
        let missing = dir.appendingPathComponent("missing.safetensors").path
        #expect(throws: SafeTensorsError.unreadable(path: missing, reason: "No such file or directory")) {
            try SafeTensors.read(missing)
        }
        #expect(throws: SafeTensorsError.unreadable(path: dir.path, reason: "is a directory")) {
            try SafeTensors.read(dir.path)
        }
    }

    // MARK: Corrupt files

    @Test func truncatedFilesAreCorrupt() {
        let whole = Self.sample().encoded()
        #expect((try? SafeTensors.decode(whole, path: "whole")) == Self.sample())
        for length in 0 ..< whole.count {
            corruptReason(Array(whole[0 ..< length]))
        }
        #expect(corruptReason([1, 2, 3]) == "file is 3 bytes, too short for the 8-byte header length")
    }

    @Test func headerLengthPastTheEnd() {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        let reason = corruptReason(Fixture.file(header, [0, 0, 0, 0], declaredLength: UInt64(header.utf8.count + 100)))
        #expect(reason == "header length \(header.utf8.count + 100) runs past the end of the file (\(8 + header.utf8.count + 4) bytes)")
    }

    @Test func hugeHeaderLength() {
        #expect(corruptReason(Fixture.file("{}", declaredLength: .max)).contains("header length 18446744073709551615 exceeds"))
        #expect(corruptReason(Fixture.file("{}", declaredLength: 200 << 20)).contains("exceeds the limit of 100 MiB"))
    }

    @Test func offsetsPastTheEndOfTheData() {
        let reason = corruptReason(Fixture.oneTensor(#""dtype":"F32","shape":[225],"data_offsets":[0,900]"#, dataCount: 512))
        #expect(reason == "tensor 'conv1.weight': data_offsets [0, 900] run past the end of the data (512 bytes)")
    }

    @Test func offsetsThatDoNotMatchTheShape() {
        let reason = corruptReason(Fixture.oneTensor(#""dtype":"F32","shape":[2,3],"data_offsets":[0,20]"#))
        #expect(reason == "tensor 'conv1.weight': shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] hold 20")
    }

    @Test func unknownDtype() {
        let reason = corruptReason(Fixture.oneTensor(#""dtype":"F8","shape":[2],"data_offsets":[0,2]"#))
        #expect(reason.hasPrefix("tensor 'conv1.weight': unknown dtype 'F8'"))
    }

    @Test(arguments: [
        (#"[-1,4]"#, "shape[0]"), (#"[2,2.5]"#, "shape[1]"), (#"[true]"#, "shape[0]"), (#"[2.0]"#, "shape[0]"),
        (#"["3"]"#, "shape[0]"), (#"[null]"#, "shape[0]"), (#"[1,99999999999999999999]"#, "shape[1]"),
    ])
    func badShapeElements(shape: String, axis: String) {
        let reason = corruptReason(Fixture.oneTensor(#""dtype":"U8","shape":\#(shape),"data_offsets":[0,4]"#))
        #expect(reason == "tensor 'conv1.weight': \(axis) is not a non-negative integer")
    }

    @Test func shapeProductOverflow() {
        let reason = corruptReason(Fixture.oneTensor(#""dtype":"F32","shape":[\#(Int.max),4],"data_offsets":[0,24]"#))
        #expect(reason.hasPrefix("tensor 'conv1.weight': shape [\(Int.max), 4] of F32 is too large"))
        corruptReason(Fixture.oneTensor(#""dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,24]"#))
    }

    @Test(arguments: [#"[0]"#, #"[0,4,8]"#, #"[-4,0]"#, #"[0,true]"#, #""0,4""#, #"[0,4.5]"#])
    func badOffsets(offsets: String) {
        let reason = corruptReason(Fixture.oneTensor(#""dtype":"U8","shape":[4],"data_offsets":\#(offsets)"#))
        #expect(reason == "tensor 'conv1.weight': data_offsets is not a pair of non-negative integers")
    }

    @Test func offsetsEndingBeforeTheyBegin() {
        let reason = corruptReason(Fixture.oneTensor(#""dtype":"U8","shape":[4],"data_offsets":[8,4]"#))
        #expect(reason == "tensor 'conv1.weight': data_offsets [8, 4] begin after they end")
    }

    @Test func overlappingTensors() {
        let header = #"{"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        let reason = corruptReason(Fixture.file(header, [UInt8](repeating: 0, count: 24)))
        #expect(reason == "tensors 'a' [0, 16] and 'b' [8, 24] overlap")
        // Also when the overlapped tensor is not the one just before.
        let nested = #"{"a":{"dtype":"U8","shape":[20],"data_offsets":[0,20]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]},"c":{"dtype":"U8","shape":[2],"data_offsets":[10,12]}}"#
        #expect(corruptReason(Fixture.file(nested, [UInt8](repeating: 0, count: 20))).hasPrefix("tensors 'a' [0, 20] and 'b'"))
        let duplicate = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#
        #expect(corruptReason(Fixture.file(duplicate, [0, 0, 0, 0])) == "tensors 'a' [0, 4] and 'b' [0, 4] overlap")
    }

    @Test func emptyTensorsMayShareAnOffset() throws {
        let header = #"{"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"u":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},"y":{"dtype":"I64","shape":[2,0],"data_offsets":[4,4]}}"#
        let tensors = try SafeTensors.decode(Fixture.file(header, [UInt8](repeating: 9, count: 8)), path: "m")
        #expect(tensors.names == ["u", "z", "y"], "offset order, then header order")
    }

    @Test func headerThatIsNotAnObjectOfEntries() {
        #expect(corruptReason(Fixture.file("[1,2]")) == "header is JSON but not an object")
        #expect(corruptReason(Fixture.file(#"{"a":"#)).hasPrefix("header is not valid JSON"))
        #expect(corruptReason(Fixture.le(UInt64(4)) + [0x7B, 0xFF, 0xFE, 0x7D]) == "header is not valid UTF-8")
        #expect(corruptReason(Fixture.file(#"{"w":[1,2]}"#)) == "tensor 'w': entry is not an object")
        #expect(corruptReason(Fixture.file(#"{"w":{"shape":[1],"data_offsets":[0,1]}}"#, [0]))
            == "tensor 'w': dtype is missing or not a string")
        #expect(corruptReason(Fixture.file(#"{"w":{"dtype":"U8","shape":1,"data_offsets":[0,1]}}"#, [0]))
            == "tensor 'w': shape is missing or not an array")
        #expect(corruptReason(Fixture.file(#"{"__metadata__":{"a":"b","n":3}}"#)) == "__metadata__ value for 'n' is not a string")
        #expect(corruptReason(Fixture.file(#"{"__metadata__":["a"]}"#)) == "__metadata__ is not an object")
    }

    @Test func hostileNamesStayOnOneLine() {
        let reason = corruptReason(Fixture.file("{\"evil\\nname\\u0007\\u2028\":{\"dtype\":\"X\",\"shape\":[],\"data_offsets\":[0,0]}}"))
        #expect(reason.hasPrefix("tensor 'evil\\nname\\u{07}\\u{2028}': unknown dtype 'X'"))
        let long = String(repeating: "n", count: 10_000)
        #expect(corruptReason(Fixture.file("{\"\(long)\":1}")).count < 200)
    }

    @Test func randomAndMutatedBytesNeverCrash() throws {
        var rng = SeededGenerator(seed: 20_240_601)
        for _ in 0 ..< 2_000 {
            let bytes = (0 ..< Int.random(in: 0 ... 300, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            corruptReason(bytes)
        }
        // Random headers behind a plausible length.
        for _ in 0 ..< 2_000 {
            let header = (0 ..< Int.random(in: 0 ... 200, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            corruptReason(Fixture.le(UInt64(header.count)) + header)
        }
        // A valid file with a few bytes changed: may still be valid, but never a crash or another error.
        let valid = Self.sample().encoded()
        for _ in 0 ..< 5_000 {
            var bytes = valid
            for _ in 0 ..< Int.random(in: 1 ... 4, using: &rng) {
                bytes[Int.random(in: 0 ..< bytes.count, using: &rng)] = UInt8.random(in: 0 ... 255, using: &rng)
            }
            let tensors: SafeTensors
            do {
                tensors = try SafeTensors.decode(bytes, path: "fuzz")
            } catch {
                guard case .invalid = error else { Issue.record("expected .corrupt, got \(error)"); return }
                continue
            }
            #expect(Set(tensors.names) == Set(tensors.entries.keys))
            for entry in tensors.entries.values {
                #expect(entry.bytes.count == entry.count * entry.dtype.size)
                #expect(try entry.floats().count == entry.count)
            }
        }
    }

    // MARK: The shared reference model

    @Test(.enabled(if: TestPaths.hasSharedData, "needs ../shared/data"))
    func readsTheReferenceModel() throws {
        let path = TestPaths.shared("reference/pointnet-reference.safetensors")
        let tensors = try SafeTensors.read(path)

        // Independent minimal parse: length, header JSON, offsets.
        let file = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = Int(file.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        let header = try #require(try JSONSerialization.jsonObject(with: file.subdata(in: 8 ..< 8 + headerLength)) as? [String: Any])
        let dataStart = 8 + headerLength
        var expected: [String: (dtype: String, shape: [Int], begin: Int, end: Int)] = [:]
        for (name, value) in header where name != "__metadata__" {
            let fields = try #require(value as? [String: Any])
            let offsets = try #require(fields["data_offsets"] as? [Int])
            expected[name] = (try #require(fields["dtype"] as? String), try #require(fields["shape"] as? [Int]), offsets[0], offsets[1])
        }
        #expect(!expected.isEmpty)
        #expect(Set(tensors.names) == Set(expected.keys))
        #expect(tensors.names == expected.keys.sorted { expected[$0]!.begin < expected[$1]!.begin })
        #expect(tensors.metadata == header["__metadata__"] as? [String: String])
        for (name, info) in expected {
            let entry = try #require(tensors[name])
            #expect(entry.dtype.rawValue == info.dtype, "\(name)")
            #expect(entry.shape == info.shape, "\(name)")
            #expect(entry.bytes.count == entry.count * entry.dtype.size, "\(name)")
            #expect(entry.bytes.count == info.end - info.begin, "\(name)")
        }

        func storedFloat(_ name: String, _ index: Int) -> Float {
            let at = dataStart + expected[name]!.begin + 4 * index
            return Float(bitPattern: (0 ..< 4).reduce(UInt32(0)) { $0 | UInt32(file[at + $1]) << (8 * $1) })
        }
        for name in ["linear2.bias", "linear1.weight", "bn1.running_var", "conv1.weight"] {
            let entry = try #require(tensors[name])
            let values = try entry.floats()
            #expect(values.count == entry.count)
            for index in [0, 1, entry.count / 2, entry.count - 1] {
                #expect(values[index].bitPattern == storedFloat(name, index).bitPattern, "\(name)[\(index)]")
            }
        }
        let counter = try #require(tensors["bn1.num_batches_tracked"])
        let at = dataStart + expected["bn1.num_batches_tracked"]!.begin
        let stored = Int64(bitPattern: (0 ..< 8).reduce(UInt64(0)) { $0 | UInt64(file[at + $1]) << (8 * $1) })
        #expect(try counter.floats() == [Float(stored)])
        #expect(stored > 0)
    }
}
