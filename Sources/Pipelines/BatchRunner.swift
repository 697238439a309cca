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

    public init() {}
}

/// What a run of `BatchRunner` gives besides its rows.
public struct BatchRun: Sendable {
    /// Every row of the output, those resumed from the file included.
    public var summary: BatchSummary
    /// The most fragile flagged objects with their renders, most fragile first.
    public var flagged: [FlaggedObject]
    /// Inputs whose floor step found no floor (all their points kept).
    public var floorless: Int
    /// From the failures: 0, the one input's own status, or 5 when some of several failed.
    public var status: ExitStatus
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
    /// interrupted run) and emitting it to `sink`.
    public func run(_ items: [InputItem], into sink: RowSink, summary: BatchSummary = BatchSummary(),
                    progress: ProgressMeter = .none()) throws -> BatchRun {
        var summary = summary
        var showcase = FlaggedShowcase(capacity: plan.renders)
        let outcome = BatchOutcome(total: items.count)
        var floorless = 0
        let classes = model.metadata.classes
        let batches = stride(from: 0, to: items.count, by: plan.batchSize).map { Array(items[$0 ..< min($0 + plan.batchSize, items.count)]) }
        var pending = batches.first.map(prefetch)
        for next in batches.indices {
            let loaded = pending!.wait()
            pending = next + 1 < batches.count ? prefetch(batches[next + 1]) : nil
            var ready = [PreparedInput]()
            for result in loaded {
                switch result {
                case .success(let input): ready.append(input)
                case .failure(let error):
                    progress.finish()
                    console.error(error.description)
                    summary.failed += 1
                    outcome.failed(ExitStatus.status(for: error))
                }
            }
            floorless += ready.filter(\.floorless).count
            let clock = ContinuousClock.now
            let results = examine(ready.map(\.cloud))
            let share = (ContinuousClock.now - clock).milliseconds / Double(max(ready.count, 1))
            for (input, result) in zip(ready, results) {
                let row = ObjectRow(path: input.item.path, points: input.points, prediction: result.prediction, diagnosis: result.diagnosis,
                                    assessment: result.assessment, classes: classes, label: input.item.label,
                                    milliseconds: input.milliseconds + share, top: plan.top)
                summary.add(row)
                try sink.emit(row)
                if row.fragile == true, let fragility = row.fragility, showcase.admits(fragility), let diagnosis = result.diagnosis {
                    let render = ViewRender(points: input.cloud.positions, values: diagnosis.map.values,
                                            title: "\(row.predicted) — fragility \(String(format: "%.2f", fragility))")
                    showcase.add(FlaggedObject(path: row.path, predictedClass: row.predicted, probability: Double(row.probability),
                                               fragility: fragility, reasons: row.reasons, trueClass: row.label, renderSVG: render.svg()))
                }
            }
            progress.advance(by: loaded.count)
        }
        progress.finish()
        sink.finish()
        return BatchRun(summary: summary, flagged: showcase.objects, floorless: floorless, status: outcome.status)
    }

    private func examine(_ clouds: [PointCloud]) -> [(prediction: Prediction, diagnosis: Diagnosis?, assessment: Assessment?)] {
        guard !clouds.isEmpty else { return [] }
        if let diagnostician {
            return diagnostician.examine(clouds).map { ($0.diagnosis.prediction, $0.diagnosis, $0.assessment) }
        }
        return model.predict(clouds, batchSize: plan.batchSize).map { ($0, nil, nil) }
    }

    /// Reads and prepares `items` on `plan.jobs` threads in the background.
    private func prefetch(_ items: [InputItem]) -> Prefetch {
        let box = Prefetch()
        let metadata = model.metadata, raw = plan.raw, jobs = plan.jobs, reading = plan.reading
        box.group.enter()
        DispatchQueue.global().async {
            box.results = parallelResults(items.count, workers: jobs) { i throws(PointCloudError) in try metadata.prepareInput(items[i], raw: raw, reading: reading) }
            box.group.leave()
        }
        return box
    }
}

/// Files read ahead: filled in the background, waited for once.
private final class Prefetch: @unchecked Sendable {
    let group = DispatchGroup()
    /// Written once, before the group is left; read after waiting for it.
    var results = [Result<PreparedInput, PointCloudError>]()

    func wait() -> [Result<PreparedInput, PointCloudError>] {
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
            let reading = try RowFile(path).read { row in
                if done.insert(row.path).inserted { summary.add(row) }
            }
            keep = reading.completeLength
            if reading.tornTail > 0 { console.warning("\(path): dropped a cut-off last row (\(reading.tornTail) bytes) left by an interrupted run") }
            if !done.isEmpty { console.info("resuming \(path): \(done.count) rows already there") }
        }
        return (try RowSink(appendingTo: path, keep: keep), summary, done)
    }
}
