import Foundation
import Output
import PointClouds
import Support

/// How fast each file format reads, beside PCD: the same clouds' points (x, y, z only, so every
/// format holds the same data) written once in each format to a scratch folder, then read back
/// on `threads` workers, medians over repeats. Meshes are read as their vertices (OFF and OBJ list
/// the points with no faces; binary STL groups them in threes, the last repeated to fill a triangle).
extension LoadingBenchmark {
    /// The formats timed, PCD (binary, PCL) first: the others are compared to it.
    public static let formats: [(name: String, ext: String)] = [
        ("pcd binary (PCL)", "pcd"), ("ply binary (PCL)", "ply"), ("xyz text", "xyz"), ("csv text", "csv"),
        ("npy float32", "npy"), ("bin float32 (KITTI)", "bin"), ("las 1.2 format 0", "las"),
        ("off vertices", "off"), ("obj vertices", "obj"), ("stl binary vertices", "stl"),
    ]

    /// Writes the clouds at `paths` in every format below `scratch` (which must exist), reads each
    /// format's copies back (each checked once to give all its points), and removes them. Clouds that
    /// do not read are left out.
    public func readingFormats(_ paths: [String], scratch: String) throws(PointCloudError) -> [Measurement] {
        let clouds = CloudLoader(threads: threads).load(paths).compactMap { try? $0.get() }.map { PointCloud(positions: $0.positions) }
        guard !clouds.isEmpty else { throw .invalid(path: scratch, reason: "none of the clouds could be read") }
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var out = [LoadingBenchmark.Measurement]()
        for format in Self.formats {
            let folder = (scratch as NSString).appendingPathComponent(format.ext)
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let files = (0 ..< clouds.count).map { (folder as NSString).appendingPathComponent("\($0).\(format.ext)") }
            for (cloud, file) in zip(clouds, files) { try Self.write(cloud, format.ext, to: file) }
            let options = CloudReadOptions(mesh: .vertices)
            // Every copy must read back whole, or the figure would time an error path.
            for (cloud, file) in zip(clouds, files) {
                let expected = format.ext == "stl" ? (cloud.count + 2) / 3 * 3 : cloud.count
                let read = try PointCloudFile.read(file, options: options).cloud.count
                guard read == expected else { throw .invalid(path: file, reason: "the benchmark's copy reads back as \(read) points, not \(expected)") }
            }
            let seconds = Timing.median(repeats: repeats) {
                _ = parallelMap(files.count, workers: threads) { (try? PointCloudFile.read(files[$0], options: options))?.cloud.count ?? 0 }
            }
            out.append(.init(name: format.name, clouds: clouds.count, seconds: seconds))
        }
        return out
    }

    /// PCD, PLY, text and NPY through pcdiag's writers; the formats it only reads, written here.
    static func write(_ cloud: PointCloud, _ ext: String, to path: String) throws(PointCloudError) {
        let p = cloud.positions
        var bytes = [UInt8]()
        func f32(_ v: Float) { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        switch ext {
        case "bin":
            for q in p { f32(q.x); f32(q.y); f32(q.z); f32(0) }
        case "off":
            bytes = Array(("OFF\n\(p.count) 0 0\n" + p.map { "\($0.x) \($0.y) \($0.z)\n" }.joined()).utf8)
        case "obj":
            bytes = Array(p.map { "v \($0.x) \($0.y) \($0.z)\n" }.joined().utf8)
        case "stl":
            let corners = p + Array(repeating: p[p.count - 1], count: (3 - p.count % 3) % 3)
            bytes = [UInt8](repeating: 0, count: 80)
            withUnsafeBytes(of: UInt32(corners.count / 3).littleEndian) { bytes += $0 }
            for t in 0 ..< corners.count / 3 {
                for _ in 0 ..< 3 { f32(0) }
                for q in corners[3 * t ..< 3 * t + 3] { f32(q.x); f32(q.y); f32(q.z) }
                bytes += [0, 0]
            }
        case "las":
            bytes = lasBytes(p)
        default:
            return try cloud.write(to: path)
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw .unwritable(path: path, reason: "cannot write the benchmark's copy")
        }
    }

    /// LAS 1.2, point format 0, coordinates in micro-units.
    static func lasBytes(_ p: [SIMD3<Float>]) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 227)
        func put<T: FixedWidthInteger>(_ v: T, at offset: Int) { withUnsafeBytes(of: v.littleEndian) { h.replaceSubrange(offset ..< offset + $0.count, with: $0) } }
        h.replaceSubrange(0 ..< 4, with: Array("LASF".utf8))
        h[24] = 1; h[25] = 2
        put(UInt16(227), at: 94); put(UInt32(227), at: 96); put(UInt16(20), at: 105); put(UInt32(p.count), at: 107)
        for axis in 0 ..< 3 { put((1e-6 as Double).bitPattern, at: 131 + 8 * axis) }
        var bytes = h
        for q in p {
            for axis in 0 ..< 3 { withUnsafeBytes(of: Int32((Double(q[axis]) * 1e6).rounded()).littleEndian) { bytes += $0 } }
            bytes += [UInt8](repeating: 0, count: 8)
        }
        return bytes
    }

    public static let formatColumns: [RecordPrinter.Column] = [
        .init(key: "format", title: "FORMAT"), .init(key: "clouds_per_s", title: "CLOUDS/S"), .init(key: "vs_pcd", title: "VS PCD"),
    ]

    /// One row per format, each against the first (PCD).
    public func formatRecords(_ measurements: [Measurement]) -> [Record] { records(measurements, named: "format", against: "vs_pcd") }
}
