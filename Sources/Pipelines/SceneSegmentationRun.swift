import Foundation
import Output
import PointClouds

/// `segment`: each scene cut into objects; the scene written back with an `object` field, each object
/// as its own cloud, a row per object — or, against a ground truth, a score row per scene and pooled.
public struct SceneSegmentationRun {
    public var options: SegmentationOptions
    public var encoding = PointCloudEncoding.binary
    public var force = false
    /// Where each object goes as `<scene>-<id>.pcd`.
    public var objectsFolder: String?
    /// An mOSD-style ground-truth field to score against (see `PointCloud.mosdTruth`).
    public var truthField: String?

    public init(options: SegmentationOptions) { self.options = options }

    /// The row layouts: one per object, or one per scene when scoring.
    public static let objectColumns: [RecordPrinter.Column] = [
        .init(key: "scene", title: "SCENE"), .init(key: "object", title: "OBJECT"), .init(key: "points", title: "POINTS"),
        .init(key: "centroid", title: "CENTROID"), .init(key: "extent", title: "EXTENT"),
        .init(key: "oriented_extent", title: "ORIENTED"), .init(key: "plane", title: "PLANE"),
    ]
    public static let scoreColumns: [RecordPrinter.Column] = [
        .init(key: "scene", title: "SCENE"), .init(key: "objects", title: "OBJECTS"), .init(key: "segments", title: "SEGMENTS"),
        .init(key: "recall", title: "RECALL"), .init(key: "wov", title: "WOV"), .init(key: "precision", title: "PRECISION"),
        .init(key: "seconds", title: "SECONDS"),
    ]

    /// Where each scene's labelled copy goes: `output` itself for one scene, NAME.segmented.EXT (the
    /// scene's own extension) in `output` when it is an existing folder.
    public static func outputPaths(_ output: String, for scenes: [String]) throws -> [String] {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory) && isDirectory.boolValue {
            return scenes.map { path in
                let name = (path as NSString).lastPathComponent as NSString
                return (output as NSString).appendingPathComponent("\(name.deletingPathExtension).segmented.\(name.pathExtension)")
            }
        }
        guard scenes.count == 1 else {
            throw CommandFailure(status: .usage, message: "-o \(output): several scenes need an existing folder to write into")
        }
        return [output]
    }

    /// Segments `scenes` one after another and emits rows as they come. A scene that fails is reported
    /// on `console` and counted; the others go on. Returns the exit status (see `BatchOutcome`).
    public func run(_ scenes: [String], outputs: [String]?, console: Console, progress: ProgressMeter = .none(),
                    emit: (Record) -> Void) throws -> ExitStatus {
        if let outputs { try CommandFailure.checkOutputs(outputs, force: force) }
        if let folder = objectsFolder {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw CommandFailure(status: .output, message: "\(folder): no such folder (for --objects)")
            }
        }
        let outcome = BatchOutcome(total: scenes.count)
        var pooled = SegmentationScore()
        var seconds = 0.0, scored = 0
        for (k, scene) in scenes.enumerated() {
            let clock = ContinuousClock.now
            do {
                let cloud = try PointCloud(contentsOf: scene)
                let truth = try truthField.map { field throws(CommandFailure) in
                    guard let truth = cloud.mosdTruth(field: field) else {
                        throw CommandFailure(status: .badInput, message: "\(scene): no scalar field '\(field)' to score against")
                    }
                    return truth
                }
                let segmentation: SceneSegmentation
                do { segmentation = try cloud.segmenting(options) } catch {
                    throw CommandFailure(status: .usage, message: "\(scene): \(error.description)")
                }
                if segmentation.objects.isEmpty {
                    console.warning("\(scene): no objects found (\(cloud.finiteCount) finite points, \(segmentation.supports.count) support planes)")
                }
                if let path = outputs?[k] {
                    try PointCloudFile.write(cloud, readFrom: scene, adding: [("object", .uint32(segmentation.object))], to: path, encoding: encoding)
                }
                let objectPaths = try writeObjects(cloud, segmentation, scene: scene)
                let elapsed = (ContinuousClock.now - clock).milliseconds / 1000
                if let truth {
                    let score = SegmentationScore(truth: truth.object, predicted: segmentation.object, valid: truth.valid)
                    pooled = pooled + score
                    seconds += elapsed
                    scored += 1
                    emit(Self.scoreRow(scene, score, seconds: elapsed))
                } else {
                    for object in segmentation.objects {
                        emit(Self.objectRow(scene, object, segmentation, output: objectPaths?[object.id - 1]))
                    }
                }
            } catch {
                guard let (status, message) = ExitStatus.report(error) else { throw error }
                progress.finish()
                console.error(message)
                outcome.failed(status)
            }
            progress.advance()
        }
        progress.finish()
        if truthField != nil && scored > 1 { emit(Self.scoreRow("all", pooled, seconds: seconds / Double(scored))) }
        return outcome.status
    }

    private func writeObjects(_ cloud: PointCloud, _ segmentation: SceneSegmentation, scene: String) throws -> [String]? {
        guard let folder = objectsFolder else { return nil }
        let stem = ((scene as NSString).lastPathComponent as NSString).deletingPathExtension
        let paths = segmentation.objects.map { (folder as NSString).appendingPathComponent("\(stem)-\($0.id).pcd") }
        try CommandFailure.checkOutputs(paths, force: force)
        for (path, object) in zip(paths, cloud.objects(of: segmentation)) { try object.write(to: path, encoding: encoding) }
        return paths
    }

    static func objectRow(_ scene: String, _ object: SegmentedObject, _ segmentation: SceneSegmentation, output: String?) -> Record {
        func vector(_ v: SIMD3<Float>) -> Value { .array([.float(v.x), .float(v.y), .float(v.z)]) }
        var r = Record()
        r["scene"] = .string(scene)
        r["object"] = .int(object.id)
        r["points"] = .int(object.points)
        r["centroid"] = vector(object.centroid)
        r["box_min"] = vector(object.boxMinimum)
        r["extent"] = vector(object.boxExtent)
        r["oriented_centre"] = vector(object.orientedCentre)
        r["oriented_axes"] = .array(object.orientedAxes.map(vector))
        r["oriented_extent"] = vector(object.orientedExtent)
        r["plane"] = object.support.map { .array(segmentation.supports[$0].coefficients.map(Value.float)) } ?? .null
        r["output"] = output.map(Value.string) ?? .null
        return r
    }

    static func scoreRow(_ scene: String, _ score: SegmentationScore, seconds: Double) -> Record {
        func figure(_ x: Double) -> Value { x.isFinite ? .double((x * 1000).rounded() / 1000) : .null }
        var r = Record()
        r["scene"] = .string(scene)
        r["objects"] = .int(score.objects)
        r["recalled"] = .int(score.recalled)
        r["segments"] = .int(score.segments)
        r["matched"] = .int(score.matchedSegments)
        r["recall"] = figure(score.recall)
        r["wov"] = figure(score.weightedOverlap)
        r["precision"] = figure(score.precision)
        r["seconds"] = .double((seconds * 1000).rounded() / 1000)
        return r
    }
}
