import ArgumentParser
import Diagnostics
import Output
import Pipelines
import Networks
import PointClouds

struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Fit the diagnostics of a model on labelled source data and store them in the model file.",
        discussion: """
            On the labelled source set (--data; its labels are needed, target labels never are): the \
            class-conditional statistics of the pooled feature (for the mahalanobis indicator) from every \
            cloud; then, on a seeded subset of --limit clouds and one shifted copy of each (a corruption \
            drawn from --corruptions), every indicator, their reference distributions on the clean clouds \
            (for batch shift tests) with the value at their suspicious 5 % tail (the reasons classify \
            gives), and the fragility score: a logistic model over the indicators predicting a wrong \
            answer, its weights kept ≥ 0 (the score never falls as an indicator grows more suspicious; an \
            indicator whose calibration errors lie on its other side also enters as its shortfall below \
            its clean median, shown as <key>_low), its L2 penalty chosen by holding out each kind of shift in \
            turn, with the threshold that flags --recall of the wrong answers. Written to -o with the \
            weights unchanged. The set needs more usable clouds than the model has classes. csv and \
            jsonl have one row per term: indicator, side, threshold, weight.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Labelled source set: class folders or a CSV manifest.") var data: String
    @Option(name: .shortAndLong, help: "The calibrated model file to write (may be --model itself with --force).") var output: String
    @Option(help: "Clean clouds to diagnose (a seeded subset); each also gets one shifted copy.") var limit = 1000
    @Option(help: "Share of the wrong answers on the calibration data the fragility threshold flags.") var recall = 0.95
    @Option(help: "Corruptions for the shifted copies, comma-separated KIND:SEVERITY (see pcdiag corrupt). Default: occlusion, dropout-local, add-local, jitter, lidar, density, scale, add-global at severities 2 and 4.")
    var corruptions: String?
    @Option(help: "Seed of the subset and the corruptions.") var seed: UInt64 = 1
    @OptionGroup var diagnosis: DiagnosisOptionGroup
    @Option(help: "Also write the calibration's diagnoses here as JSON lines: each clean cloud and its shifted copy, with the true class, the corruption, every indicator and the fitted fragility score — to audit or study the fit.")
    var diagnoses: String?
    @Flag(help: "Overwrite an existing output model.") var force = false

    @OptionGroup var reading: ReadingOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard limit >= 10 else { throw ValidationError("--limit must be at least 10") }
        guard recall > 0, recall <= 1 else { throw ValidationError("--recall must be in (0, 1]") }
        _ = try parsedCorruptions()
    }

    func parsedCorruptions() throws -> [Corruption] {
        guard let corruptions else { return CalibrationPlan.defaultCorruptions }
        guard let list = Corruption.list(corruptions) else {
            throw ValidationError("--corruptions: '\(corruptions)' is not a list of KIND:SEVERITY (kinds: \(Corruption.Kind.allCases.map(\.rawValue).joined(separator: ", ")); severity 1–5)")
        }
        return list
    }

    func run() throws {
        try CommandFailure.checkOutputs([output] + (diagnoses.map { [$0] } ?? []), force: force)
        let model = try modelOptions.load()
        let plan = CalibrationPlan(corruptions: try parsedCorruptions(), limit: limit, recall: recall, seed: seed, options: diagnosis.options())
        let calibrated: Model, sample: CalibrationSample
        do {
            (calibrated, sample) = try model.calibrated(data: data, plan: plan, reading: reading.options, console: global.console)
        } catch let error as DiagnosticsError {
            throw CommandFailure(status: .badInput, message: "\(data): \(error)")
        }
        try calibrated.save(to: output)
        let calibration = try Diagnostician(model: calibrated).calibration!
        if let diagnoses {
            try sample.writeRows(calibration: calibration, classes: model.metadata.classes, to: diagnoses)
        }
        printEvaluation(global.format, object: calibration.summaryRecord, rows: calibration.termRecords, table: calibration.summaryTable)
    }
}

/// How the indicators are computed, for the commands that compute them all.
struct DiagnosisOptionGroup: ParsableArguments {
    @Option(help: "Saliency exponent α (the radius power: 1 in the official PointNet code, 6 for DGCNN).") var alpha = 1.0
    @Option(name: .customLong("flip-trials"), help: "Random 10 % point-drop trials for flip_rate (0: skip).") var flipTrials = 8
    @Option(name: .customLong("drop-rounds"), help: "Rounds of dropping the 5 % most salient points for drop_rounds (0: skip).") var dropRounds = 10
    @Option(name: .customLong("batch-size"), help: "Clouds per forward pass.") var batchSize = 16

    func validate() throws {
        guard alpha.isFinite, alpha >= 0 else { throw ValidationError("--alpha must be a finite number ≥ 0") }
        guard flipTrials >= 0, dropRounds >= 0 else { throw ValidationError("--flip-trials and --drop-rounds must be ≥ 0") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func options() -> DiagnosisOptions {
        var o = DiagnosisOptions()
        o.alpha = alpha
        o.flipTrials = flipTrials
        o.dropRounds = dropRounds
        o.batchSize = batchSize
        return o
    }
}
