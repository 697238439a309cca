import Foundation

/// Paths the tests need: the package root, the shared data (when present), a scratch folder.
public enum TestPaths {
    /// The package root, found from this file's location.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/data` next to the checkout, when it is there (it is in CI).
    public static let sharedData: URL? = {
        let url = root.deletingLastPathComponent().appendingPathComponent("shared/data")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }()

    public static var hasSharedData: Bool { sharedData != nil }

    public static func shared(_ relative: String) -> String {
        sharedData!.appendingPathComponent(relative).path
    }

    public static func sample(_ name: String) -> String {
        root.appendingPathComponent("Samples").appendingPathComponent(name).path
    }

    /// A new empty folder, removed by the caller with `removeItem` if it cares.
    public static func scratch(_ label: String = #function) -> URL {
        let name = label.filter { $0.isLetter || $0.isNumber }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("pcdiag-tests-\(name)-\(UUID().uuidString.prefix(8))")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Little-endian bytes for hand-made fixture files.
public extension Data {
    mutating func append<T: FixedWidthInteger>(le value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
    mutating func append<T: FixedWidthInteger>(be value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
    mutating func append(le value: Float) { append(le: value.bitPattern) }
    mutating func append(le value: Double) { append(le: value.bitPattern) }
    mutating func append(be value: Float) { append(be: value.bitPattern) }
    mutating func append(be value: Double) { append(be: value.bitPattern) }
    mutating func append(_ text: String) { append(contentsOf: Array(text.utf8)) }
}

/// The header of a PCD file with x y z float fields (and the given extra lines' worth of points).
public func pcdHeader(points: Int, width: Int? = nil, height: Int = 1, data: String,
                      fields: String = "x y z", sizes: String = "4 4 4", types: String = "F F F",
                      counts: String = "1 1 1") -> String {
    """
    # .PCD v0.7 - Point Cloud Data file format
    VERSION 0.7
    FIELDS \(fields)
    SIZE \(sizes)
    TYPE \(types)
    COUNT \(counts)
    WIDTH \(width ?? points)
    HEIGHT \(height)
    VIEWPOINT 0 0 0 1 0 0 0
    POINTS \(points)
    DATA \(data)

    """
}
