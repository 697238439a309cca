import ArgumentParser
import Foundation
import Output
import Pipelines

struct SaliencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "saliency",
        abstract: "Per-point saliency maps: which points the prediction hangs on.",
        discussion: """
            Each input is prepared as the model was trained (unless --no-preprocess) and explained with \
            the point saliency of Zheng et al. (ICCV 2019): with c the per-axis median of the cloud and L \
            the cross-entropy at the predicted class (or --label), point i gets s = -r^alpha * grad L . \
            (x - c), r = |x - c|; positive means moving the point toward the centre would raise the \
            loss. One forward and one backward pass per cloud, the network in inference mode.

            Prints per file: class, probability, the class explained, the map's skewness over distinct points, as classify reports it (high: the \
            prediction rests on a few points) and kurtosis. With -o the points as the network saw them \
            are written with a float field 'scalar_saliency' (CloudCompare and pcl_viewer colour by it) \
            and RGB by signed rank (red positive, darker = higher; blue negative; grey exactly 0). -o is a .ply/.pcd file for one input, an existing folder for several \
            (NAME.saliency.ply in it). --render draws the map as three orthographic views (from above, \
            the front and the side), as .svg or .png, for one input.
            """)

    @Argument(help: "Point cloud files (.pcd .ply .xyz .txt .csv .pts .npy .bin .off .obj .stl .las), folders, globs or @list files.") var inputs: [String]
    @Option(name: .shortAndLong, help: "Output cloud (one input) or folder (several).") var output: String?
    @Option(help: "Also draw the map as three orthographic views: a .svg or .png file (one input).") var render: String?
    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Exponent of the radius in the saliency (1: the reference; the original code used 6 for DGCNN).") var alpha = 1.0
    @Option(help: "Explain this class instead of the predicted one (a class name of the model).") var label: String?
    @Flag(name: .customLong("no-preprocess"), help: "Feed the points as stored (no NaN removal, normalisation or resampling).") var noPreprocess = false
    @Option(name: .customLong("batch-size"), help: "Clouds per forward/backward pass.") var batchSize = 16

    @OptionGroup var out: CloudOutputOptions
    @OptionGroup var reading: ReadingOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        try out.validate(output)
        guard alpha.isFinite, alpha >= 0 else { throw ValidationError("--alpha must be a finite number ≥ 0") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        if let render, !["svg", "png"].contains((render as NSString).pathExtension.lowercased()) {
            throw ValidationError("--render \(render): the drawing is written as .svg or .png")
        }
    }

    func run() throws {
        let console = global.console
        var export = SaliencyExport(model: try modelOptions.load())
        export.reading = reading.options
        let classes = export.model.metadata.classes
        if let label {
            guard let index = classes.firstIndex(of: label) else {
                throw CommandFailure(status: .usage, message: "--label \(label): not a class of the model (\(classes.joined(separator: ", ")))")
            }
            export.label = index
        }
        export.alpha = alpha
        export.raw = noPreprocess
        export.batchSize = batchSize
        export.encoding = out.encoding
        export.force = out.force
        let items = try InputItem.expand(inputs, reading: reading.options)
        let outputs = try output.map { try SaliencyExport.outputPaths($0, for: items.map(\.path)) }
        if let render {
            guard items.count == 1 else { throw CommandFailure(status: .usage, message: "--render \(render): draws one input's map, not \(items.count)") }
            try CommandFailure.checkOutputs([render], force: out.force)
        }
        let printer = RecordPrinter(format: global.format, columns: SaliencyExport.columns, single: items.count == 1)
        let status = try export.run(items, outputs: outputs, render: render, console: console,
                                    progress: console.progress(total: items.count, label: "saliency"), emit: printer.emit)
        printer.finish()
        if status != .ok { throw Exit(status) }
    }
}
