import ArgumentParser
import Output
import Pipelines

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify point clouds with a trained model.",
        discussion: """
            Each input is prepared as the model was trained (the preprocessing stored in the model file, \
            after --outliers, --voxel, --up-axis and --remove-floor when given) unless --no-preprocess is \
            given, then classified in inference mode and diagnosed: the saliency map's skewness and the \
            other indicators (see pcdiag batch --help), and, when the model is calibrated (pcdiag \
            calibrate), the fragility score, whether the prediction is fragile and why. A CSV manifest \
            (path,label) as input adds each file's true class (label, correct). With --format json: one \
            object for a single file (path, points, class, probability, label, correct, every indicator, \
            fragility, fragile, reasons, time_ms, top, logits), an array for several.

            --scene: each input is a whole scene (a depth image, a LiDAR sweep); it is cut into objects \
            as pcdiag segment does (the segmentation options below), each object turned so that the plane \
            it stands on faces the model's up axis, then prepared, classified and diagnosed: a row per \
            object with object (its id in the scene), centroid, box_min and extent (its axis-aligned box, \
            in the scene's units). --scene-output writes the scene with fields object, scalar_class \
            (class index, -1 for none), scalar_probability and scalar_fragility for a viewer. Without \
            --scene, an input that looks like a whole scene (a depth image's grid, 100,000 points or \
            more) is classified as one object, with a warning.
            """)

    @Argument(help: "Point cloud files (.pcd .ply .xyz .txt .csv .pts .npy .bin .off .obj .stl .las), folders, globs, @list files or CSV manifests (path,label).")
    var inputs: [String]
    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "How many of the most probable classes to list.") var top = 3
    @Flag(name: .customLong("no-preprocess"), help: "Feed the points as stored (no NaN removal, normalisation or resampling).") var noPreprocess = false
    @Option(name: .customLong("batch-size"), help: "Clouds per forward pass.") var batchSize = 16
    @Flag(name: .customLong("no-diagnostics"), help: "Class and probabilities only: no saliency, indicators or fragility (faster).") var noDiagnostics = false
    @OptionGroup(title: "Scenes") var scene: SceneOptions
    @Flag(help: "Overwrite an existing --scene-output.") var force = false

    @OptionGroup var reading: ReadingOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        try scene.validate(raw: noPreprocess)
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        let console = global.console
        let model = try modelOptions.load()
        var plan = BatchPlan()
        plan.reading = reading.options
        plan.batchSize = batchSize
        plan.raw = noPreprocess
        plan.diagnose = !noDiagnostics
        plan.top = top
        let items = try InputItem.expand(inputs, reading: reading.options)
        try scene.plan(&plan, for: items, force: force)
        let runner = try modelOptions.runner(for: model, plan: plan, console: console)
        let columns = scene.scene ? ObjectRow.sceneColumns(diagnose: !noDiagnostics) : noDiagnostics ? ObjectRow.predictionColumns : ObjectRow.columns
        let sink = RowSink(printing: global.format, columns: columns, single: items.count == 1 && !scene.scene, details: true)
        let run = try runner.run(items, into: sink, progress: console.progress(total: items.count, label: "classify"))
        for line in run.notices(of: items.count) { console.warning(line) }
        if run.status != .ok { throw Exit(run.status) }
    }
}
