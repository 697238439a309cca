import ArgumentParser
import Output
import Pipelines

struct BatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Classify and diagnose many scans: one row per object, a summary, a shift verdict, a report.",
        discussion: """
            Each object gets a row: path, points, class, probability, label and correct (from a CSV \
            manifest input or --labels-from-folders), every indicator (skewness, kurtosis, gini, \
            top10_mass, msp_score, energy, entropy, margin, mahalanobis, flip_rate, drop_rounds), \
            fragility, fragile, reasons and time_ms. Rows stream to stdout, or to -o FILE (.jsonl or \
            .csv); an existing -o is resumed: its rows are kept and their files skipped (--force starts \
            over); a row cut off by an interrupted run is dropped, and a second pcdiag writing the same \
            -o is refused (the file is locked). The summary — counts, flagged share, class histogram, \
            p50/p95 time per object and, for a calibrated model, the batch-level shift test (per \
            indicator a two-sample Kolmogorov–Smirnov test against the training reference with Cliff's \
            δ; shifted when the Bonferroni-adjusted p < 0.01 and the effect is at least medium) — goes \
            to stdout after rows written to -o, else to stderr; --summary writes it as JSON. Memory stays \
            flat in the number of files: rows are written as they come and the summary keeps bounded samples.

            Splitting a huge batch: --shard i/n keeps the files whose path hashes to i (1-based) of n, \
            the same split on every machine; run the n shards anywhere and join them with pcdiag merge.

            --scene: each input is a whole scene, cut into objects and each object examined (see pcdiag \
            classify --help); its rows carry object, centroid, box_min and extent, and are written \
            together, so a resumed -o skips the scenes it has rows for.

            --format: the rows' format on stdout; with -o, the summary's (table: text; json, jsonl: the summary object; csv: the shift test's rows).
            """)

    @Argument(help: "Point cloud files (.pcd .ply .xyz .txt .csv .pts .npy .bin .off .obj .stl .las), folders, globs, @list files or CSV manifests (path,label).")
    var inputs: [String]
    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .shortAndLong, help: "Write the rows to FILE (.jsonl or .csv), resuming it if it exists.") var output: String?

    @OptionGroup var summaryOptions: SummaryOptions
    @Option(help: "Threads reading and preparing files ahead of the network.") var jobs = BatchPlan().jobs
    @Option(help: "Process only shard I of N (1-based), split by path hash; see pcdiag merge.") var shard: String?
    @Flag(name: .customLong("fail-on-flag"), help: "Exit with status 7 when any object is flagged fragile.") var failOnFlag = false
    @Flag(name: .customLong("labels-from-folders"), help: "Each file's parent folder names its true class: adds label, correct, accuracy, error-detection AUROCs, a confusion matrix and reliability diagram.")
    var labelsFromFolders = false
    @Flag(name: .customLong("no-preprocess"), help: "Feed the points as stored (no NaN removal, normalisation or resampling).") var noPreprocess = false
    @Option(name: .customLong("batch-size"), help: "Clouds per forward pass.") var batchSize = 16
    @Option(help: "Flagged objects drawn in the report (the most fragile).") var renders = 24
    @Flag(help: "Start -o over instead of resuming it; overwrite --report, --summary and --scene-output.") var force = false
    @OptionGroup(title: "Scenes") var scene: SceneOptions
    @OptionGroup var reading: ReadingOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        try scene.validate(raw: noPreprocess)
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard renders >= 0 else { throw ValidationError("--renders must be ≥ 0") }
        if let shard, Shard(shard) == nil { throw ValidationError("--shard must be I/N with 1 ≤ I ≤ N, e.g. 3/8") }
    }

    func run() throws {
        let console = global.console
        try CommandFailure.checkOutputs(summaryOptions.outputs, force: force)
        let model = try modelOptions.load()
        var plan = BatchPlan()
        plan.reading = reading.options
        plan.jobs = jobs
        plan.batchSize = batchSize
        plan.raw = noPreprocess
        plan.renders = summaryOptions.report == nil ? 0 : renders
        var items = try InputItem.expand(inputs, labelsFromFolders: labelsFromFolders, reading: reading.options)
        if let shard = shard.flatMap(Shard.init) { items = items.filter { shard.contains($0.path) } }
        try scene.plan(&plan, for: items, force: force)
        let runner = try modelOptions.runner(for: model, plan: plan, console: console)
        let columns = scene.scene ? ObjectRow.sceneColumns(diagnose: true) : ObjectRow.columns
        let (sink, resumed, done) = try output.map { try RowSink.resuming($0, force: force, console: console) }
            ?? (RowSink(printing: global.format, columns: columns, single: items.count == 1 && !scene.scene, details: false), BatchSummary(), [])
        let todo = items.filter { !done.contains($0.path) }
        let run = try runner.run(todo, into: sink, summary: resumed, progress: console.progress(total: todo.count, label: "batch"))
        for line in run.notices(of: todo.count) { console.warning(line) }
        let conclusion = Conclusion(run.summary, calibration: runner.diagnostician?.calibration)
        try summaryOptions.conclude(conclusion, format: global.format, onStdout: output != nil, console: console,
                                    model: try modelOptions.resolvedPath(), inputs: inputs, flagged: run.flagged, scenes: run.scenes)
        if run.status != .ok { throw Exit(run.status) }
        if failOnFlag && run.summary.flagged > 0 { throw Exit(.flagged) }
    }
}
