import Foundation
import Support

/// How clouds are read beyond what a file's extension says: the CLI's `--input-format`, `--bin-fields`
/// and `--mesh`.
public struct CloudReadOptions: Sendable, Equatable {
    /// What a mesh (OFF, OBJ, STL) becomes.
    public enum Mesh: Sendable, Equatable {
        /// The vertices as they are.
        case vertices
        /// Area-weighted uniform samples of the surface (seeded): `points`, or when nil the model's
        /// input point count if a model reads the file, else `CloudReadOptions.defaultMeshPoints`.
        case sample(points: Int?)
    }

    /// Read every file as this format whatever its extension; nil: by extension.
    public var format: PointCloudFormat?
    /// The float32 fields of one `.bin` record, in order; must hold x, y and z.
    public var binFields: [String]
    public var mesh: Mesh
    /// Seed of mesh surface sampling: the same file gives the same points.
    public var meshSeed: UInt64

    /// KITTI's velodyne layout.
    public static let kittiFields = ["x", "y", "z", "intensity"]
    public static let defaultMeshPoints = 2048

    public init(format: PointCloudFormat? = nil, binFields: [String] = kittiFields, mesh: Mesh = .sample(points: nil), meshSeed: UInt64 = 0) {
        self.format = format
        self.binFields = binFields
        self.mesh = mesh
        self.meshSeed = meshSeed
    }

    /// Whether a folder (or, `matchedByPattern`, a glob) should pick up `path`. Without `format`: files
    /// of a format pcdiag reads, except `.txt` and `.csv` (notes, licences and manifests as often as
    /// clouds). With it: a folder's files of that format (the text formats as one family), and every
    /// file a pattern matches, since the user chose the pattern (`'scans/*.dat'`).
    public func picks(_ path: String, matchedByPattern: Bool = false) -> Bool {
        if matchedByPattern && format != nil { return true }
        guard let found = PointCloudFormat(path: path) else { return false }
        guard let format else { return found != .txt && found != .csv }
        return found == format || (found.isText && format.isText)
    }

    /// `x,y,z,intensity`-style text as `binFields`; nil unless it names x, y and z once each, no name twice.
    public static func parseFields(_ text: String) -> [String]? {
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.contains(where: \.isEmpty), Set(names).count == names.count,
              ["x", "y", "z"].allSatisfy(names.contains) else { return nil }
        return names
    }

    /// `vertices` or `sample:N` (N ≥ 1) or `sample` (the default count); nil otherwise.
    public static func parseMesh(_ text: String) -> Mesh? {
        if text == "vertices" { return .vertices }
        if text == "sample" { return .sample(points: nil) }
        guard text.hasPrefix("sample:"), let n = Int(text.dropFirst(7)), n >= 1, n <= 100_000_000 else { return nil }
        return .sample(points: n)
    }
}

/// A whole file's bytes, or the one-line reason it cannot be had.
enum FileBytes {
    static func read(_ path: String) throws(PointCloudError) -> [UInt8] {
        try checkRegularFile(path)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { try? handle.close() }
        do {
            return [UInt8](try handle.readToEnd() ?? Data())
        } catch {
            throw .unreadable(path: path, reason: "cannot be read (\(error.localizedDescription))")
        }
    }

    /// Throws unless `path` is a regular file: missing, a directory, a device or a pipe.
    static func checkRegularFile(_ path: String) throws(PointCloudError) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw .unreadable(path: path, reason: "is a directory") }
        // A device or a pipe could be endless (/dev/zero): only a file has a size to check headers against.
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(path: path, reason: "is not a regular file") }
    }

    /// Writes `bytes` to a temporary beside `path` and renames it over `path`: whole or not at all.
    static func write(_ bytes: [UInt8], to path: String) throws(PointCloudError) {
        TemporaryFile.removeStale(for: path)
        let temporary = TemporaryFile.path(for: path)
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
            unlink(temporary)
            throw .unwritable(path: path, reason: "cannot write a temporary file beside it (\(String(cString: strerror(errno))))")
        }
        guard rename(temporary, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temporary)
            throw .unwritable(path: path, reason: why)
        }
    }
}
