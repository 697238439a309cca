import Foundation
import Networks
import Output
import PointClouds
import Support

/// One input of `classify` or `batch`: a file, with its true class when the input names it.
public struct InputItem: Sendable, Equatable {
    public var path: String
    public var label: String?

    public init(path: String, label: String? = nil) {
        self.path = path
        self.label = label
    }

    /// Files, folders, globs and @lists (see `CloudPaths`), and CSV manifests (`path,label`, as
    /// `evaluate` takes them) whose labels come along. `labelsFromFolders`: a file's parent folder
    /// names its class, for inputs without one. Duplicate paths are kept once, first wins.
    public static func expand(_ inputs: [String], labelsFromFolders: Bool = false, reading: CloudReadOptions = CloudReadOptions()) throws(PointCloudError) -> [InputItem] {
        var seen = Set<String>()
        var items = [InputItem]()
        for input in inputs {
            let found: [InputItem]
            // A .csv is a manifest, unless --input-format says to read text clouds.
            if input.lowercased().hasSuffix(".csv") && !input.hasPrefix("@") && reading.format?.isText != true {
                let set = try LabelledSet(at: input, reading: reading)
                found = set.samples.map { InputItem(path: $0.path, label: set.classes[$0.label]) }
            } else {
                found = try CloudPaths.expand([input], reading: reading).map {
                    InputItem(path: $0, label: labelsFromFolders ? URL(fileURLWithPath: $0).deletingLastPathComponent().lastPathComponent : nil)
                }
            }
            for item in found where seen.insert(item.path).inserted { items.append(item) }
        }
        return items
    }
}

/// `--shard I/N`: the inputs whose path hashes to I (1-based) of N — the same split on every machine.
public struct Shard: Sendable, Equatable {
    public var index: Int
    public var count: Int

    /// From "I/N"; nil unless 1 ≤ I ≤ N.
    public init?(_ text: String) {
        let parts = text.split(separator: "/").map { Int($0) }
        guard parts.count == 2, let i = parts[0], let n = parts[1], n >= 1, (1 ... n).contains(i) else { return nil }
        index = i
        count = n
    }

    /// FNV-1a of the path's bytes, so every machine splits alike.
    public func contains(_ path: String) -> Bool { Int(FNV1a.hash(path) % UInt64(count)) + 1 == index }
}

/// A cloud read from a file and prepared for a model.
public struct PreparedInput: Sendable {
    public var item: InputItem
    public var cloud: PointCloud
    /// Valid points of the file, before preparation.
    public var points: Int
    /// The floor step found no floor: the cloud kept all its points.
    public var floorless: Bool
    public var milliseconds: Double
    /// With `--scene`: which object of the scene this is.
    public var object: SegmentedObject? = nil
    /// Why the file, read as one object, looks like a whole scene; nil when it does not.
    public var sceneHint: String? = nil
}

extension PointCloud {
    /// Why this cloud looks like a whole scene rather than one object, from what costs nothing to
    /// look at: a depth image's grid (objects cut from scans are unorganized), or more points than
    /// an object scan holds. Nil when it does not.
    public var sceneHint: String? {
        if width >= 64 && height >= 48 { return "a \(width)×\(height) depth image" }
        if count >= 100_000 { return "\(count) points" }
        return nil
    }
}

extension ModelMetadata {
    /// Reads `item` and prepares it as the model was trained (the preprocessing in its file) — or,
    /// `raw`, checks that it can go in as stored.
    public func prepareInput(_ item: InputItem, raw: Bool = false, reading: CloudReadOptions = CloudReadOptions()) throws(PointCloudError) -> PreparedInput {
        let clock = ContinuousClock.now
        let path = item.path
        let cloud = try PointCloud(contentsOf: path, options: reading, modelPoints: preprocessing.samplePoints)
        var prepared = cloud, floorless = false
        if raw {
            // Without preprocessing the points go in as they are; non-finite ones would poison the max pool.
            guard cloud.finiteCount == cloud.count else {
                throw .invalid(path: path, reason: "\(cloud.count - cloud.finiteCount) points are NaN or infinite (drop --no-preprocess)")
            }
        } else {
            let out = try preprocessing.apply(to: cloud, path: path)
            prepared = out.cloud
            floorless = out.notices.contains(.noFloorFound)
        }
        let needed = architecture.minimumPoints
        guard prepared.count >= needed else {
            throw .invalid(path: path, reason: "\(prepared.count) points; \(architecture.name) needs at least \(needed)")
        }
        return PreparedInput(item: item, cloud: prepared, points: cloud.finiteCount, floorless: floorless,
                             milliseconds: (ContinuousClock.now - clock).milliseconds, sceneHint: cloud.sceneHint)
    }
}

extension Preprocessing {
    /// These steps with the user's input `steps` (outliers, voxel grid, up axis, floor: what a file
    /// needs before the model's own steps) placed first after NaN removal, in the order given;
    /// a step the model already has is not added again.
    public func conditioning(_ steps: [PreprocessStep]) -> Preprocessing {
        var out = self
        var at = out.steps.firstIndex(of: .removeNonFinite).map { $0 + 1 } ?? 0
        for step in steps where !out.steps.contains(step) {
            out.steps.insert(step, at: at)
            at += 1
        }
        return out
    }
}

extension ExitStatus {
    /// The status and the one line a library error ends a command with; nil for other errors.
    public static func report(_ error: any Error) -> (status: ExitStatus, message: String)? {
        switch error {
        case let failure as CommandFailure: (failure.status, failure.message)
        case let error as PointCloudError: (status(for: error), error.description)
        case let error as ModelError: (error.isUnwritable ? .output : .model, error.description)
        default: nil
        }
    }

    /// How a file's error ends a command.
    public static func status(for error: PointCloudError) -> ExitStatus {
        switch error {
        case .unreadable, .invalid: .badInput
        case .unwritable: .output
        case .invalidArgument: .usage
        case .bridgeUnavailable: .internalError
        }
    }
}

extension Duration {
    public var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}

extension ModelError {
    var isUnwritable: Bool { if case .unwritable = self { true } else { false } }
}
