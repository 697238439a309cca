import Foundation
import Support

/// A triangle mesh as OFF, OBJ and STL files hold it; polygons are split into fans of triangles.
struct Mesh {
    var vertices: [SIMD3<Float>]
    /// Indices into `vertices`, each checked to be in range.
    var triangles: [SIMD3<Int32>]
    /// Whether the file was text (OFF, OBJ, ASCII STL) rather than binary STL.
    var isText: Bool

    /// The vertices as a cloud (a binary STL's are each triangle's three corners).
    func vertexCloud(path: String) throws(PointCloudError) -> PointCloud {
        guard !vertices.isEmpty else { throw .invalid(path: path, reason: "the mesh has no vertices") }
        return PointCloud(positions: vertices)
    }

    /// `count` points spread uniformly over the surface: a triangle is picked with probability in
    /// proportion to its area, then a point in it uniformly (the square-root barycentric method),
    /// seeded. Each point carries its triangle's unit normal (`normal_x` …). A mesh without triangles
    /// gives its vertices; triangles with a NaN or infinite corner get no points.
    func sampled(_ count: Int, seed: UInt64, path: String) throws(PointCloudError) -> PointCloud {
        if triangles.isEmpty { return try vertexCloud(path: path) }
        var cumulative = [Double]()
        cumulative.reserveCapacity(triangles.count)
        var total = 0.0
        for t in triangles {
            let area = Double(length(corners(t).cross)) / 2
            total += area.isFinite ? area : 0
            cumulative.append(total)
        }
        guard total > 0, total.isFinite else { throw .invalid(path: path, reason: "the mesh has no surface area to sample (--mesh vertices reads its vertices)") }
        var rng = SeededGenerator(seed: seed)
        var positions = [SIMD3<Float>](), normals = [[Float]](repeating: [], count: 3)
        positions.reserveCapacity(count)
        for axis in 0 ..< 3 { normals[axis].reserveCapacity(count) }
        for _ in 0 ..< count {
            let u = Double.random(in: 0 ..< total, using: &rng)
            // The first triangle whose running total passes u: zero-area ones are never chosen.
            var lo = 0, hi = cumulative.count - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if cumulative[mid] > u { hi = mid } else { lo = mid + 1 }
            }
            let (a, b, c, cross) = corners(triangles[lo])
            let s = Float.random(in: 0 ... 1, using: &rng).squareRoot(), r = Float.random(in: 0 ... 1, using: &rng)
            positions.append(a * (1 - s) + b * (s * (1 - r)) + c * (s * r))
            let n = cross / length(cross)
            for axis in 0 ..< 3 { normals[axis].append(n[axis]) }
        }
        return PointCloud(positions: positions, fields: ["normal_x", "normal_y", "normal_z"].enumerated().map {
            PointCloud.Field(name: $0.element, values: normals[$0.offset])
        })
    }

    private func corners(_ t: SIMD3<Int32>) -> (SIMD3<Float>, SIMD3<Float>, SIMD3<Float>, cross: SIMD3<Float>) {
        let a = vertices[Int(t.x)], b = vertices[Int(t.y)], c = vertices[Int(t.z)]
        let e1 = SIMD3<Double>(b - a), e2 = SIMD3<Double>(c - a)
        let cross = SIMD3(e1.y * e2.z - e1.z * e2.y, e1.z * e2.x - e1.x * e2.z, e1.x * e2.y - e1.y * e2.x)
        return (a, b, c, SIMD3<Float>(cross))
    }

    private func length(_ v: SIMD3<Float>) -> Float { (v * v).sum().squareRoot() }
}

/// OFF, OBJ and STL (ASCII and binary) files as meshes. Counts in headers are checked against the
/// file's size before anything is allocated; a face's indices must name existing vertices.
enum MeshReader {
    static func read(_ bytes: [UInt8], path: String, format: PointCloudFormat) throws(PointCloudError) -> Mesh {
        if format == .stl, let binary = try binarySTL(bytes, path: path) { return binary }
        var buffer = bytes
        buffer.append(0)  // strtof stops here at the latest
        return try buffer.withUnsafeBufferPointer { b in
            Result { () throws(PointCloudError) -> Mesh in
                var lines = Lines(b: b, size: bytes.count, path: path)
                switch format {
                case .off: return try off(&lines)
                case .obj: return try obj(&lines)
                default: return try asciiSTL(&lines)
                }
            }
        }.get()
    }

    /// Triangles that share no corners: STL's, three vertices each.
    static func separateTriangles(_ count: Int) -> [SIMD3<Int32>] {
        (0 ..< count).map { (t: Int) -> SIMD3<Int32> in
            let first = Int32(3 * t)
            return SIMD3(first, first + 1, first + 2)
        }
    }

    /// OFF: `OFF`, then `vertices faces edges`, then a vertex per line (x y z, more ignored), then a face
    /// per line (`k i1 … ik`, more ignored). ModelNet's files often have the counts on the `OFF` line
    /// itself (`OFF490 518 0`); COFF, NOFF and the like are read the same way.
    static func off(_ lines: inout Lines) throws(PointCloudError) -> Mesh {
        guard lines.next() else { throw lines.invalid("the file is empty") }
        let keyword = lines.text(lines.tokens[0])
        guard let at = keyword.range(of: "OFF"), keyword[..<at.lowerBound].allSatisfy({ "CNST4".contains($0) }) else {
            throw lines.invalid("line \(lines.number): not an OFF file (no OFF keyword)")
        }
        var counts = [Int]()
        let rest = keyword[at.upperBound...]
        if !rest.isEmpty {
            guard let n = Int(rest) else { throw lines.invalid("line \(lines.number): '\(keyword.prefix(20))' is not OFF and a count") }
            counts.append(n)
        }
        counts += lines.tokens.dropFirst().map { Int(lines.text($0)) ?? -1 }
        if counts.isEmpty {
            guard lines.next() else { throw lines.invalid("no counts after OFF") }
            counts = lines.tokens.map { Int(lines.text($0)) ?? -1 }
        }
        guard counts.count >= 2, counts.count <= 3, counts.allSatisfy({ $0 >= 0 }) else {
            throw lines.invalid("line \(lines.number): expected the vertex, face and edge counts")
        }
        let nv = counts[0], nf = counts[1]
        // A vertex takes 6 bytes at least ("0 0 0\n"), a triangle 8 ("3 0 1 2\n").
        let (v6, o1) = nv.multipliedReportingOverflow(by: 6), (f8, o2) = nf.multipliedReportingOverflow(by: 8)
        let (needed, o3) = v6.addingReportingOverflow(f8)
        guard !o1, !o2, !o3, needed <= lines.size - lines.position else {
            throw lines.invalid("the header promises \(nv) vertices and \(nf) faces, more than the file's \(lines.size) bytes can hold")
        }
        var vertices = [SIMD3<Float>]()
        vertices.reserveCapacity(nv)
        for _ in 0 ..< nv {
            guard lines.next() else { throw lines.invalid("the file ends after \(vertices.count) of \(nv) vertices") }
            vertices.append(try lines.point(0))
        }
        var triangles = [SIMD3<Int32>]()
        triangles.reserveCapacity(nf)
        for _ in 0 ..< nf {
            guard lines.next() else { throw lines.invalid("the file ends after \(triangles.count) faces of \(nf)") }
            guard let k = Int(lines.text(lines.tokens[0])), k >= 1, k < lines.tokens.count else {
                throw lines.invalid("line \(lines.number): a face needs its vertex count and that many indices")
            }
            try lines.fan((1 ... k).map { lines.tokens[$0] }, vertexCount: nv, into: &triangles)
        }
        return Mesh(vertices: vertices, triangles: triangles, isText: true)
    }

    /// OBJ: `v x y z` vertices and `f` faces of 1-based (or negative, relative) indices, `i/t/n`
    /// forms included; every other statement is skipped.
    static func obj(_ lines: inout Lines) throws(PointCloudError) -> Mesh {
        var vertices = [SIMD3<Float>](), triangles = [SIMD3<Int32>]()
        var faces = [(line: Int, corners: [Int])]()
        while lines.next() {
            switch lines.text(lines.tokens[0]) {
            case "v":
                vertices.append(try lines.point(1))
            case "f":
                var corners = [Int]()
                for t in lines.tokens.dropFirst() {
                    let word = lines.text(t)
                    guard let i = Int(word.prefix { $0 != "/" }), i != 0 else {
                        throw lines.invalid("line \(lines.number): '\(word.prefix(20))' is not a vertex index")
                    }
                    corners.append(i < 0 ? vertices.count + i : i - 1)
                }
                faces.append((lines.number, corners))
            default: continue
            }
        }
        for face in faces {
            guard face.corners.count >= 3 else { throw lines.invalid("line \(face.line): a face needs three vertices") }
            if let bad = face.corners.first(where: { $0 < 0 || $0 >= vertices.count }) {
                throw lines.invalid("line \(face.line): vertex \(bad + 1) does not exist (\(vertices.count) vertices)")
            }
            for i in 1 ..< face.corners.count - 1 {
                triangles.append(SIMD3(Int32(face.corners[0]), Int32(face.corners[i]), Int32(face.corners[i + 1])))
            }
        }
        guard !vertices.isEmpty else { throw lines.invalid("the file has no vertices (no 'v' lines)") }
        return Mesh(vertices: vertices, triangles: triangles, isText: true)
    }

    /// ASCII STL: `vertex x y z` lines, three per `outer loop` … `endloop`.
    static func asciiSTL(_ lines: inout Lines) throws(PointCloudError) -> Mesh {
        guard lines.next(), lines.text(lines.tokens[0]) == "solid" else { throw lines.invalid("not an STL file (neither 'solid' nor a binary STL's size)") }
        var vertices = [SIMD3<Float>](), loop = 0
        while lines.next() {
            switch lines.text(lines.tokens[0]) {
            case "vertex":
                vertices.append(try lines.point(1))
                loop += 1
            case "endloop":
                guard loop == 3 else { throw lines.invalid("line \(lines.number): a facet with \(loop) vertices (STL facets have 3)") }
                loop = 0
            default: continue
            }
        }
        guard loop == 0, vertices.count % 3 == 0 else { throw lines.invalid("the file ends inside a facet") }
        guard !vertices.isEmpty else { throw lines.invalid("the file has no facets") }
        let triangles = separateTriangles(vertices.count / 3)
        return Mesh(vertices: vertices, triangles: triangles, isText: true)
    }

    /// A binary STL (80-byte header, triangle count, 50 bytes a triangle), or nil when the file looks
    /// like ASCII STL instead.
    static func binarySTL(_ bytes: [UInt8], path: String) throws(PointCloudError) -> Mesh? {
        let n = bytes.count >= 84 ? bytes.withUnsafeBytes { ByteView(bytes: $0).load(80, as: UInt32.self) } : 0
        let expected = 84 + 50 * Int(n)
        if bytes.count >= 84 && expected == bytes.count {
            guard n > 0 else { throw .invalid(path: path, reason: "the STL has no triangles") }
            var vertices = [SIMD3<Float>]()
            vertices.reserveCapacity(3 * Int(n))
            bytes.withUnsafeBytes { raw in
                let view = ByteView(bytes: raw)
                for t in 0 ..< Int(n) {
                    for corner in 0 ..< 3 {
                        let at = 84 + 50 * t + 12 + 12 * corner
                        vertices.append(SIMD3(view.float(at), view.float(at + 4), view.float(at + 8)))
                    }
                }
            }
            let triangles = separateTriangles(Int(n))
            return Mesh(vertices: vertices, triangles: triangles, isText: false)
        }
        let start = bytes.drop { $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }
        if start.starts(with: Array("solid".utf8)) { return nil }
        guard bytes.count >= 84 else { throw .invalid(path: path, reason: "not an STL file (\(bytes.count) bytes, no 'solid')") }
        throw .invalid(path: path, reason: "binary STL: the header says \(n) triangles (\(expected) bytes), the file has \(bytes.count)")
    }
}

/// The lines of a text mesh, split into whitespace-separated tokens; empty lines and `#` comments
/// are skipped. `number` is the current line's number, from 1.
struct Lines {
    let b: UnsafeBufferPointer<UInt8>
    let size: Int
    let path: String
    var position = 0
    var number = 0
    var tokens = [Range<Int>]()

    init(b: UnsafeBufferPointer<UInt8>, size: Int, path: String) {
        self.b = b
        self.size = size
        self.path = path
    }

    /// Moves to the next line with tokens; false at the end.
    mutating func next() -> Bool {
        while position < size {
            number += 1
            var end = position
            while end < size && b[end] != 10 { end += 1 }
            tokens.removeAll(keepingCapacity: true)
            var i = position
            while i < end {
                while i < end && (TextCloudReader.isBlank(b[i]) || b[i] == 13) { i += 1 }
                if i < end && b[i] == 35 { break }  // a comment to the end of the line
                let s = i
                while i < end && !TextCloudReader.isBlank(b[i]) && b[i] != 13 { i += 1 }
                if i > s { tokens.append(s ..< i) }
            }
            position = end + 1
            if !tokens.isEmpty { return true }
        }
        return false
    }

    func text(_ t: Range<Int>) -> String { TextCloudReader.text(b, t) }

    func invalid(_ reason: String) -> PointCloudError { .invalid(path: path, reason: reason) }

    /// x, y, z from the tokens starting at `first`.
    func point(_ first: Int) throws(PointCloudError) -> SIMD3<Float> {
        guard tokens.count >= first + 3 else { throw invalid("line \(number) has \(tokens.count - first) coordinates, expected 3") }
        var p = SIMD3<Float>()
        for axis in 0 ..< 3 {
            guard let v = TextCloudReader.number(b, tokens[first + axis]) else {
                throw invalid("line \(number): '\(text(tokens[first + axis]).prefix(40))' is not a number")
            }
            p[axis] = v
        }
        return p
    }

    /// A polygon's 0-based indices as a fan of triangles; one or two corners add none.
    func fan(_ corners: [Range<Int>], vertexCount: Int, into triangles: inout [SIMD3<Int32>]) throws(PointCloudError) {
        var indices = [Int32]()
        for t in corners {
            guard let i = Int(text(t)), i >= 0, i < vertexCount else {
                throw invalid("line \(number): '\(text(t).prefix(20))' is not a vertex index below \(vertexCount)")
            }
            indices.append(Int32(i))
        }
        guard indices.count >= 3 else { return }
        for i in 1 ..< indices.count - 1 { triangles.append(SIMD3(indices[0], indices[i], indices[i + 1])) }
    }
}
