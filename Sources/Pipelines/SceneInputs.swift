import Foundation
import Networks
import Output
import PointClouds
import Report

/// One input of `classify` or `batch` as read and prepared: a single object, or, with `--scene`, the
/// objects cut from a scene.
public struct PreparedItem: Sendable {
    public var item: InputItem
    public var objects: [PreparedInput]
    /// With `--scene`: the scene as read and how it was cut (for `--scene-output`).
    public var scene: SceneCut?
    /// Objects of the scene that could not be prepared (too few points left): id and reason.
    public var skipped: [(id: Int, reason: String)]
}

/// A scene as read and the objects found in it.
public struct SceneCut: Sendable {
    public var cloud: PointCloud
    public var segmentation: SceneSegmentation
}

extension ModelMetadata {
    /// Reads the scene `item`, cuts it into objects (`options`) and prepares each as the model was
    /// trained, after turning it so that the plane it stands on faces the model's up axis (+z); the
    /// model's own up-axis and floor steps are left out (the support is already gone and turned).
    /// An object's time is its own preparation plus an equal share of reading and cutting the scene.
    public func prepareScene(_ item: InputItem, options: SegmentationOptions, reading: CloudReadOptions = CloudReadOptions())
        throws(PointCloudError) -> PreparedItem {
        let clock = ContinuousClock.now
        let path = item.path
        let cloud = try PointCloud(contentsOf: path, options: reading)
        let segmentation: SceneSegmentation
        do throws(PointCloudError) { segmentation = try cloud.segmenting(options) } catch {
            throw .invalid(path: path, reason: error.description)
        }
        let shared = (ContinuousClock.now - clock).milliseconds / Double(max(segmentation.objects.count, 1))
        var steps = preprocessing
        steps.steps.removeAll {
            switch $0 {
            case .upAxis, .removeFloor: true
            default: false
            }
        }
        var prepared = [PreparedInput](), skipped = [(id: Int, reason: String)]()
        for (object, points) in zip(segmentation.objects, cloud.objects(of: segmentation)) {
            let start = ContinuousClock.now
            let upright = object.support.map { points.turned(segmentation.supports[$0].upright) } ?? points
            do throws(PointCloudError) {
                let ready = try steps.apply(to: upright, path: path).cloud
                guard ready.count >= architecture.minimumPoints else {
                    throw PointCloudError.invalid(path: path, reason: "\(ready.count) points; \(architecture.name) needs at least \(architecture.minimumPoints)")
                }
                prepared.append(PreparedInput(item: item, cloud: ready, points: object.points, floorless: false,
                                              milliseconds: shared + (ContinuousClock.now - start).milliseconds, object: object))
            } catch {
                skipped.append((object.id, error.reason))
            }
        }
        return PreparedItem(item: item, objects: prepared, scene: SceneCut(cloud: cloud, segmentation: segmentation), skipped: skipped)
    }
}

/// Where `--scene-output` writes each scene: `output` itself for one scene, NAME.objects.EXT (the
/// output's extension, .ply by default) in `output` when it is an existing folder.
public enum SceneOutputs {
    public static func paths(_ output: String, for scenes: [String]) throws -> [String: String] {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory) && isDirectory.boolValue {
            return Dictionary(scenes.map { path in
                let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
                return (path, (output as NSString).appendingPathComponent("\(name).objects.ply"))
            }, uniquingKeysWith: { first, _ in first })
        }
        guard scenes.count == 1 else {
            throw CommandFailure(status: .usage, message: "--scene-output \(output): several scenes need an existing folder to write into")
        }
        guard let format = PointCloudFormat(path: output), format == .pcd || format == .ply else {
            throw CommandFailure(status: .usage, message: "--scene-output \(output): a scene is written as .ply or .pcd")
        }
        return [scenes[0]: output]
    }

    /// Writes `cut`'s scene with its objects' answers: `object` (uint32, 0 for none), `scalar_class`
    /// (int32 class index, −1 for none), `scalar_probability` and `scalar_fragility` (float; NaN for
    /// none, and fragility NaN without a calibration).
    static func write(_ cut: SceneCut, source: String, rows: [ObjectRow], classes: [String], to path: String) throws(PointCloudError) {
        var answers = [Int: ObjectRow]()
        for row in rows { if let id = row.placement?.id { answers[id] = row } }
        let labels = cut.segmentation.object
        let answer = labels.map { answers[Int($0)] }
        let classIndex = answer.map { row in row.flatMap { classes.firstIndex(of: $0.predicted) }.map(Int32.init) ?? -1 }
        try PointCloudFile.write(cut.cloud, readFrom: source, adding: [
            ("object", .uint32(labels)),
            ("scalar_class", .int32(classIndex)),
            ("scalar_probability", .float(answer.map { $0?.probability ?? .nan })),
            ("scalar_fragility", .float(answer.map { $0?.fragility.map(Float.init) ?? .nan })),
        ], to: path)
    }
}

extension SceneCut {
    /// Points drawn per scene: enough to see the objects, few enough for a report of many scenes.
    static let renderedPoints = 3000

    /// The scene turned so that its main support faces up, its objects coloured by predicted class
    /// (support and background light grey), each object's id at its centre, in red when fragile.
    func render(rows: [ObjectRow], classes: [String]) -> ViewRender {
        let turn = segmentation.supports.first.map { $0.upright } ?? { $0 }
        var answers = [Int: ObjectRow]()
        for row in rows { if let id = row.placement?.id { answers[id] = row } }
        // Two thirds of the points drawn go to the objects, the rest to their surroundings.
        let finite = cloud.positions.indices.filter { i in (0 ..< 3).allSatisfy { cloud.positions[i][$0].isFinite } }
        let (inside, outside) = (finite.filter { segmentation.object[$0] != 0 }, finite.filter { segmentation.object[$0] == 0 })
        func every(_ indices: [Int], _ budget: Int) -> [Int] {
            stride(from: 0, to: indices.count, by: max(1, indices.count / budget)).map { indices[$0] }
        }
        let shown = every(outside, Self.renderedPoints / 3) + every(inside, 2 * Self.renderedPoints / 3)
        let palette = Self.palette
        func color(_ name: String) -> PointCloud.Color { palette[(classes.firstIndex(of: name) ?? 0) % palette.count] }
        var render = ViewRender(points: shown.map { turn(cloud.positions[$0]) },
                                values: shown.map { answers[Int(segmentation.object[$0])] == nil ? 0 : 1 },
                                title: "\(rows.count) objects, \(rows.filter { $0.fragile == true }.count) fragile")
        render.colors = shown.map { i in answers[Int(segmentation.object[i])].map { color($0.predicted) } ?? Colormap.zero }
        let present = Set(rows.map(\.predicted))
        render.legend = ViewRender.Legend.swatches(classes.filter(present.contains).map { (name: $0, color: color($0)) })
        render.annotations = rows.compactMap { row in
            row.placement.map { ViewRender.Annotation(at: turn($0.centroid), text: "#\($0.id)" + (row.fragile == true ? "!" : ""),
                                                      color: row.fragile == true ? Self.fragileInk : Self.ink) }
        }
        return render
    }

    /// Tableau's ten categorical colours, one per class (in the model's class order, cycling).
    static let palette: [PointCloud.Color] = [
        .init(r: 78, g: 121, b: 167), .init(r: 242, g: 142, b: 43), .init(r: 89, g: 161, b: 79), .init(r: 225, g: 87, b: 89),
        .init(r: 118, g: 183, b: 178), .init(r: 237, g: 201, b: 72), .init(r: 176, g: 122, b: 161), .init(r: 255, g: 157, b: 167),
        .init(r: 156, g: 117, b: 95), .init(r: 186, g: 176, b: 172),
    ]
    static let ink = PointCloud.Color(r: 34, g: 34, b: 34), fragileInk = PointCloud.Color(r: 200, g: 0, b: 0)
}

extension ObjectRow.Placement {
    public init(_ object: SegmentedObject) {
        self.init(id: object.id, centroid: object.centroid, boxMinimum: object.boxMinimum, extent: object.boxExtent)
    }
}

extension PointCloudError {
    /// What went wrong, without the file's name.
    var reason: String {
        switch self {
        case .unreadable(_, let reason), .invalid(_, let reason), .unwritable(_, let reason): reason
        case .invalidArgument(let reason), .bridgeUnavailable(let reason): reason
        }
    }
}
