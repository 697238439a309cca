import Diagnostics
import Dispatch
import Foundation
import Networks
import Output
import PointClouds
import Report
import Support

/// How `classify` and `batch` go through their inputs.
public struct BatchPlan: Sendable {
    /// Threads reading and preparing files ahead of the network.
    public var jobs = Parallelism.workers
    /// Clouds per network pass.
    public var batchSize = 16
    /// Feed the points as stored (no preprocessing).
    public var raw = false
    /// How files are read (`--input-format`, `--bin-fields`, `--mesh`).
    public var reading = CloudReadOptions()
    /// Saliency, indicators and fragility; false: class and probabilities only.
    public var diagnose = true
    /// Flagged objects kept with a render, for the report (the most fragile).
    public var renders = 0
    /// Classes listed in `ObjectRow.top`.
    public var top = 3
    /// Each input is a scene: cut it into objects (`segment`) and examine each; nil: each input is one object.
    public var scene: SegmentationOptions?
    /// With `scene`: where each scene is written with its objects' answers (`SceneOutputs`), by input path.
    public var sceneOutputs = [String: String]()

    public init() {}
}

/// What a run of `BatchRunner` gives besides its rows.
public struct BatchRun: Sendable {
    /// Every row of the output, those resumed from the file included.
    public var summary: BatchSummary
    /// The most fragile flagged objects with their renders, most fragile first.
    public var flagged: [FlaggedObject]
    /// With `--scene` and renders asked for: the first scenes, drawn.
    public var scenes: [SceneCard]
    /// Inputs whose floor step found no floor (all their points kept).
    public var floorless: Int
    /// Inputs that look like whole scenes, read as single objects, and why (see `PointCloud.sceneHint`).
    public var sceneLike: [(path: String, hint: String)]
    /// From the failures: 0, the one input's own status, or 5 when some of several failed.
    public var status: ExitStatus
}

extension BatchRun {
    /// What the run's user should hear besides the rows: a floor step that found nothing, inputs
    /// that look like whole scenes (the first three named). `total`: the inputs run.
    public func notices(of total: Int) -> [String] {
        var lines = [String]()
        if floorless > 0 { lines.append("floor removal found no floor in \(floorless) of \(total) inputs; their points were all kept") }
        for (path, hint) in sceneLike.prefix(3) {
            lines.append("\(path): looks like a whole scene (\(hint)), classified as one object; --scene cuts it into objects first")
        }
        if sceneLike.count > 3 { lines.append("\(sceneLike.count - 3) more inputs look like whole scenes") }
        return lines
    }
}

/// Classifies and diagnoses files a batch at a time, reading the next batch on `plan.jobs` threads
/// while the network works on this one, so memory stays flat however many files there are. Each
/// row goes to the sink as soon as its batch is done; an unreadable file is reported in one line
/// and counted, and the others go on.
public struct BatchRunner {
    public let model: Model
    /// Nil with `plan.diagnose` off.
    public let diagnostician: Diagnostician?
    public let plan: BatchPlan
    public let console: Console

    public init(model: Model, plan: BatchPlan, console: Console) throws(DiagnosticsError) {
        self.model = model
        var plan = plan
        plan.batchSize = max(1, plan.batchSize)
        plan.jobs = max(1, plan.jobs)
        self.plan = plan
        self.console = console
        if plan.diagnose {
            var d = try Diagnostician(model: model)
            d.options.batchSize = plan.batchSize
            diagnostician = d
        } else {
            diagnostician = nil
        }
    }

    /// Runs over `items`, adding each row to `summary` (which may hold the rows of an earlier,
    /// interrupted run) and emitting it to `sink`; a scene's rows are emitted together.
    public func run(_ items: [InputItem], into sink: RowSink, summary: BatchSummary = BatchSummary(),
                    progress: ProgressMeter = .none()) throws -> BatchRun {
        var summary = summary
        var showcase = FlaggedShowcase(capacity: plan.renders)
        let outcome = BatchOutcome(total: items.count)
        var floorless = 0, sceneLike = [(path: String, hint: String)](), scenes = [SceneCard]()
        let classes = model.metadata.classes
        // A scene holds many objects: read and cut as many scenes at once as there are jobs.
        let group = plan.scene == nil ? plan.batchSize : plan.jobs
        let batches = stride(from: 0, to: items.count, by: group).map { Array(items[$0 ..< min($0 + group, items.count)]) }
        var pending = batches.first.map(prefetch)
        for next in batches.indices {
            let loaded = pending!.wait()
            pending = next + 1 < batches.count ? prefetch(batches[next + 1]) : nil
            var ready = [PreparedItem]()
            for result in loaded {
                switch result {
                case .success(let prepared):
                    ready.append(prepared)
                    for (id, reason) in prepared.skipped { console.warning("\(prepared.item.path): object \(id) skipped: \(reason)") }
                    if prepared.scene?.segmentation.objects.isEmpty == true { console.warning("\(prepared.item.path): no objects found in the scene") }
                case .failure(let error):
                    progress.finish()
                    console.error(error.description)
                    summary.failed += 1
                    outcome.failed(ExitStatus.status(for: error))
                }
            }
            let inputs = ready.flatMap(\.objects)
            floorless += inputs.filter(\.floorless).count
            sceneLike += inputs.compactMap { input in input.sceneHint.map { (input.item.path, $0) } }
            let clock = ContinuousClock.now
            var results = examine(inputs.map(\.cloud))[...]
            let share = (ContinuousClock.now - clock).milliseconds / Double(max(inputs.count, 1))
            for prepared in ready {
                var rows = [ObjectRow]()
                for (input, result) in zip(prepared.objects, results.prefix(prepared.objects.count)) {
                    let row = ObjectRow(path: input.item.path, placement: input.object.map(ObjectRow.Placement.init), points: input.points,
                                        prediction: result.prediction, diagnosis: result.diagnosis, assessment: result.assessment,
                                        classes: classes, label: input.item.label, milliseconds: input.milliseconds + share, top: plan.top)
                    rows.append(row)
                    if row.fragile == true, let fragility = row.fragility, showcase.admits(fragility), let diagnosis = result.diagnosis {
                        let object = row.placement.map { " #\($0.id)" } ?? ""
                        let render = ViewRender(points: input.cloud.positions, values: diagnosis.map.values,
                                                title: "\(row.predicted)\(object) — fragility \(String(format: "%.2f", fragility))")
                        showcase.add(FlaggedObject(path: row.path + object, predictedClass: row.predicted, probability: Double(row.probability),
                                                   fragility: fragility, reasons: row.reasons, trueClass: row.label, renderSVG: render.svg()))
                    }
                }
                results = results.dropFirst(prepared.objects.count)
                for row in rows { summary.add(row) }
                try sink.emit(rows)
                if let cut = prepared.scene, scenes.count < plan.renders {
                    scenes.append(SceneCard(path: prepared.item.path, objects: rows.count, fragile: rows.filter { $0.fragile == true }.count,
                                            renderSVG: cut.render(rows: rows, classes: classes).svg()))
                }
                if let cut = prepared.scene, let path = plan.sceneOutputs[prepared.item.path] {
                    do throws(PointCloudError) {
                        try SceneOutputs.write(cut, source: prepared.item.path, rows: rows, classes: classes, to: path)
                    } catch {
                        progress.finish()
                        console.error(error.description)
                        outcome.failed(ExitStatus.status(for: error))
                    }
                }
            }
            progress.advance(by: loaded.count)
        }
        progress.finish()
        sink.finish()
        return BatchRun(summary: summary, flagged: showcase.objects, scenes: scenes, floorless: floorless, sceneLike: sceneLike, status: outcome.status)
    }

    private func examine(_ clouds: [PointCloud]) -> [(prediction: Prediction, diagnosis: Diagnosis?, assessment: Assessment?)] {
        guard !clouds.isEmpty else { return [] }
        if let diagnostician {
            return diagnostician.examine(clouds).map { ($0.diagnosis.prediction, $0.diagnosis, $0.assessment) }
        }
        return model.predict(clouds, batchSize: plan.batchSize).map { ($0, nil, nil) }
    }

    /// Reads and prepares `items` (or cuts and prepares scenes) on `plan.jobs` threads in the background.
    private func prefetch(_ items: [InputItem]) -> Prefetch {
        let box = Prefetch()
        let metadata = model.metadata, raw = plan.raw, jobs = plan.jobs, reading = plan.reading, scene = plan.scene
        box.group.enter()
        DispatchQueue.global().async {
            box.results = parallelResults(items.count, workers: jobs) { i throws(PointCloudError) in
                if let scene { return try metadata.prepareScene(items[i], options: scene, reading: reading) }
                let input = try metadata.prepareInput(items[i], raw: raw, reading: reading)
                return PreparedItem(item: items[i], objects: [input], scene: nil, skipped: [])
            }
            box.group.leave()
        }
        return box
    }
}

/// Files read ahead: filled in the background, waited for once.
private final class Prefetch: @unchecked Sendable {
    let group = DispatchGroup()
    /// Written once, before the group is left; read after waiting for it.
    var results = [Result<PreparedItem, PointCloudError>]()

    func wait() -> [Result<PreparedItem, PointCloudError>] {
        group.wait()
        return results
    }
}

extension RowSink {
    /// Opens `path` for a batch run: without `force`, the rows already there are read back into a
    /// summary and their paths returned, to be skipped; a row cut off by an interrupted write is
    /// dropped (and said so). With `force`, or when the file is new, it starts empty.
    public static func resuming(_ path: String, force: Bool, console: Console) throws -> (sink: RowSink, summary: BatchSummary, done: Set<String>) {
        var summary = BatchSummary()
        var done = Set<String>()
        var keep: UInt64 = 0
        if !force && FileManager.default.fileExists(atPath: path) {
            // A scene's rows are written together: a scene with rows is done.
            var seen = Set<ObjectRow.Identity>()
            let reading = try RowFile(path).read { row in
                if seen.insert(row.identity).inserted {
                    done.insert(row.path)
                    summary.add(row)
                }
            }
            keep = reading.completeLength
            if reading.tornTail > 0 { console.warning("\(path): dropped a cut-off last row (\(reading.tornTail) bytes) left by an interrupted run") }
            if !seen.isEmpty { console.info("resuming \(path): \(seen.count) rows already there") }
        }
        return (try RowSink(appendingTo: path, keep: keep), summary, done)
    }
}
