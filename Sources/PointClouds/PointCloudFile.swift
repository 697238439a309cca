import CPCLInterface
import Foundation
import Support

/// The file formats pcdiag reads, named by their extensions. PCD and PLY go through PCL; the others are
/// parsed here. XYZ, TXT, CSV, PTS and NPY are also written.
public enum PointCloudFormat: String, Sendable, Codable, CaseIterable {
    case pcd, ply, xyz, txt, csv, pts, npy, bin, off, obj, stl, las, laz

    /// The format a path's extension names, case-insensitively.
    public init?(path: String) {
        self.init(rawValue: (path as NSString).pathExtension.lowercased())
    }

    /// One point per line of text.
    public var isText: Bool { [.xyz, .txt, .csv, .pts].contains(self) }
    /// Whether pcdiag writes it (`convert`, `preprocess`, `-o`).
    public var isWritable: Bool { [.pcd, .ply, .xyz, .txt, .csv, .pts, .npy].contains(self) }

    /// The extensions read, for messages.
    static let list = allCases.map { "." + $0.rawValue }.joined(separator: " ")
}

/// How a file stores its data.
public enum PointCloudEncoding: String, Sendable, Codable, CaseIterable {
    case ascii, binary, compressed

    init(_ c: cpcl_encoding) {
        switch c {
        case CPCL_ASCII: self = .ascii
        case CPCL_BINARY: self = .binary
        default: self = .compressed
        }
    }

    var cValue: cpcl_encoding {
        switch self {
        case .ascii: CPCL_ASCII
        case .binary: CPCL_BINARY
        case .compressed: CPCL_BINARY_COMPRESSED
        }
    }
}

/// A cloud as read from a file, with what the file said about itself.
public struct PointCloudFile: Sendable {
    public var path: String
    public var format: PointCloudFormat
    public var encoding: PointCloudEncoding
    public var cloud: PointCloud

    /// Reads a cloud file, its format chosen by `options.format` or else by the extension:
    ///
    /// - .pcd (ascii, binary, binary_compressed; organized or not) and .ply (ascii or binary of either
    ///   endianness; float, double or integer properties; vertices of a mesh), through PCL — common PCD
    ///   files by `PCDReader`, which gives PCL's result without loading it. Fields other than x, y, z
    ///   and rgb/rgba are kept as float fields; PCD padding fields ("_") are dropped.
    /// - .xyz .txt .csv .pts text (`TextCloudReader`), .npy arrays (`NumPyReader`), .bin float32 records
    ///   (`RawRecordReader`, laid out as `options.binFields`), .las (`LASReader`).
    /// - .off .obj .stl meshes (`MeshReader`): their surface sampled per `options.mesh` — with the
    ///   default, `modelPoints` points when a model will read the cloud, else 2,048 — or their vertices.
    ///
    /// Every reader checks what a header promises against the file's size before allocating for it.
    /// Throws `PointCloudError` for anything that is not a readable, consistent cloud, including a cloud
    /// without points; NaN coordinates are kept (`finiteCount` tells).
    public static func read(_ path: String, options: CloudReadOptions = CloudReadOptions(), modelPoints: Int? = nil) throws(PointCloudError) -> PointCloudFile {
        guard let format = options.format ?? PointCloudFormat(path: path) else {
            let ext = (path as NSString).pathExtension
            throw .invalid(path: path, reason: ext.isEmpty
                ? "no file extension (pcdiag reads \(PointCloudFormat.list); or give --input-format)"
                : "unsupported file type '.\(ext)' (pcdiag reads \(PointCloudFormat.list); or give --input-format)")
        }
        switch format {
        case .pcd, .ply:
            guard PointCloudFormat(path: path) == format else {
                throw .invalid(path: path, reason: "PCL reads .\(format.rawValue) files by their extension; rename the file to .\(format.rawValue)")
            }
            // The native reader first: it leaves PCL (and VTK behind it) unloaded; whatever it does not
            // read exactly as PCL would, errors included, PCL reads.
            if format == .pcd, let bytes = try? FileBytes.read(path), let read = try PCDReader.read(bytes, path: path) {
                return PointCloudFile(path: path, format: format, encoding: read.encoding, cloud: read.cloud)
            }
            return try readThroughPCL(path, format: format)
        case .laz:
            try FileBytes.checkRegularFile(path)
            throw LASReader.compressed(path)
        default:
            let bytes = try FileBytes.read(path)
            let cloud: PointCloud
            var encoding = PointCloudEncoding.binary
            switch format {
            case .npy: cloud = try NumPyReader.read(bytes, path: path)
            case .bin: cloud = try RawRecordReader.read(bytes, path: path, fields: options.binFields)
            case .las: cloud = try LASReader.read(bytes, path: path)
            case .off, .obj, .stl:
                let mesh = try MeshReader.read(bytes, path: path, format: format)
                if mesh.isText { encoding = .ascii }
                switch options.mesh {
                case .vertices: cloud = try mesh.vertexCloud(path: path)
                case .sample(let points):
                    cloud = try mesh.sampled(points ?? modelPoints ?? CloudReadOptions.defaultMeshPoints, seed: options.meshSeed, path: path)
                }
            default:
                cloud = try TextCloudReader.read(bytes, path: path, format: format)
                encoding = .ascii
            }
            return PointCloudFile(path: path, format: format, encoding: encoding, cloud: cloud)
        }
    }

    /// The file as PCL reads it (the native reader bypassed): what `PCDReader` must match.
    static func readThroughPCL(_ path: String, format: PointCloudFormat) throws(PointCloudError) -> PointCloudFile {
        let pcl = try PCLBridge.api()
        var handle: OpaquePointer?
        var encoding = CPCL_ASCII
        var error = cpcl_error()
        let status = pcl.load(path, &handle, &encoding, &error)
        guard status == Int32(CPCL_OK.rawValue), let handle else {
            let reason = message(error)
            throw status == Int32(CPCL_IO.rawValue) ? .unreadable(path: path, reason: reason)
                                                    : .invalid(path: path, reason: reason)
        }
        defer { pcl.cloud_free(handle) }
        let cloud = try BridgeCloud.decode(handle, path: path)
        if cloud.count == 0 { throw .invalid(path: path, reason: "the cloud has no points") }
        return PointCloudFile(path: path, format: format, encoding: PointCloudEncoding(encoding), cloud: cloud)
    }
}

extension PointCloud {
    /// Reads a cloud file; see `PointCloudFile.read`.
    public init(contentsOf path: String, options: CloudReadOptions = CloudReadOptions(), modelPoints: Int? = nil) throws(PointCloudError) {
        self = try PointCloudFile.read(path, options: options, modelPoints: modelPoints).cloud
    }

    /// Writes the cloud, all fields included, by extension: .pcd or .ply (through PCL, in `encoding`;
    /// PLY has no compressed encoding), .xyz .txt .pts .csv text with a header line, or .npy float32
    /// (`CloudTextWriter`, `NumPyWriter`; `encoding` does not apply). The file appears whole or not at
    /// all (written beside the target, then renamed).
    public func write(to path: String, encoding: PointCloudEncoding = .binary) throws(PointCloudError) {
        guard let format = PointCloudFormat(path: path), format.isWritable else {
            throw .unwritable(path: path, reason: "unsupported output type (use .pcd, .ply, .xyz, .txt, .csv, .pts or .npy)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if !directory.isEmpty,
           !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) || !isDirectory.boolValue {
            throw .unwritable(path: path, reason: "the directory '\(directory)' does not exist")
        }
        if format == .npy { return try FileBytes.write(NumPyWriter.bytes(self), to: path) }
        if format.isText { return try FileBytes.write(CloudTextWriter.bytes(self, separator: format == .csv ? "," : " "), to: path) }
        let pcl = try PCLBridge.api()
        let handle = try BridgeCloud.encode(self)
        defer { pcl.cloud_free(handle) }
        var error = cpcl_error()
        TemporaryFile.removeStale(for: path)
        guard pcl.save(path, TemporaryFile.path(for: path), handle, encoding.cValue, &error) == Int32(CPCL_OK.rawValue) else {
            throw .unwritable(path: path, reason: message(error))
        }
    }
}

func message(_ error: cpcl_error) -> String {
    withUnsafeBytes(of: error.message) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// Values of a field added to a written cloud, in the type the file stores.
public enum FieldValues: Sendable, Equatable {
    case uint32([UInt32])
    case int32([Int32])
    case float([Float])

    var count: Int {
        switch self {
        case .uint32(let v): v.count
        case .int32(let v): v.count
        case .float(let v): v.count
        }
    }
}

extension PointCloudFile {
    /// Writes `cloud`, read from file `source`, to `path` (.pcd or .ply) with `fields` added — or, where
    /// the file has a field of that name and type, overwritten. A .pcd or .ply source is read again
    /// through PCL, so every other field keeps its name, type and values and an organized cloud its
    /// grid; from other formats `cloud` is written as read. PLY stores every non-colour property as
    /// float. Whole or absent, like `write(to:)`.
    public static func write(_ cloud: PointCloud, readFrom source: String, adding fields: [(name: String, values: FieldValues)],
                             to path: String, encoding: PointCloudEncoding = .binary) throws(PointCloudError) {
        guard let format = PointCloudFormat(path: path), format == .pcd || format == .ply else {
            throw .unwritable(path: path, reason: "unsupported output type (use .pcd or .ply)")
        }
        let pcl = try PCLBridge.api()
        var error = cpcl_error()
        let handle: OpaquePointer
        if let sourceFormat = PointCloudFormat(path: source), sourceFormat == .pcd || sourceFormat == .ply {
            var loaded: OpaquePointer?
            var read = CPCL_ASCII
            let status = pcl.load(source, &loaded, &read, &error)
            guard status == Int32(CPCL_OK.rawValue), let loaded else {
                throw status == Int32(CPCL_IO.rawValue) ? .unreadable(path: source, reason: message(error)) : .invalid(path: source, reason: message(error))
            }
            handle = loaded
        } else {
            handle = try BridgeCloud.encode(cloud)
        }
        defer { pcl.cloud_free(handle) }
        let points = Int(pcl.cloud_width(handle)) * Int(pcl.cloud_height(handle))
        for (name, values) in fields {
            guard values.count == points else { throw .invalid(path: source, reason: "the file changed since it was read") }
            let status: Int32 = switch values {
            case .uint32(let v): v.withUnsafeBytes { pcl.cloud_add_field(handle, name, CPCL_UINT32, 1, $0.baseAddress, &error) }
            case .int32(let v): v.withUnsafeBytes { pcl.cloud_add_field(handle, name, CPCL_INT32, 1, $0.baseAddress, &error) }
            case .float(let v): v.withUnsafeBytes { pcl.cloud_add_field(handle, name, CPCL_FLOAT32, 1, $0.baseAddress, &error) }
            }
            guard status == Int32(CPCL_OK.rawValue) else { throw .invalid(path: source, reason: message(error)) }
        }
        TemporaryFile.removeStale(for: path)
        guard pcl.save(path, TemporaryFile.path(for: path), handle, encoding.cValue, &error) == Int32(CPCL_OK.rawValue) else {
            throw .unwritable(path: path, reason: message(error))
        }
    }
}
