import CPCL
import Foundation
import Support

/// Reading and writing .pcd and .ply files through PCL.
public enum PointCloudFormat: String, Sendable, Codable, CaseIterable {
    case pcd, ply

    /// The format a path's extension names, case-insensitively.
    public init?(path: String) {
        self.init(rawValue: (path as NSString).pathExtension.lowercased())
    }
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

    /// Reads a .pcd (ascii, binary, binary_compressed; organized or not) or .ply (ascii or binary of
    /// either endianness; float, double or integer properties; vertices of a mesh) file.
    ///
    /// Fields other than x, y, z and rgb/rgba are kept as float fields; PCD padding fields ("_") are
    /// dropped. Throws `PointCloudError` for anything that is not a readable, consistent cloud,
    /// including a cloud without points.
    public static func read(_ path: String) throws(PointCloudError) -> PointCloudFile {
        guard let format = PointCloudFormat(path: path) else {
            let ext = (path as NSString).pathExtension
            throw .invalid(path: path, reason: ext.isEmpty
                ? "no file extension (pcdiag reads .pcd and .ply)"
                : "unsupported file type '.\(ext)' (pcdiag reads .pcd and .ply)")
        }
        var handle: OpaquePointer?
        var encoding = CPCL_ASCII
        var error = cpcl_error()
        let status = cpcl_load(path, &handle, &encoding, &error)
        guard status == Int32(CPCL_OK.rawValue), let handle else {
            let reason = message(error)
            throw status == Int32(CPCL_IO.rawValue) ? .unreadable(path: path, reason: reason)
                                                    : .invalid(path: path, reason: reason)
        }
        defer { cpcl_cloud_free(handle) }
        let cloud = try BridgeCloud.decode(handle, path: path)
        if cloud.count == 0 { throw .invalid(path: path, reason: "the cloud has no points") }
        return PointCloudFile(path: path, format: format, encoding: PointCloudEncoding(encoding), cloud: cloud)
    }
}

extension PointCloud {
    /// Reads a cloud from a .pcd or .ply file; see `PointCloudFile.read`.
    public init(contentsOf path: String) throws(PointCloudError) {
        self = try PointCloudFile.read(path).cloud
    }

    /// Writes the cloud, all fields included, as .pcd or .ply (by extension). The file appears whole or
    /// not at all (written beside the target, then renamed). PLY has no compressed encoding.
    public func write(to path: String, encoding: PointCloudEncoding = .binary) throws(PointCloudError) {
        guard PointCloudFormat(path: path) != nil else {
            throw .unwritable(path: path, reason: "unsupported output type (use .pcd or .ply)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if !directory.isEmpty,
           !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) || !isDirectory.boolValue {
            throw .unwritable(path: path, reason: "the directory '\(directory)' does not exist")
        }
        let handle = try BridgeCloud.encode(self)
        defer { cpcl_cloud_free(handle) }
        var error = cpcl_error()
        TemporaryFile.removeStale(for: path)
        guard cpcl_save(path, TemporaryFile.path(for: path), handle, encoding.cValue, &error) == Int32(CPCL_OK.rawValue) else {
            throw .unwritable(path: path, reason: message(error))
        }
    }
}

func message(_ error: cpcl_error) -> String {
    withUnsafeBytes(of: error.message) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

extension PointCloudFile {
    /// Writes the cloud of file `source` to `path` with a uint32 field `name` added (or, when the file
    /// has one, overwritten): every other field keeps its name, type and values, an organized cloud its
    /// grid. PLY stores every non-colour property as float. Whole or absent, like `write(to:)`.
    public static func write(_ source: String, adding name: String, values: [UInt32], to path: String,
                             encoding: PointCloudEncoding = .binary) throws(PointCloudError) {
        guard PointCloudFormat(path: path) != nil else {
            throw .unwritable(path: path, reason: "unsupported output type (use .pcd or .ply)")
        }
        var error = cpcl_error()
        TemporaryFile.removeStale(for: path)
        let status = cpcl_save_with_field(source, path, TemporaryFile.path(for: path), name, values, values.count,
                                          encoding.cValue, &error)
        guard status == Int32(CPCL_OK.rawValue) else {
            throw status == Int32(CPCL_IO.rawValue) ? .unwritable(path: path, reason: message(error))
                                                    : .invalid(path: source, reason: message(error))
        }
    }
}
