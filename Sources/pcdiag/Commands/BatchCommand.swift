import ArgumentParser
import Diagnostics
import Dispatch
import Foundation
import Output
import Report
import Networks
import PointClouds
import Support

struct BatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Classify and diagnose many scans: one row per object, a summary, a shift verdict, a report.",
        discussion: """
            Each object gets a row: path, points, class, probability, label and correct (with \
            --labels-from-folders), every indicator (skewness, kurtosis, gini, top10_mass, msp_score, \
            energy, entropy, margin, mahalanobis, flip_rate, drop_rounds), fragility, fragile, reasons and \
            time_ms. Rows stream to stdout, or to -o FILE (.jsonl or .csv); an existing -o is resumed: its \
            rows are kept and their files skipped (--force starts over). The summary — counts, flagged \
            share, class histogram, p50/p95 time per object and, for a calibrated model, the batch-level \
            shift test (per indicator a two-sample Kolmogorov–Smirnov test against the training \
            reference with Cliff's δ; shifted when the Bonferroni-adjusted p < 0.01 and the effect is at \
            least medium) — goes to stdout after rows written to -o, else to stderr; --summary writes it \
            as JSON. Memory stays flat in the number of files: rows are written as they come and the \
            summary keeps bounded samples.

            Splitting a huge batch: --shard i/n keeps the files whose path hashes to i (1-based) of n, \
            the same split on every machine; run the n shards anywhere and join them with pcdiag merge. \
            Slurm: sbatch --array=1-N with pcdiag batch … --shard $SLURM_ARRAY_TASK_ID/N -o part-$SLURM_ARRAY_TASK_ID.jsonl. \
            Kubernetes indexed Job: --shard $((JOB_COMPLETION_INDEX+1))/N. GNU parallel: \
            parallel pcdiag batch … --shard {}/N -o part-{}.jsonl ::: $(seq N).
            """)

    @Argument(help: "Point cloud files (.pcd, .ply), folders, globs or @list files.")
    var inputs: [String]

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .shortAndLong, help: "Write the rows to FILE (.jsonl or .csv), resuming it if it exists.")
    var output: String?

    @Option(help: "Row format on stdout: table, json, jsonl or csv (with -o: from its extension).")
    var format: OutputFormat = .table

    @Option(help: "Write a self-contained HTML report (summary, shift verdict, flagged objects with renders).")
    var report: String?

    @Option(help: "Write the summary as JSON to FILE.")
    var summary: String?

    @Option(help: "Threads reading and preparing files ahead of the network.")
    var jobs = Parallelism.workers

    @Option(help: "Process only shard I of N (1-based), split by path hash; see pcdiag merge.")
    var shard: String?

    @Flag(name: .customLong("fail-on-flag"), help: "Exit with status 7 when any object is flagged fragile.")
    var failOnFlag = false

    @Flag(name: .customLong("labels-from-folders"), help: "Each file's parent folder names its true class: adds label, correct, accuracy, error-detection AUROCs, a confusion matrix and reliability diagram.")
    var labelsFromFolders = false

    @Flag(name: .customLong("no-preprocess"), help: "Feed the points as stored (no NaN removal, normalisation or resampling).")
    var noPreprocess = false

    @Option(name: .customLong("batch-size"), help: "Clouds per forward pass.")
    var batchSize = 16

    @Option(help: "Flagged objects drawn in the report (the most fragile).")
    var renders = 24

    @Flag(help: "Start -o over instead of resuming it; overwrite --report and --summary.")
    var force = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard renders >= 0 else { throw ValidationError("--renders must be ≥ 0") }
        _ = try parsedShard()
    }

    func parsedShard() throws -> (index: Int, count: Int)? {
        guard let shard else { return nil }
        let parts = shard.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, (1 ... parts[1]).contains(parts[0]) else {
            throw ValidationError("--shard must be I/N with 1 ≤ I ≤ N, e.g. 3/8")
        }
        return (parts[0], parts[1])
    }

    func run() throws {
        let console = global.console
        try CommandFailure.checkOutputs([report, summary].compactMap { $0 }, force: force)
        let model = try modelOptions.load()
        var diagnostician = try modelOptions.diagnostician(for: model)
        diagnostician.options.batchSize = batchSize
        if diagnostician.calibration == nil { console.warning("the model is not calibrated: no fragility score and no shift test (pcdiag calibrate)") }
        var paths = try CloudPaths.expand(inputs)
        if let (index, count) = try parsedShard() { paths = paths.filter { Self.shard(of: $0, count: count) == index } }

        var tally = BatchTally()
        let sink = try RowSink(output: output, format: format, force: force, single: paths.count == 1)
        var done = Set<String>()
        if let output, !force, FileManager.default.fileExists(atPath: output) {
            try BatchRowFile.read(output, format: BatchRowFile.format(of: output)) { row in
                if done.insert(row.path).inserted { tally.add(row) }
            }
            if !done.isEmpty { console.info("resuming \(output): \(done.count) rows already there") }
        }
        let todo = paths.filter { !done.contains($0) }
        var showcase = FlaggedShowcase(capacity: report == nil ? 0 : renders)
        let progress = console.progress(total: todo.count, label: "batch")
        let outcome = BatchOutcome(total: todo.count)
        let classes = model.metadata.classes
        var pending = prefetch(Array(todo.prefix(batchSize)), model: model)
        for start in stride(from: 0, to: todo.count, by: batchSize) {
            let loaded = pending.wait()
            let next = start + batchSize
            if next < todo.count { pending = prefetch(Array(todo[next ..< min(next + batchSize, todo.count)]), model: model) }
            var ready = [(path: String, cloud: PointCloud, points: Int, milliseconds: Double)]()
            for item in loaded {
                switch item.result {
                case .success(let (cloud, finite)): ready.append((item.path, cloud, finite, item.milliseconds))
                case .failure(let error):
                    progress.finish()
                    console.error(error.description)
                    tally.failed += 1
                    outcome.failed(ExitStatus.status(for: error))
                }
            }
            let clock = ContinuousClock.now
            let results = ready.isEmpty ? [] : diagnostician.examine(ready.map(\.cloud))
            let share = (ContinuousClock.now - clock) / Double(max(ready.count, 1))
            for (item, result) in zip(ready, results) {
                let row = BatchRow(path: item.path, points: item.points, diagnosis: result.diagnosis, assessment: result.assessment,
                                   classes: classes, label: labelsFromFolders ? Self.folderLabel(item.path) : nil,
                                   milliseconds: item.milliseconds + share.milliseconds)
                tally.add(row)
                try sink.emit(row)
                if row.fragile == true, let fragility = row.fragility, showcase.admits(fragility) {
                    let render = ViewRender(points: item.cloud.positions, values: result.diagnosis.map.values,
                                            title: "\(row.predicted) — fragility \(String(format: "%.2f", fragility))")
                    showcase.add(FlaggedObject(path: row.path, predictedClass: row.predicted, probability: row.probability, fragility: fragility,
                                               reasons: row.reasons, trueClass: row.label, renderSVG: render.svg()))
                }
            }
            progress.advance(by: loaded.count)
        }
        progress.finish()
        try sink.finish()
        try Self.conclude(tally, calibration: diagnostician.calibration, model: try modelOptions.resolvedPath(), inputs: inputs.joined(separator: " "),
                          flagged: showcase.objects, rowsInFile: output != nil, report: report, summary: summary, console: console)
        try outcome.conclude()
        if failOnFlag && tally.flagged > 0 { throw Exit(.flagged) }
    }

    /// Prints the summary (stdout after rows written to a file, else stderr) and writes the report
    /// and the JSON summary: shared by `batch` and `merge`.
    static func conclude(_ tally: BatchTally, calibration: Calibration?, model: String, inputs: String, flagged: [FlaggedObject],
                         rowsInFile: Bool, report: String?, summary: String?, console: Console) throws {
        let test = calibration.map(tally.shift)
        let text = tally.text(shift: test)
        if rowsInFile { printResult(text) } else { console.info(text) }
        if let summary { try write(tally.record(shift: test).json + "\n", to: summary) }
        if let report {
            try write(htmlReport(tally.reportData(model: model, inputs: inputs, calibration: calibration, shift: test, flagged: flagged)), to: report)
        }
    }

    static func write(_ text: String, to path: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CommandFailure(status: .output, message: "\(path): cannot be written (\(error.localizedDescription))")
        }
    }

    /// The shard (1-based) a path falls in: FNV-1a of its bytes, so every machine splits alike.
    static func shard(of path: String, count: Int) -> Int {
        Int(FNV1a.hash(path) % UInt64(count)) + 1
    }

    static func folderLabel(_ path: String) -> String {
        URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent
    }

    /// Reads and prepares `paths` on `jobs` threads in the background, while the network works on the
    /// batch before.
    func prefetch(_ paths: [String], model: Model) -> Prefetch {
        let box = Prefetch(count: paths.count)
        let raw = noPreprocess, jobs = jobs, metadata = model.metadata
        box.group.enter()
        DispatchQueue.global().async {
            let next = Counter()
            DispatchQueue.concurrentPerform(iterations: min(jobs, max(paths.count, 1))) { _ in
                while let i = next.take(below: paths.count) {
                    let clock = ContinuousClock.now
                    let result = Result { () throws(PointCloudError) in try ClassifyCommand.prepareInput(paths[i], for: metadata, raw: raw) }
                    box.set(i, (paths[i], result, (ContinuousClock.now - clock).milliseconds))
                }
            }
            box.group.leave()
        }
        return box
    }
}

/// Files read ahead: filled by worker threads, waited for once.
final class Prefetch: @unchecked Sendable {
    typealias Item = (path: String, result: Result<(cloud: PointCloud, finite: Int), PointCloudError>, milliseconds: Double)
    let group = DispatchGroup()
    private var items: [Item?]
    private let lock = NSLock()

    init(count: Int) { items = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ item: Item) { lock.withLock { items[i] = item } }

    func wait() -> [Item] {
        group.wait()
        return items.map { $0! }
    }
}

/// Hands out indices 0, 1, 2, … to threads.
final class Counter: @unchecked Sendable {
    private var next = 0
    private let lock = NSLock()

    func take(below limit: Int) -> Int? {
        lock.withLock {
            guard next < limit else { return nil }
            defer { next += 1 }
            return next
        }
    }
}

/// Where rows go: appended to -o as JSON lines or CSV (flushed row by row, so an interrupted run
/// resumes where it stopped), or printed to stdout.
final class RowSink {
    private let file: FileHandle?
    private let fileFormat: OutputFormat
    private let printer: RecordPrinter?
    private var needsHeader: Bool

    init(output: String?, format: OutputFormat, force: Bool, single: Bool) throws {
        guard let output else {
            file = nil
            fileFormat = format
            needsHeader = false
            printer = RecordPrinter(format: format, columns: DiagnosisRecord.columns, single: single)
            return
        }
        printer = nil
        fileFormat = BatchRowFile.format(of: output)
        let manager = FileManager.default
        let exists = manager.fileExists(atPath: output)
        if force || !exists {
            guard manager.createFile(atPath: output, contents: nil) else {
                throw CommandFailure(status: .output, message: "\(output): cannot be created")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: output) else {
            throw CommandFailure(status: .output, message: "\(output): cannot be opened for writing")
        }
        file = handle
        let size = (try? handle.seekToEnd()) ?? 0
        needsHeader = fileFormat == .csv && size == 0
    }

    func emit(_ row: BatchRow) throws {
        guard let file else {
            printer!.emit(row.record(format: fileFormat))
            return
        }
        let record = row.record(format: fileFormat)
        var text = ""
        if needsHeader {
            text += record.fields.map { RecordPrinter.csvCell($0.key) }.joined(separator: ",") + "\n"
            needsHeader = false
        }
        text += fileFormat == .csv ? record.fields.map { RecordPrinter.csvCell($0.value.text) }.joined(separator: ",") : record.json
        do {
            try file.write(contentsOf: Data((text + "\n").utf8))
        } catch {
            throw CommandFailure(status: .output, message: "rows cannot be written (\(error.localizedDescription))")
        }
    }

    func finish() throws {
        printer?.finish()
        try file?.close()
    }
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}
