import Foundation
import Support

/// Seeded corrupted copies of a set of cloud files (`pcdiag corrupt`): where every copy goes, checked
/// before anything is written, and the run itself.
///
/// One input file and one corruption with an output named .pcd or .ply: that file is the output.
/// Otherwise the output is a folder: a folder input is mirrored into it (same relative paths), any
/// other input keeps its name, and with several corruptions each goes to `output/KIND-SEVERITY/`.
/// Each file's seed comes from the base seed and its path relative to its input folder (its name for
/// any other input), so results do not depend on order or threads.
public struct CorruptionRun: Sendable {
    /// One input file and where it sits relative to the input it came from.
    public struct Item: Sendable, Equatable {
        public var path: String
        public var relative: String
        /// Found in a folder given as input (rather than named, globbed or listed).
        public var inFolder: Bool
    }

    public let items: [Item]
    public let corruptions: [Corruption]
    public let output: String
    /// `targets[i][c]`: where item `i` corrupted by corruption `c` is written.
    public let targets: [[String]]
    public let encoding: PointCloudEncoding
    public let force: Bool
    public let seed: UInt64
    public let reading: CloudReadOptions

    /// Plans a run and checks that every output can be written: no two the same, none existing
    /// without `force`, no compressed PLY. Throws `.invalid` for inputs without clouds,
    /// `.invalidArgument` (a usage problem) for outputs that cannot work, `.unwritable` for outputs
    /// in the way.
    public init(inputs: [String], output: String, corruptions: [Corruption], encoding: PointCloudEncoding = .binary,
                force: Bool = false, seed: UInt64 = 0, reading: CloudReadOptions = CloudReadOptions()) throws(PointCloudError) {
        precondition(!corruptions.isEmpty, "a run needs at least one corruption")
        let items = try Self.items(inputs, outside: output, reading: reading)
        self.items = items
        self.corruptions = corruptions
        self.output = output
        self.encoding = encoding
        self.force = force
        self.seed = seed
        self.reading = reading
        targets = try Self.targets(items, corruptions: corruptions, output: output)
        try Self.check(items, targets: targets, encoding: encoding, force: force)
    }

    /// Where corruption `c`'s copies go: the output file, the output folder, or its KIND-SEVERITY folder.
    public func destination(_ c: Int) -> String {
        targets == [[output]] ? output : Self.folder(output, corruptions[c], several: corruptions.count > 1)
    }

    /// What became of one input file.
    public struct FileResult: Sendable {
        public var seed: UInt64
        public var pointsIn = 0
        /// Points written, per corruption done (all of them unless `error`).
        public var pointsOut: [Int] = []
        public var error: PointCloudError?
    }

    /// The files' results summed per corruption.
    public struct Total: Sendable, Equatable {
        public var files = 0, failed = 0, pointsIn = 0, pointsOut = 0
    }

    /// Creates the output folders, then reads, corrupts and writes every file on `workers` threads,
    /// `chunk` files at a time; `each` gets every item's index and result, in input order, as its chunk
    /// ends.
    /// Returns the totals per corruption. Throws only when a folder cannot be created: a file that
    /// fails is in its result and the others go on.
    public func run(workers: Int = Parallelism.workers, chunk: Int = 64,
                    each: (Int, FileResult) -> Void = { _, _ in }) throws(PointCloudError) -> [Total] {
        for parent in Set(targets.joined().map { ($0 as NSString).deletingLastPathComponent }).sorted() where !parent.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            } catch {
                throw .unwritable(path: parent, reason: "cannot create the folder (\(error.localizedDescription))")
            }
        }
        var totals = [Total](repeating: Total(), count: corruptions.count)
        for start in stride(from: 0, to: items.count, by: chunk) {
            let range = start ..< min(start + chunk, items.count)
            let results = parallelMap(range.count, workers: workers) { run(range.lowerBound + $0) }
            for (i, result) in zip(range, results) {
                for c in corruptions.indices {
                    if c < result.pointsOut.count {
                        totals[c].files += 1
                        totals[c].pointsIn += result.pointsIn
                        totals[c].pointsOut += result.pointsOut[c]
                    } else {
                        totals[c].failed += 1
                    }
                }
                each(i, result)
            }
        }
        return totals
    }

    /// Item `i`: read, then each corruption applied and written.
    func run(_ i: Int) -> FileResult {
        let item = items[i]
        var result = FileResult(seed: Corruption.seed(seed, for: item.relative))
        do throws(PointCloudError) {
            let cloud = try PointCloud(contentsOf: item.path, options: reading)
            result.pointsIn = cloud.count
            guard cloud.finiteCount > 0 else {
                throw .invalid(path: item.path, reason: "no valid points to corrupt (all \(cloud.count) have NaN or infinite coordinates)")
            }
            for (corruption, target) in zip(corruptions, targets[i]) {
                let corrupted = corruption.apply(to: cloud, seed: result.seed)
                // Checked again here: another program may have made the file since the plan.
                if !force && FileManager.default.fileExists(atPath: target) {
                    throw .unwritable(path: target, reason: "exists (use --force to overwrite)")
                }
                try corrupted.write(to: target, encoding: encoding)
                result.pointsOut.append(corrupted.count)
            }
        } catch {
            result.error = error
        }
        return result
    }

    /// The input files: a folder's files with their paths relative to it, any other input (file, glob,
    /// list) by its name. Files inside the output folder (an earlier run's results) are left out.
    static func items(_ arguments: [String], outside output: String, reading: CloudReadOptions) throws(PointCloudError) -> [Item] {
        let outputRoot = URL(fileURLWithPath: output).standardizedFileURL.path + "/"
        var seen = Set<String>()
        var items = [Item]()
        for argument in arguments {
            var isDirectory: ObjCBool = false
            let folder = FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) && isDirectory.boolValue
            // CloudPaths joins a folder and its files with appendingPathComponent: strip that prefix.
            let prefix = String((argument as NSString).appendingPathComponent("x").dropLast())
            for path in try CloudPaths.expand([argument], reading: reading) where seen.insert(path).inserted {
                if URL(fileURLWithPath: path).standardizedFileURL.path.hasPrefix(outputRoot) { continue }
                let relative = folder && path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : (path as NSString).lastPathComponent
                items.append(Item(path: path, relative: relative, inFolder: folder))
            }
        }
        guard !items.isEmpty else { throw .invalid(path: arguments.joined(separator: " "), reason: "no point cloud files to corrupt") }
        return items
    }

    static func folder(_ output: String, _ corruption: Corruption, several: Bool) -> String {
        several ? (output as NSString).appendingPathComponent("\(corruption.kind.rawValue)-\(corruption.severity)") : output
    }

    static func targets(_ items: [Item], corruptions: [Corruption], output: String) throws(PointCloudError) -> [[String]] {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory)
        if items.count == 1, !items[0].inFolder, corruptions.count == 1, PointCloudFormat(path: output) != nil, !(exists && isDirectory.boolValue) {
            return [[output]]
        }
        if exists && !isDirectory.boolValue {
            throw .unwritable(path: output, reason: "exists and is not a folder (several outputs need a folder)")
        }
        if !exists, PointCloudFormat(path: output) != nil {
            throw .invalidArgument("\(output): \(items.count) files × \(corruptions.count) corruptions need an output folder, not a file name")
        }
        return items.map { item in
            // A format pcdiag reads but does not write (a mesh, LAS, .bin) is written as PCD.
            let name = PointCloudFormat(path: item.relative)?.isWritable == true ? item.relative : (item.relative as NSString).deletingPathExtension + ".pcd"
            return corruptions.map { c in (folder(output, c, several: corruptions.count > 1) as NSString).appendingPathComponent(name) }
        }
    }

    static func check(_ items: [Item], targets: [[String]], encoding: PointCloudEncoding, force: Bool) throws(PointCloudError) {
        var owner = [String: String]()
        for (item, paths) in zip(items, targets) {
            for path in paths {
                if let other = owner.updateValue(item.path, forKey: path) {
                    throw .invalidArgument("\(path): both \(other) and \(item.path) would be written here")
                }
            }
        }
        let all = targets.flatMap { $0 }
        if encoding == .compressed, let ply = all.first(where: { PointCloudFormat(path: $0) == .ply }) {
            throw .invalidArgument("\(ply): PLY has no compressed encoding (use ascii or binary)")
        }
        if !force {
            let existing = all.filter { FileManager.default.fileExists(atPath: $0) }
            if let first = existing.first {
                let others = existing.count > 1 ? ", as do \(existing.count - 1) other outputs" : ""
                throw .unwritable(path: first, reason: "exists\(others) (use --force to overwrite)")
            }
        }
    }
}
