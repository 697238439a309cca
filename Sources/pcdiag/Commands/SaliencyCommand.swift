import ArgumentParser
import Diagnostics
import Foundation
import Output
import Report
import Networks
import PointClouds

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

            Prints per file: class, probability, the class explained, the map's skewness (high: the \
            prediction rests on a few points) and kurtosis. With -o the points as the network saw them \
            are written with a float field 'scalar_saliency' (CloudCompare and pcl_viewer colour by it) \
            and RGB from the cubehelix colormap (dark = low, bright = high; clipped at the 2nd and 98th \
            percentiles). -o is a .ply/.pcd file for one input, an existing folder for several \
            (NAME.saliency.ply in it). --render draws the map as three orthographic views (from above, \
            the front and the side), as .svg or .png, for one input.
            """)

    @Argument(help: "Point cloud files (.pcd, .ply), folders, globs or @list files.")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Output cloud (one input) or folder (several).")
    var output: String?

    @Option(help: "Also draw the map as three orthographic views: a .svg or .png file (one input).")
    var render: String?

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Exponent of the radius in the saliency (1: the reference; the original code used 6 for DGCNN).")
    var alpha = 1.0

    @Option(help: "Explain this class instead of the predicted one (a class name of the model).")
    var label: String?

    @Flag(name: .customLong("no-preprocess"), help: "Feed the points as stored (no NaN removal, normalisation or resampling).")
    var noPreprocess = false

    @Option(name: .customLong("batch-size"), help: "Clouds per forward/backward pass.")
    var batchSize = 16

    @Option(help: "Output format: table, json, jsonl or csv.")
    var format: OutputFormat = .table

    @OptionGroup var out: CloudOutputOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard alpha.isFinite, alpha >= 0 else { throw ValidationError("--alpha must be a finite number ≥ 0") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        if let render, !["svg", "png"].contains((render as NSString).pathExtension.lowercased()) {
            throw ValidationError("--render \(render): the drawing is written as .svg or .png")
        }
    }

    func run() throws {
        let console = global.console
        let model = try modelOptions.load()
        let classes = model.metadata.classes
        var explained: Int?
        if let label {
            guard let index = classes.firstIndex(of: label) else {
                throw CommandFailure(status: .usage, message: "--label \(label): not a class of the model (\(classes.joined(separator: ", ")))")
            }
            explained = index
        }
        let paths = try CloudPaths.expand(inputs)
        let outputs = try outputPaths(for: paths)
        if let render {
            guard paths.count == 1 else { throw CommandFailure(status: .usage, message: "--render \(render): draws one input's map, not \(paths.count)") }
            try CommandFailure.checkOutputs([render], force: out.force)
        }
        let printer = RecordPrinter(format: format, columns: [
            .init(key: "path", title: "FILE"), .init(key: "class", title: "CLASS"), .init(key: "probability", title: "PROB"),
            .init(key: "explained", title: "EXPLAINED"), .init(key: "skewness", title: "SKEWNESS"),
            .init(key: "kurtosis", title: "KURTOSIS"), .init(key: "output", title: "OUTPUT"),
        ], single: paths.count == 1)
        let outcome = BatchOutcome(total: paths.count)
        let progress = console.progress(total: paths.count, label: "saliency")
        for start in stride(from: 0, to: paths.count, by: batchSize) {
            let chunk = Array(paths.indices[start ..< min(start + batchSize, paths.count)])
            var ready = [(index: Int, cloud: PointCloud)]()
            for i in chunk {
                if let (cloud, _) = ClassifyCommand.read(paths[i], for: model, raw: noPreprocess, console: console, progress: progress, outcome: outcome) {
                    ready.append((i, cloud))
                }
            }
            let maps = model.saliency(ready.map(\.cloud), labels: explained.map { l in ready.map { _ in l } }, alpha: alpha, batchSize: batchSize)
            for (item, map) in zip(ready, maps) {
                var r = Record()
                r["path"] = .string(paths[item.index])
                r["points"] = .int(item.cloud.count)
                r["class"] = .string(classes[map.prediction.label])
                r["probability"] = .float(map.prediction.probabilities[map.prediction.label])
                r["explained"] = .string(classes[map.label])
                r["skewness"] = .double(map.skewness)
                r["kurtosis"] = .double(map.kurtosis)
                if let path = outputs?[item.index] {
                    var cloud = item.cloud
                    cloud.setField("scalar_saliency", values: map.values)
                    cloud.colors = Colormap.colors(for: map.values)
                    cloud.colorHasAlpha = false
                    do {
                        try out.write(cloud, to: path)
                        r["output"] = .string(path)
                    } catch let failure as CommandFailure {
                        progress.finish()
                        console.error(failure.message)
                        outcome.failed(failure.status)
                        continue
                    }
                }
                if let render {
                    let title = "\((paths[item.index] as NSString).lastPathComponent): \(classes[map.prediction.label]) "
                        + String(format: "%.3f, saliency of %@ (skewness %.2f)", map.prediction.probabilities[map.prediction.label], classes[map.label], map.skewness)
                    let drawing = ViewRender(points: item.cloud.positions, values: map.values, title: title)
                    let bytes = render.lowercased().hasSuffix(".svg") ? Array(drawing.svg().utf8) : drawing.png()
                    do {
                        try Data(bytes).write(to: URL(fileURLWithPath: render), options: .atomic)
                        r["render"] = .string(render)
                    } catch {
                        throw CommandFailure(status: .output, message: "\(render): cannot write (\(error.localizedDescription))")
                    }
                }
                printer.emit(r)
            }
            progress.advance(by: chunk.count)
        }
        progress.finish()
        printer.finish()
        try outcome.conclude()
    }

    /// Where each input's map goes: the -o file for one input, NAME.saliency.ply in the -o folder for
    /// several; nil without -o.
    func outputPaths(for paths: [String]) throws -> [String]? {
        guard let output else { return nil }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory)
        if exists && isDirectory.boolValue {
            return paths.map { path in
                let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
                return (output as NSString).appendingPathComponent("\(stem).saliency.ply")
            }
        }
        guard paths.count == 1 else {
            throw CommandFailure(status: .usage, message: "-o \(output): several inputs need an existing folder to write their maps into")
        }
        return [output]
    }
}
