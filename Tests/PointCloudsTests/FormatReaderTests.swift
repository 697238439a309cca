import Foundation
import PointClouds
import Support
import Testing
import TestSupport

/// The Swift readers (text, NPY, .bin, LAS), each on files written here by writers that share nothing
/// with them: coordinates bit-exact, fields kept, counts right.
@Suite struct FormatReaderTests {
    static func randomPoints(_ n: Int, seed: UInt64) -> [SIMD3<Float>] {
        var rng = SeededGenerator(seed: seed)
        return (0 ..< n).map { _ in SIMD3<Float>(.random(in: -100 ... 100, using: &rng), .random(in: -1 ... 1, using: &rng), .random(in: 0 ... 1e-3, using: &rng)) }
    }

    static func file(_ dir: URL, _ name: String, _ data: Data) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    static func read(_ path: String, _ options: CloudReadOptions = CloudReadOptions()) throws -> PointCloudFile {
        try PointCloudFile.read(path, options: options)
    }

    // MARK: text

    /// Each separator, with and without a header; numbers printed by C's "%.9g", which round-trips float32.
    @Test(arguments: [(" ", "xyz"), ("\t", "txt"), (",", "csv"), (";", "txt"), (" , ", "csv")])
    func textColumnsReadBitExact(separator: String, ext: String) throws {
        let dir = TestPaths.scratch()
        let points = Self.randomPoints(200, seed: 3)
        for header in [false, true] {
            var text = header ? ["Y", "x", "Z", "intensity"].joined(separator: separator) + "\r\n" : ""
            for (i, p) in points.enumerated() {
                // With the header the columns come in another order: y x z intensity.
                let row = header ? [p.y, p.x, p.z, Float(i)] : [p.x, p.y, p.z, Float(i)]
                text += row.map { String(format: "%.9g", Double($0)) }.joined(separator: separator) + "\n"
            }
            let path = try Self.file(dir, "cloud-\(header).\(ext)", Data(text.utf8))
            let file = try Self.read(path)
            #expect(file.cloud.positions == points)
            #expect(file.cloud.fieldNames == ["x", "y", "z", header ? "intensity" : "scalar_1"])
            #expect(file.cloud.fields[0].values == (0 ..< 200).map(Float.init))
            #expect(file.format.rawValue == ext && file.encoding == .ascii)
        }
    }

    /// ModelNet40's resampled .txt: six comma-separated columns, no header: a position and a normal.
    @Test func modelNetResampledTextHasNormals() throws {
        let path = try Self.file(TestPaths.scratch(), "chair_0001.txt", Data("-0.1,0.2,0.3,0,0,1\n0.4,0.5,-0.6,1,0,0\n".utf8))
        let cloud = try Self.read(path).cloud
        #expect(cloud.fieldNames == ["x", "y", "z", "normal_x", "normal_y", "normal_z"])
        #expect(cloud.positions == [SIMD3(-0.1, 0.2, 0.3), SIMD3(0.4, 0.5, -0.6)])
        #expect(cloud.field(named: "normal_x")?.values == [0, 1])
    }

    /// PTS: a count line, then x y z intensity r g b; NaN kept as the PCD reader keeps it.
    @Test func ptsCountLineIntensityAndColour() throws {
        let path = try Self.file(TestPaths.scratch(), "scan.pts", Data("3\n1 2 3 -1200 10 20 30\nnan nan nan 5 0 0 0\n# a note\n\n4 5 6 7 255 254 253\n".utf8))
        let cloud = try Self.read(path).cloud
        #expect(cloud.count == 3 && cloud.finiteCount == 2)
        #expect(cloud.positions[0] == SIMD3(1, 2, 3) && cloud.positions[1].x.isNaN)
        #expect(cloud.field(named: "intensity")?.values == [-1200, 5, 7])
        #expect(cloud.colors == [.init(r: 10, g: 20, b: 30), .init(r: 0, g: 0, b: 0), .init(r: 255, g: 254, b: 253)])
    }

    // MARK: NPY

    /// An .npy written byte by byte as the format's documentation describes it.
    static func npy(_ rows: [[Double]], descr: String, fortran: Bool, version: UInt8) -> Data {
        let n = rows.count, c = rows[0].count
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': (\(n), \(c)), }"
        let lengthBytes = version == 1 ? 2 : 4
        while (6 + 2 + lengthBytes + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93]) + Data("NUMPY".utf8) + Data([version, 0])
        if version == 1 { data.append(le: UInt16(header.utf8.count)) } else { data.append(le: UInt32(header.utf8.count)) }
        data.append(header)
        let big = descr.hasPrefix(">"), double = descr.hasSuffix("8")
        let order: [(Int, Int)] = fortran ? (0 ..< c).flatMap { j in (0 ..< n).map { ($0, j) } } : (0 ..< n).flatMap { i in (0 ..< c).map { (i, $0) } }
        for (i, j) in order {
            let v = rows[i][j]
            switch (double, big) {
            case (true, true): data.append(be: v)
            case (true, false): data.append(le: v)
            case (false, true): data.append(be: Float(v))
            case (false, false): data.append(le: Float(v))
            }
        }
        return data
    }

    @Test(arguments: [("<f4", false, UInt8(1)), (">f4", true, 1), ("<f8", false, 2), (">f8", true, 3), ("<f4", true, 3)])
    func npyReadsEveryLayout(descr: String, fortran: Bool, version: UInt8) throws {
        let points = Self.randomPoints(33, seed: 5)
        let rows = points.enumerated().map { [Double($1.x), Double($1.y), Double($1.z), Double($0) * 0.5, -1] }
        let path = try Self.file(TestPaths.scratch(), "a.npy", Self.npy(rows, descr: descr, fortran: fortran, version: version))
        let file = try Self.read(path)
        #expect(file.cloud.positions == points)
        #expect(file.cloud.fieldNames == ["x", "y", "z", "scalar_1", "scalar_2"])
        #expect(file.cloud.field(named: "scalar_1")?.values == (0 ..< 33).map { Float($0) * 0.5 })
        #expect(file.cloud.field(named: "scalar_2")?.values == Array(repeating: -1, count: 33))
    }

    static let numpy: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import numpy"]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    /// numpy itself writes the files (skipped, and says so, where numpy cannot be imported).
    @Test(.enabled(if: numpy, "python3 with numpy is not installed")) func npyFromNumPy() throws {
        let dir = TestPaths.scratch()
        let script = """
            import numpy as np
            a = np.array([[0.1, -2.5, 3e-7, 4], [np.nan, 1, 2, 5], [7, 8, 9.25, 6]])
            np.save('\(dir.path)/c.npy', a.astype('<f4'))
            np.save('\(dir.path)/f.npy', np.asfortranarray(a.astype('>f8')))
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        for name in ["c.npy", "f.npy"] {
            let cloud = try Self.read(dir.appendingPathComponent(name).path).cloud
            #expect(cloud.count == 3 && cloud.finiteCount == 2)
            #expect(cloud.positions[0] == SIMD3(0.1, -2.5, 3e-7) && cloud.positions[2] == SIMD3(7, 8, 9.25))
            #expect(cloud.positions[1].x.isNaN)
            #expect(cloud.field(named: "scalar_1")?.values == [4, 5, 6])
        }
    }

    // MARK: .bin

    @Test func kittiAndNuScenesRecords() throws {
        let dir = TestPaths.scratch()
        let points = Self.randomPoints(50, seed: 9)
        var kitti = Data(), nuscenes = Data()
        for (i, p) in points.enumerated() {
            for v in [p.x, p.y, p.z, Float(i) / 50] { kitti.append(le: v) }
            for v in [p.x, p.y, p.z, Float(i), Float(i % 32)] { nuscenes.append(le: v) }
        }
        let k = try Self.read(try Self.file(dir, "000001.bin", kitti)).cloud
        #expect(k.positions == points && k.fieldNames == ["x", "y", "z", "intensity"])
        #expect(k.field(named: "intensity")?.values == (0 ..< 50).map { Float($0) / 50 })
        let options = CloudReadOptions(binFields: ["x", "y", "z", "intensity", "ring"])
        let n = try Self.read(try Self.file(dir, "sweep.pcd.bin", nuscenes), options).cloud
        #expect(n.positions == points && n.field(named: "ring")?.values == (0 ..< 50).map { Float($0 % 32) })
        // The nuScenes file read with KITTI's layout: 20-byte records are not 16-byte ones.
        #expect(throws: PointCloudError.self) { try Self.read(dir.appendingPathComponent("sweep.pcd.bin").path) }
    }

    // MARK: LAS

    /// A LAS file from the ASPRS specification's layout, written field by field.
    struct LASRecord {
        var xyz: SIMD3<Int32>
        var intensity: UInt16
        var returnNumber, returns, classification: UInt8
        var rgb: SIMD3<UInt16>
    }

    static func las(minor: UInt8, format: UInt8, records: [LASRecord],
                    scale: SIMD3<Double>, offset: SIMD3<Double>, extraBytes: Int = 0, legacyCount: UInt32? = nil) -> Data {
        let headerSize = minor >= 4 ? 375 : 227
        // The specification's record sizes; 4, 5, 9 and 10 end with 29 bytes of wave packet description.
        let base: [UInt8: Int] = [0: 20, 1: 28, 2: 26, 3: 34, 4: 57, 5: 63, 6: 30, 7: 36, 8: 38, 9: 59, 10: 67]
        let length = base[format]! + extraBytes
        let vlr = 54 + 10  // one variable-length record with 10 bytes of payload, to be skipped
        var d = Data("LASF".utf8)
        d.append(Data(count: 20))  // source id, encoding, GUID
        d.append(contentsOf: [1, minor])
        d.append(Data(count: 64))  // system, software
        d.append(le: UInt16(1)); d.append(le: UInt16(2026))
        d.append(le: UInt16(headerSize)); d.append(le: UInt32(headerSize + vlr)); d.append(le: UInt32(1))
        d.append(format); d.append(le: UInt16(length))
        d.append(le: legacyCount ?? UInt32(records.count))
        d.append(Data(count: 20))
        for v in [scale.x, scale.y, scale.z, offset.x, offset.y, offset.z] { d.append(le: v) }
        d.append(Data(count: 48))  // bounds, not needed to read
        if minor >= 4 {
            d.append(Data(count: 8 + 8 + 4))
            d.append(le: UInt64(records.count))
            d.append(Data(count: 15 * 8))
        }
        d.append(Data(count: vlr))
        let extended = format >= 6
        for r in records {
            var rec = Data()
            rec.append(le: r.xyz.x); rec.append(le: r.xyz.y); rec.append(le: r.xyz.z); rec.append(le: r.intensity)
            if extended {
                rec.append(r.returnNumber | r.returns << 4); rec.append(0); rec.append(r.classification)
                rec.append(Data(count: 1 + 2 + 2 + 8))  // user data, scan angle, source id, GPS time
            } else {
                rec.append(r.returnNumber | r.returns << 3); rec.append(r.classification)
                rec.append(Data(count: 1 + 1 + 2))  // scan angle, user data, source id
                if [1, 3, 4, 5].contains(format) { rec.append(Data(count: 8)) }
            }
            if [2, 3, 5, 7, 8, 10].contains(format) { rec.append(le: r.rgb.x); rec.append(le: r.rgb.y); rec.append(le: r.rgb.z) }
            if format == 8 || format == 10 { rec.append(le: UInt16(0)) }
            rec.append(Data(count: length - rec.count))
            d.append(rec)
        }
        return d
    }

    @Test(arguments: [(UInt8(2), UInt8(0)), (2, 1), (2, 2), (2, 3), (3, 4), (3, 5), (4, 6), (4, 7), (4, 8), (4, 9), (4, 10)])
    func lasPointFormats(minor: UInt8, format: UInt8) throws {
        var rng = SeededGenerator(seed: UInt64(format) + 1)
        var records = [LASRecord]()
        for i in 0 ..< 40 {
            let x = Int32.random(in: -1_000_000 ... 1_000_000, using: &rng), y = Int32.random(in: -1_000_000 ... 1_000_000, using: &rng)
            let rgb = SIMD3<UInt16>(UInt16(i) << 8, UInt16(255 - i) << 8, 0x8000)
            records.append(LASRecord(xyz: SIMD3(x, y, Int32(i)), intensity: UInt16(i * 1000), returnNumber: UInt8(1 + i % 3),
                                     returns: UInt8(3 + i % 2), classification: UInt8(i % 19), rgb: rgb))
        }
        let scale = SIMD3(0.001, 0.01, 0.25), offset = SIMD3(500_000.0, -20.5, 3.0)
        let path = try Self.file(TestPaths.scratch(), "tile.las", Self.las(minor: minor, format: format, records: records, scale: scale, offset: offset, extraBytes: 3))
        let cloud = try Self.read(path).cloud
        let expected = records.map { (r: LASRecord) -> SIMD3<Float> in
            let stored = SIMD3<Double>(Double(r.xyz.x), Double(r.xyz.y), Double(r.xyz.z))
            return SIMD3<Float>(stored * scale + offset)
        }
        #expect(cloud.positions == expected)
        #expect(cloud.field(named: "intensity")?.values == records.map { Float($0.intensity) })
        #expect(cloud.field(named: "return_number")?.values == records.map { Float($0.returnNumber) })
        #expect(cloud.field(named: "number_of_returns")?.values == records.map { Float($0.returns) })
        #expect(cloud.field(named: "classification")?.values == records.map { Float($0.classification) })
        if [2, 3, 5, 7, 8, 10].contains(format) {
            let colors = records.map { (r: LASRecord) -> PointCloud.Color in PointCloud.Color(r: UInt8(r.rgb.x >> 8), g: UInt8(r.rgb.y >> 8), b: 0x80) }
            #expect(cloud.colors == colors)
        } else {
            #expect(cloud.colors == nil)
        }
    }

    // MARK: writers

    /// What convert writes reads back: every column, the same bits.
    @Test(arguments: ["xyz", "csv", "npy", "pts"])
    func writtenTextAndNPYReadBack(ext: String) throws {
        let dir = TestPaths.scratch()
        let points = Self.randomPoints(60, seed: 12) + [SIMD3(.nan, 1, 2)]
        let cloud = PointCloud(positions: points, colors: (0 ..< 61).map { PointCloud.Color(r: UInt8($0), g: 7, b: 250) },
                               fields: [.init(name: "intensity", values: (0 ..< 61).map { Float($0) / 3 }),
                                        .init(name: "normal", components: 3, values: (0 ..< 183).map { Float($0) })])
        let path = dir.appendingPathComponent("out.\(ext)").path
        try cloud.write(to: path)
        let back = try Self.read(path).cloud
        #expect(back.count == 61 && back.positions[60].x.isNaN && Array(back.positions.prefix(60)) == Array(points.prefix(60)))
        if ext == "npy" {
            #expect(back.fieldNames == ["x", "y", "z"] + (1 ... 7).map { "scalar_\($0)" })
            #expect(back.field(named: "scalar_4")?.values == (0 ..< 61).map { Float($0) / 3 })
        } else {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let separator = ext == "csv" ? "," : " "
            #expect(text.hasPrefix(["x", "y", "z", "red", "green", "blue", "intensity", "normal_0", "normal_1", "normal_2"].joined(separator: separator) + "\n"))
            #expect(back.colors == cloud.colors)
            #expect(back.field(named: "intensity")?.values == (0 ..< 61).map { Float($0) / 3 })
            #expect(back.field(named: "normal_2")?.values == (0 ..< 61).map { Float(3 * $0 + 2) })
        }
    }

    /// An rgba cloud's alpha column comes back as the colours' alpha.
    @Test func alphaReadsBackAsColour() throws {
        let colors = (0 ..< 5).map { PointCloud.Color(r: UInt8($0), g: 1, b: 2, a: UInt8(100 + $0)) }
        let cloud = PointCloud(positions: (0 ..< 5).map { SIMD3(Float($0), 0, 1) }, colors: colors, colorHasAlpha: true)
        let path = TestPaths.scratch().appendingPathComponent("rgba.csv").path
        try cloud.write(to: path)
        let back = try Self.read(path).cloud
        #expect(back.colors == colors && back.colorHasAlpha && back.fields.isEmpty)
    }

    /// Numbers of every shape read as C's strtof reads them, bit for bit: the reader's fast decimal
    /// path must agree with correct rounding, halfway cases included (16777217 lies halfway between
    /// two floats and rounds to even; 6.212743930518627e-2 and 4.46213689428987e-5 lie just off a
    /// halfway point, and their nearest doubles on it: rounding through a double would go wrong).
    @Test func numbersReadAsStrtofReadsThem() throws {
        var rng = SeededGenerator(seed: 77)
        var tokens = ["16777217", "16777217.000000001", "6.212743930518627e-2", "4.46213689428987e-5", "-4.462136894289870e-5", "-16777219", "3.4028235e38", "3.4028236e38", "1.17549435e-38",
                      "1e-45", "7.006492e-46", "0.000000000000000000000000000000000000000000001", "-0", "+.5", "5.",
                      "123456789012345678901234", "0.1", "9007199254740993", "1e22", "1e23", "4.7e-22", "nan", "-inf"]
        for _ in 0 ..< 30_000 {
            let digits = String((0 ..< Int.random(in: 1 ... 21, using: &rng)).map { _ in Character(String(Int.random(in: 0 ... 9, using: &rng))) })
            let point = Int.random(in: 0 ... digits.count, using: &rng)
            var token = (Bool.random(using: &rng) ? "-" : "") + digits.prefix(point) + (point < digits.count ? "." + digits.dropFirst(point) : "")
            if Int.random(in: 0 ..< 3, using: &rng) == 0 { token += "e\(Int.random(in: -40 ... 40, using: &rng))" }
            tokens.append(token)
        }
        while tokens.count % 3 != 0 { tokens.append("1") }
        let text = stride(from: 0, to: tokens.count, by: 3).map { tokens[$0 ..< $0 + 3].joined(separator: " ") }.joined(separator: "\n")
        let path = try Self.file(TestPaths.scratch(), "numbers.xyz", Data(text.utf8))
        let read = try Self.read(path).cloud.positions.flatMap { [$0.x, $0.y, $0.z] }
        let expected = tokens.map { token in token.withCString { strtof($0, nil) } }
        #expect(read.count == tokens.count)
        for (i, (got, want)) in zip(read, expected).enumerated() where got.bitPattern != want.bitPattern && !(got.isNaN && want.isNaN) {
            Issue.record("'\(tokens[i])': read \(got) (\(got.bitPattern)), strtof \(want) (\(want.bitPattern))")
        }
    }
}
