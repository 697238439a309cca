import Diagnostics
import Foundation
import Networks
import Output
import PointClouds
import Report

/// `saliency`: each input's map, its statistics, and optionally the map as a cloud and as a drawing.
public struct SaliencyExport {
    public var model: Model
    /// The exponent α of DESIGN §3.
    public var alpha = 1.0
    /// The class to explain (nil: the predicted one).
    public var label: Int?
    public var raw = false
    public var reading = CloudReadOptions()
    public var batchSize = 16
    public var encoding = PointCloudEncoding.binary
    public var force = false

    public init(model: Model) { self.model = model }

    /// Where each input's map goes: `output` itself for one input, NAME.saliency.ply in `output` when
    /// it is an existing folder.
    public static func outputPaths(_ output: String, for paths: [String]) throws -> [String] {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory) && isDirectory.boolValue {
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

    /// Table columns of the rows.
    public static let columns: [RecordPrinter.Column] = [
        .init(key: "path", title: "FILE"), .init(key: "class", title: "CLASS"), .init(key: "probability", title: "PROB"),
        .init(key: "explained", title: "EXPLAINED"), .init(key: "skewness", title: "SKEWNESS"),
        .init(key: "kurtosis", title: "KURTOSIS"), .init(key: "output", title: "OUTPUT"),
    ]

    /// Explains `items`, a batch at a time, and emits a row for each. `outputs[i]`: where item i's map
    /// goes as a cloud (field `scalar_saliency`, RGB from the colormap); `render`: a drawing of the one
    /// input's map (.svg or .png). A file that fails is reported and counted; the others go on.
    public func run(_ items: [InputItem], outputs: [String]?, render: String?, console: Console,
                    progress: ProgressMeter = .none(), emit: (Record) -> Void) throws -> ExitStatus {
        let outcome = BatchOutcome(total: items.count)
        let classes = model.metadata.classes
        for start in stride(from: 0, to: items.count, by: batchSize) {
            let chunk = Array(items.indices[start ..< min(start + batchSize, items.count)])
            var ready = [(index: Int, input: PreparedInput)]()
            for i in chunk {
                do {
                    ready.append((i, try model.metadata.prepareInput(items[i], raw: raw, reading: reading)))
                } catch {
                    progress.finish()
                    console.error(error.description)
                    outcome.failed(ExitStatus.status(for: error))
                }
            }
            let maps = model.saliency(ready.map(\.input.cloud), labels: label.map { l in ready.map { _ in l } }, alpha: alpha, batchSize: batchSize)
            for (item, map) in zip(ready, maps) {
                let cloud = item.input.cloud
                // Over distinct points, as `classify` reports them (see `Indicators`).
                let statistics = Indicators(map: map, points: cloud.positions)
                var r = Record()
                r["path"] = .string(item.input.item.path)
                r["points"] = .int(cloud.count)
                r["class"] = .string(classes[map.prediction.label])
                r["probability"] = .float(map.prediction.probabilities[map.prediction.label])
                r["explained"] = .string(classes[map.label])
                r["skewness"] = .double(statistics.skewness)
                r["kurtosis"] = .double(statistics.kurtosis)
                r["output"] = .null
                do {
                    if let path = outputs?[item.index] {
                        var colored = cloud
                        colored.setField("scalar_saliency", values: map.values)
                        colored.colors = Colormap.colors(for: map.values)
                        colored.colorHasAlpha = false
                        try CommandFailure.checkOutputs([path], force: force)
                        try colored.write(to: path, encoding: encoding)
                        r["output"] = .string(path)
                    }
                    if let render {
                        let name = (item.input.item.path as NSString).lastPathComponent
                        let title = "\(name): \(classes[map.prediction.label]) "
                            + String(format: "%.3f, saliency of %@ (skewness %.2f)", map.prediction.probabilities[map.prediction.label],
                                     classes[map.label], statistics.skewness)
                        let drawing = ViewRender(points: cloud.positions, values: map.values, title: title)
                        let bytes = render.lowercased().hasSuffix(".svg") ? Array(drawing.svg().utf8) : drawing.png()
                        do {
                            try Data(bytes).write(to: URL(fileURLWithPath: render), options: .atomic)
                        } catch {
                            throw CommandFailure(status: .output, message: "\(render): cannot be written (\(error.localizedDescription))")
                        }
                        r["render"] = .string(render)
                        if r["output"] == .null { r["output"] = .string(render) }
                    }
                } catch let failure as CommandFailure {
                    progress.finish()
                    console.error(failure.message)
                    outcome.failed(failure.status)
                    continue
                } catch let error as PointCloudError {
                    progress.finish()
                    console.error(error.description)
                    outcome.failed(ExitStatus.status(for: error))
                    continue
                }
                emit(r)
            }
            progress.advance(by: chunk.count)
        }
        progress.finish()
        return outcome.status
    }
}
