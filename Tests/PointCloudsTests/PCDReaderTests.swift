import Foundation
@testable import PointClouds
import Support
import Testing
import TestSupport

/// The native PCD reader against PCL's, on real files and on every encoding: the same cloud bit for bit,
/// or no answer (and then PCL reads the file).
@Suite struct PCDReaderTests {
    /// Every float as its bit pattern, so NaN holes compare too.
    static func bits(_ cloud: PointCloud) -> [[UInt32]] {
        [cloud.positions.flatMap { [$0.x.bitPattern, $0.y.bitPattern, $0.z.bitPattern] },
         cloud.colors?.map(\.packed) ?? [], [UInt32(cloud.width), UInt32(cloud.height), cloud.colorHasAlpha ? 1 : 0]]
            + cloud.fields.map { [UInt32(truncatingIfNeeded: FNV1a.hash($0.name)), UInt32($0.components)] + $0.values.map(\.bitPattern) }
    }

    /// Reads `path` both ways; records a failure unless the native reader answers and agrees with PCL.
    static func expectSame(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let native = try PCDReader.read(bytes, path: path)
        let pcl = try PointCloudFile.readThroughPCL(path, format: .pcd)
        guard let native else {
            Issue.record("the native reader left \(path) to PCL", sourceLocation: sourceLocation)
            return
        }
        #expect(native.encoding == pcl.encoding, "\(path)", sourceLocation: sourceLocation)
        #expect(bits(native.cloud) == bits(pcl.cloud), "\(path)", sourceLocation: sourceLocation)
    }

    /// A spread of the shared data: every folder's first files, all the PCL samples and scenes, so ascii,
    /// binary and binary_compressed, organized scenes with NaN holes, uint32 labels and rgba all occur.
    static var realFiles: [String] {
        guard let root = TestPaths.sharedData else { return [] }
        var files = [String]()
        for folder in ["pcl-samples", "mosd"] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(folder).path)) ?? []
            files += names.filter { $0.hasSuffix(".pcd") }.sorted().prefix(6).map { root.appendingPathComponent("\(folder)/\($0)").path }
        }
        for set in ["modelnet40/test", "scans-sim/test"] {
            let base = root.appendingPathComponent(set)
            let classes = ((try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? []).sorted()
            for name in classes.prefix(10) {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: base.appendingPathComponent(name).path)) ?? []
                files += names.filter { $0.hasSuffix(".pcd") }.sorted().prefix(2).map { base.appendingPathComponent("\(name)/\($0)").path }
            }
        }
        return files
    }

    @Test(.enabled(if: TestPaths.hasSharedData, "needs ../shared/data"))
    func readsRealFilesAsPCLDoes() throws {
        let files = Self.realFiles
        #expect(files.count > 30)
        for path in files { try Self.expectSame(path) }
    }

    @Test(arguments: ["chair_scan.pcd", "chair_cad.pcd", "bunny.pcd", "table_scene_organized.pcd"])
    func readsTheSamplesAsPCLDoes(name: String) throws {
        try Self.expectSame(TestPaths.sample(name))
    }

    /// Clouds PCL wrote, in each encoding: organized with NaN holes, rgba, multi-component fields.
    @Test(arguments: [PointCloudEncoding.ascii, .binary, .compressed])
    func readsWhatPCLWritesAsPCLReadsIt(encoding: PointCloudEncoding) throws {
        let dir = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededGenerator(seed: 11)
        let (w, h) = (7, 5)
        var positions = (0 ..< w * h).map { _ in
            SIMD3<Float>(.random(in: -3 ... 3, using: &rng), .random(in: -1e-6 ... 1e-6, using: &rng), .random(in: 0 ... 1e5, using: &rng))
        }
        positions[3] = SIMD3(repeating: .nan)
        positions[17] = SIMD3(.nan, 1, .nan)
        let colors = (0 ..< w * h).map { PointCloud.Color(r: UInt8($0), g: UInt8(255 - $0), b: 7, a: UInt8(100 + $0)) }
        let cloud = PointCloud(positions: positions, colors: colors, colorHasAlpha: true, fields: [
            PointCloud.Field(name: "intensity", values: (0 ..< w * h).map { Float($0) / 3 }),
            PointCloud.Field(name: "histogram", components: 3, values: (0 ..< 3 * w * h).map { _ in Float.random(in: -1 ... 1, using: &rng) }),
        ], width: w, height: h)
        let path = dir.appendingPathComponent("cloud.pcd").path
        try cloud.write(to: path, encoding: encoding)
        try Self.expectSame(path)
    }

    static func header(fields: String = "x y z", size: String = "4 4 4", type: String = "F F F", points: Int, data: String) -> String {
        "# .PCD v0.7\nVERSION 0.7\nFIELDS \(fields)\nSIZE \(size)\nTYPE \(type)\n"
            + "WIDTH \(points)\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS \(points)\nDATA \(data)\n"
    }

    static func write(_ bytes: [UInt8]) throws -> String {
        let path = TestPaths.scratch().appendingPathComponent("cloud.pcd").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Integer fields of every size and sign, doubles, "nan", exponents and signs in ascii.
    @Test func readsIntegerAndDoubleFieldsAsPCLDoes() throws {
        let fields = "x y z a b c d e f g"
        let ascii = Self.header(fields: fields, size: "4 4 8 1 1 2 2 4 4 4", type: "F F F I U I U I U F", points: 3, data: "ascii")
            + "1.5 -2e-3 3.000000000000001 -128 255 -32768 65535 -2147483648 4294967295 nan\n"
            + "+7 .5 -0.0 127 0 32767 0 2147483647 0 1E+38\n"
            + "\n"
            + "NaN 1e-45 123456789.123456789 0 1 -1 1 -1 1 -3.4028235e38\n"
        try Self.expectSame(try Self.write(Array(ascii.utf8)))

        var binary = Array(Self.header(fields: fields, size: "4 4 8 1 1 2 2 4 4 4", type: "F F F I U I U I U F", points: 2, data: "binary").utf8)
        for i in 0 ..< 2 {
            binary.append(le: Float(i).bitPattern + 1)
            binary.append(le: Float.nan.bitPattern)
            binary.append(le: (Double.pi * Double(i + 1)).bitPattern)
            binary += [0x80, 0xFF]
            binary.append(le: Int16.min)
            binary.append(le: UInt16.max)
            binary.append(le: Int32.min + Int32(i))
            binary.append(le: UInt32.max - UInt32(i))
            binary.append(le: Float.infinity.bitPattern)
        }
        try Self.expectSame(try Self.write(binary))
    }

    /// Files the native reader does not take: each is left to PCL, which reads or refuses it as before.
    static let leftToPCL: [(String, String)] = {
        let ascii1: String = header(points: 1, data: "ascii")
        let label: String = header(fields: "x y z l", size: "4 4 4 4", type: "F F F U", points: 1, data: "ascii")
        var files = [(String, String)]()
        files.append(("an unknown header key", ascii1.replacingOccurrences(of: "VERSION 0.7", with: "COLOR 1") + "1 2 3\n"))
        files.append(("a repeated key", ascii1.replacingOccurrences(of: "VERSION 0.7", with: "WIDTH 1") + "1 2 3\n"))
        files.append(("inf in ascii", ascii1 + "inf 2 3\n"))
        files.append(("a hexadecimal float", ascii1 + "0x1p3 2 3\n"))
        files.append(("a fraction in an integer field", label + "1 2 3 1.5\n"))
        files.append(("a negative unsigned value", label + "1 2 3 -1\n"))
        files.append(("a value outside its type", header(fields: "x y z l", size: "4 4 4 1", type: "F F F I", points: 1, data: "ascii") + "1 2 3 300\n"))
        files.append(("too few values", ascii1 + "1 2\n"))
        files.append(("too many lines", ascii1 + "1 2 3\n4 5 6\n"))
        files.append(("8-byte integers", header(fields: "x y z l", size: "4 4 4 8", type: "F F F I", points: 1, data: "ascii") + "1 2 3 4\n"))
        files.append(("no points", header(points: 0, data: "ascii")))
        files.append(("a truncated binary body", header(points: 2, data: "binary") + "0123456789"))
        files.append(("an unknown encoding", header(points: 1, data: "binary_lz4") + "1 2 3\n"))
        return files
    }()

    @Test(arguments: leftToPCL)
    func leavesOtherFilesToPCL(what: String, text: String) throws {
        let path = try Self.write(Array(text.utf8))
        #expect(try PCDReader.read(Array(text.utf8), path: path) == nil, "\(what)")
        // PointCloudFile.read then answers as PCL does.
        let viaRead = Result { () throws(PointCloudError) in try PointCloudFile.read(path) }
        let viaPCL = Result { () throws(PointCloudError) in try PointCloudFile.readThroughPCL(path, format: .pcd) }
        switch (viaRead, viaPCL) {
        case (.success(let a), .success(let b)): #expect(Self.bits(a.cloud) == Self.bits(b.cloud), "\(what)")
        case (.failure(let a), .failure(let b)): #expect(a == b, "\(what)")
        default: Issue.record("\(what): \(viaRead) vs \(viaPCL)")
        }
    }

    /// A compressed file with every byte of its LZF block changed in turn, and cut at every length short
    /// of the block's end: the reader answers as PCL does or leaves the file to it, and never reads out
    /// of bounds.
    @Test func damagedCompressedDataIsLeftToPCLOrReadAlike() throws {
        let dir = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("c.pcd").path
        let cloud = PointCloud(positions: (0 ..< 40).map { SIMD3(Float($0 % 7), Float($0 / 7), 0.5) })
        try cloud.write(to: path, encoding: .compressed)
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let dataStart = original.indices.first { original[$0] == UInt8(ascii: "\n") && String(decoding: original[..<$0].suffix(22), as: UTF8.self).hasSuffix("DATA binary_compressed") }! + 1
        // PCL's writer pads the file past the block; only the block's bytes matter.
        let compressed = (0 ..< 4).reduce(0) { $0 | Int(original[dataStart + $1]) << (8 * $1) }
        let blockEnd = dataStart + 8 + compressed
        #expect(blockEnd <= original.count)
        var answered = 0
        for i in dataStart + 8 ..< blockEnd {
            var damaged = original
            damaged[i] ^= 0x5A
            if let native = try PCDReader.read(damaged, path: path) {
                answered += 1
                let copy = dir.appendingPathComponent("d.pcd").path
                try Data(damaged).write(to: URL(fileURLWithPath: copy))
                #expect(Self.bits(native.cloud) == Self.bits(try PointCloudFile.readThroughPCL(copy, format: .pcd).cloud))
            }
        }
        for length in dataStart ..< blockEnd {
            #expect(try PCDReader.read(Array(original.prefix(length)), path: path) == nil)
        }
        #expect(answered > 0, "a changed literal byte still decodes")
    }
}
