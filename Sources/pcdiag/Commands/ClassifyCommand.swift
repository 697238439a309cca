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
            """)

    @Argument(help: "Point cloud files (.pcd .ply .xyz .txt .csv .pts .npy .bin .off .obj .stl .las), folders, globs, @list files or CSV manifests (path,label).")
    var inputs: [String]
    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "How many of the most probable classes to list.") var top = 3
    @Flag(name: .customLong("no-preprocess"), help: "Feed the points as stored (no NaN removal, normalisation or resampling).") var noPreprocess = false
    @Option(name: .customLong("batch-size"), help: "Clouds per forward pass.") var batchSize = 16
    @Flag(name: .customLong("no-diagnostics"), help: "Class and probabilities only: no saliency, indicators or fragility (faster).") var noDiagnostics = false

    @OptionGroup var reading: ReadingOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
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
        let runner = try modelOptions.runner(for: model, plan: plan, console: console)
        let items = try InputItem.expand(inputs, reading: reading.options)
        let sink = RowSink(printing: global.format, columns: noDiagnostics ? ObjectRow.predictionColumns : ObjectRow.columns,
                           single: items.count == 1, details: true)
        let run = try runner.run(items, into: sink, progress: console.progress(total: items.count, label: "classify"))
        modelOptions.reportFloorless(run, of: items.count, console: console)
        if run.status != .ok { throw Exit(run.status) }
    }
}
