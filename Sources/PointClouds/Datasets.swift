import Foundation
import Support

/// A labelled set: `root/<class>/*.pcd|ply` folders or a `path,label` CSV manifest.
///
/// Classes are sorted by name and samples by path, so the same set always comes in the same order.
public struct LabelledSet: Sendable {
    public struct Sample: Sendable, Equatable {
        public var path: String
        /// Index into `classes`.
        public var label: Int
    }

    public var classes: [String]
    public var samples: [Sample]

    /// Opens a class-folder tree or, for a `.csv` file, a manifest.
    public init(at path: String, reading: CloudReadOptions = CloudReadOptions()) throws(PointCloudError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(path: path, reason: "no such file or directory")
        }
        let pairs = isDirectory.boolValue ? try Self.folderPairs(path, reading) : try Self.manifestPairs(path)
        guard !pairs.isEmpty else { throw .invalid(path: path, reason: "the data set holds no point cloud files") }
        classes = Array(Set(pairs.map(\.label))).sorted()
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        samples = pairs.map { Sample(path: $0.path, label: index[$0.label]!) }.sorted { $0.path < $1.path }
    }

    /// Clouds without labels (a target domain): one placeholder class, every label 0, in the given order.
    public init(unlabelled paths: [String]) {
        classes = [""]
        samples = paths.map { Sample(path: $0, label: 0) }
    }

    private static func folderPairs(_ root: String, _ reading: CloudReadOptions) throws(PointCloudError) -> [(path: String, label: String)] {
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: root) else {
            throw .unreadable(path: root, reason: "cannot list the folder")
        }
        var pairs = [(path: String, label: String)]()
        for label in entries.sorted() where !label.hasPrefix(".") {
            let folder = (root as NSString).appendingPathComponent(label)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            for file in try CloudPaths.inFolder(folder, reading) { pairs.append((file, label)) }
        }
        return pairs
    }

    private static func manifestPairs(_ csv: String) throws(PointCloudError) -> [(path: String, label: String)] {
        guard let text = try? String(contentsOfFile: csv, encoding: .utf8) else {
            throw .unreadable(path: csv, reason: "cannot read the manifest as UTF-8 text")
        }
        let base = (csv as NSString).deletingLastPathComponent
        var pairs = [(path: String, label: String)]()
        for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            if cells.allSatisfy(\.isEmpty) || (number == 0 && cells.first == "path") { continue }
            guard cells.count == 2, !cells[0].isEmpty, !cells[1].isEmpty else {
                throw .invalid(path: csv, reason: "line \(number + 1): expected 'path,label'")
            }
            let path = cells[0].hasPrefix("/") ? cells[0] : (base as NSString).appendingPathComponent(cells[0])
            pairs.append((path, cells[1]))
        }
        return pairs
    }
}

/// Unlabelled inputs: files, folders (searched recursively), globs, and list files (`@list.txt`: one
/// path per line, relative to the list, `#` comments). Order: as given, each folder or glob sorted;
/// duplicates kept once.
public enum CloudPaths {
    /// `reading` says which files of a folder or a pattern are clouds (`CloudReadOptions.picks`).
    public static func expand(_ inputs: [String], reading: CloudReadOptions = CloudReadOptions()) throws(PointCloudError) -> [String] {
        var seen = Set<String>()
        var out = [String]()
        for input in inputs {
            for path in try expandOne(input, reading) where seen.insert(path).inserted { out.append(path) }
        }
        return out
    }

    static func expandOne(_ input: String, _ reading: CloudReadOptions) throws(PointCloudError) -> [String] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let listFile = input.hasPrefix("@") ? String(input.dropFirst()) : nil
        if let listFile { return try listed(in: listFile) }
        if fm.fileExists(atPath: input, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { return [input] }
            let found = try inFolder(input, reading)
            if found.isEmpty { throw .invalid(path: input, reason: "is a directory with no point cloud files in it") }
            return found
        }
        if input.contains(where: { "*?[".contains($0) }) {
            let matches = glob(input)
            guard !matches.isEmpty else { throw .unreadable(path: input, reason: "the pattern matches no file") }
            return matches.filter { path in
                var isFolder: ObjCBool = false
                return reading.picks(path, matchedByPattern: true) && !(fm.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue)
            }
        }
        // A missing file stays in the list: reading it reports the problem in its own row.
        return [input]
    }

    /// Every cloud file below `folder` (`CloudReadOptions.picks`), sorted by path.
    static func inFolder(_ folder: String, _ reading: CloudReadOptions) throws(PointCloudError) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else {
            throw .unreadable(path: folder, reason: "cannot list the folder")
        }
        var paths = [String]()
        while let relative = walker.nextObject() as? String {
            if reading.picks(relative) { paths.append((folder as NSString).appendingPathComponent(relative)) }
        }
        return paths.sorted()
    }

    static func listed(in listFile: String) throws(PointCloudError) -> [String] {
        guard let text = try? String(contentsOfFile: listFile, encoding: .utf8) else {
            throw .unreadable(path: listFile, reason: "cannot read the list file")
        }
        let base = (listFile as NSString).deletingLastPathComponent
        return text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
            .map { $0.hasPrefix("/") ? $0 : (base as NSString).appendingPathComponent($0) }
    }

    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0 ..< Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}

/// Loads many clouds on all cores, keeping the input order. Each result is the prepared cloud or the
/// error for that file, so one bad file does not stop a data set.
public struct CloudLoader: Sendable {
    public var preprocessing: Preprocessing?
    public var threads: Int
    public var reading: CloudReadOptions

    public init(preprocessing: Preprocessing? = nil, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                reading: CloudReadOptions = CloudReadOptions()) {
        self.preprocessing = preprocessing
        self.threads = max(1, threads)
        self.reading = reading
    }

    public func load(_ path: String) -> Result<PointCloud, PointCloudError> {
        Result { () throws(PointCloudError) -> PointCloud in
            let cloud = try PointCloud(contentsOf: path, options: reading, modelPoints: preprocessing?.samplePoints)
            return try preprocessing?.apply(to: cloud, path: path).cloud ?? cloud
        }
    }

    public func load(_ paths: [String]) -> [Result<PointCloud, PointCloudError>] {
        parallelMap(paths.count, workers: threads) { load(paths[$0]) }
    }
}
