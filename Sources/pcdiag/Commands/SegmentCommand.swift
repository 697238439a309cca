import ArgumentParser
import Foundation
import Output
import Pipelines
import PointClouds

/// How a scene is cut into objects (see `SegmentationOptions`).
struct SegmentationOptionGroup: ParsableArguments {
    @Option(help: ArgumentHelp("The scene's up axis: x, y, z, -x, -y, -z or a vector a,b,c (default: the camera's side of the largest plane for a depth image, else the side most points are on).", valueName: "axis"))
    var up: UpAxis?
    @Option(name: .customLong("plane-distance"), help: "Points this close to a support plane belong to it, in the scene's units (default: 6 point spacings).")
    var planeDistance: Double?
    @Option(name: .customLong("cluster-distance"), help: "Neighbours closer than this are one object, in the scene's units (default: 5 point spacings).")
    var clusterDistance: Double?
    @Option(name: .customLong("min-points"), help: "Smaller clusters are noise, not objects.") var minPoints = 300
    @Option(name: .customLong("max-extent"), help: "Clusters larger than this along x, y or z are background, not objects (default: no limit).")
    var maxExtent: Double?
    @Flag(name: .customLong("keep-planes"), help: "Keep the support planes' points and cluster them too.") var keepPlanes = false
    @Flag(name: .customLong("no-grid"), help: "Treat an organized scene as unorganized (k-d tree instead of the image grid).") var noGrid = false
    @Flag(name: .customLong("single-view"), help: "An unorganized scene seen from one viewpoint at the origin (a depth image without its NaNs): cut concave folds as on the grid.")
    var singleView = false

    func validate() throws {
        for (name, value) in [("--plane-distance", planeDistance), ("--cluster-distance", clusterDistance), ("--max-extent", maxExtent)] {
            if let value, !(value > 0 && value.isFinite) { throw ValidationError("\(name) must be a positive number") }
        }
        guard minPoints >= 1 else { throw ValidationError("--min-points must be at least 1") }
    }

    var options: SegmentationOptions {
        SegmentationOptions(up: up?.vector, planeDistance: planeDistance, clusterDistance: clusterDistance, minPoints: minPoints,
                            maxExtent: maxExtent, keepPlanes: keepPlanes, useGrid: !noGrid, singleView: singleView)
    }
}

/// `--up -y` or `--up 0,-1,0.2`.
struct UpAxis: ExpressibleByArgument {
    var vector: SIMD3<Float>

    init?(argument: String) {
        let axes: [String: SIMD3<Float>] = ["x": [1, 0, 0], "y": [0, 1, 0], "z": [0, 0, 1], "-x": [-1, 0, 0], "-y": [0, -1, 0], "-z": [0, 0, -1]]
        if let axis = axes[argument.lowercased()] {
            vector = axis
            return
        }
        let parts = argument.split(separator: ",").compactMap { Float($0) }
        guard parts.count == 3, parts.allSatisfy(\.isFinite), parts.contains(where: { $0 != 0 }) else { return nil }
        vector = SIMD3(parts[0], parts[1], parts[2])
    }
}

struct SegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Cut scenes into objects: supporting planes out, the rest clustered.",
        discussion: """
            The largest plane (and any large plane parallel to it, like a floor under a table) is the \
            support; its points and those under it belong to no object. The rest is cut into clusters of \
            neighbouring points: along the image grid for an organized scene (PCL's organized multi-plane \
            and connected-component segmentations; no joining across a concave fold, pieces either side of \
            a nearer object joined), with RANSAC planes and Euclidean clusters on a k-d tree otherwise. Distances default to multiples of the scene's median point spacing, so the defaults \
            fit depth cameras and LiDAR alike. Prints a row per object (scene, object, points, centroid, \
            extent, oriented_extent, plane, and in JSON box_min, oriented_centre, oriented_axes, output). \
            -o writes the scene with every field kept plus a uint32 field 'object' (0: support, noise, \
            NaN; 1, 2, … the objects, largest first), same points, same order, organized layout kept; -o \
            is a file for one scene, an existing folder for several (NAME.segmented.EXT in it). --objects \
            DIR writes each object as DIR/SCENE-ID.pcd. --truth FIELD scores against an mOSD-style ground \
            truth instead (label/10 ≥ 2 names the object, 0 an invalid point): a row per scene and a pooled \
            row 'all' with recall, wov and precision (IoU ≥ 0.5), and seconds per scene.
            """)

    @Argument(help: "Scene files (.pcd, .ply).") var scenes: [String]
    @Option(name: .shortAndLong, help: "The scene with an 'object' field: a .pcd/.ply file (one scene) or a folder (several).") var output: String?
    @Option(help: "Also write each object as FOLDER/SCENE-ID.pcd.") var objects: String?
    @Option(help: "Score against this ground-truth field (mOSD labels) instead of listing objects.") var truth: String?
    @OptionGroup var segmentation: SegmentationOptionGroup

    @OptionGroup var out: CloudOutputOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        try out.validate(output)
    }

    func run() throws {
        let console = global.console
        var run = SceneSegmentationRun(options: segmentation.options)
        run.encoding = out.encoding
        run.force = out.force
        run.objectsFolder = objects
        run.truthField = truth
        let outputs = try output.map { try SceneSegmentationRun.outputPaths($0, for: scenes) }
        let printer = RecordPrinter(format: global.format, columns: truth == nil ? SceneSegmentationRun.objectColumns : SceneSegmentationRun.scoreColumns)
        let status = try run.run(scenes, outputs: outputs, console: console,
                                 progress: console.progress(total: scenes.count, label: "segment"), emit: printer.emit)
        printer.finish()
        if status != .ok { throw Exit(status) }
    }
}
