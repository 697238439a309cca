import ArgumentParser
import Diagnostics
import Foundation
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
            weights unchanged.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Labelled source set: class folders or a CSV manifest.")
    var data: String

    @Option(name: .shortAndLong, help: "The calibrated model file to write (may be --model itself with --force).")
    var output: String

    @Option(help: "Clean clouds to diagnose (a seeded subset); each also gets one shifted copy.")
    var limit = 1000

    @Option(help: "Share of the wrong answers on the calibration data the fragility threshold flags.")
    var recall = 0.95

    @Option(help: "Corruptions for the shifted copies, comma-separated KIND:SEVERITY (see pcdiag corrupt). Default: occlusion, dropout-local, add-local, jitter, lidar, density, scale, add-global at severities 2 and 4.")
    var corruptions: String?

    @Option(help: "Seed of the subset and the corruptions.")
    var seed: UInt64 = 1

    @OptionGroup var diagnosis: DiagnosisOptionGroup

    @Option(help: "Also write the calibration's diagnoses here as JSON lines: each clean cloud and its shifted copy, with the true class, the corruption, every indicator and the fitted fragility score — to audit or study the fit.")
    var diagnoses: String?

    @Flag(help: "Overwrite an existing output model.")
    var force = false

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard limit >= 10 else { throw ValidationError("--limit must be at least 10") }
        guard recall > 0, recall <= 1 else { throw ValidationError("--recall must be in (0, 1]") }
        _ = try parsedCorruptions()
    }

    func parsedCorruptions() throws -> [Corruption] {
        guard let corruptions else { return CalibrationPlan.defaultCorruptions }
        return try corruptions.split(separator: ",").map { item in
            let parts = item.split(separator: ":").map { String($0).trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let kind = Corruption.Kind(rawValue: parts[0]), let severity = Int(parts[1]), (1 ... 5).contains(severity) else {
                throw ValidationError("--corruptions: '\(item)' is not KIND:SEVERITY (kinds: \(Corruption.Kind.allCases.map(\.rawValue).joined(separator: ", ")); severity 1–5)")
            }
            return Corruption(kind, severity: severity)
        }
    }

    func run() throws {
        let console = global.console
        try CommandFailure.checkOutputs([output] + (diagnoses.map { [$0] } ?? []), force: force)
        let model = try modelOptions.load()
        let (set, _) = try LabelledData.load(data, for: model, console: console)
        let plan = CalibrationPlan(corruptions: try parsedCorruptions(), limit: limit, recall: recall, seed: seed,
                                   options: diagnosis.options())
        let bar = console.progress(total: set.count + 2 * min(limit, set.count), label: "calibrate")
        let calibrated: Model, sample: CalibrationSample
        do {
            (calibrated, sample) = try model.calibrated(on: set, data: data, plan: plan) { bar.advance(by: $0) }
        } catch let error as DiagnosticsError {
            bar.finish()
            throw CommandFailure(status: .badInput, message: "\(data): \(error)")
        }
        bar.finish()
        try calibrated.save(to: output)
        let calibration = try Diagnostician(model: calibrated).calibration!
        if let diagnoses {
            try Self.write(sample, calibration: calibration, classes: model.metadata.classes, to: diagnoses)
        }
        printResult(Self.summary(calibration, format: format))
    }

    /// The score's L2 penalty and, when it was searched, the held-out AUROC of each one tried.
    static func penaltyLine(_ search: PenaltySearch?) -> String {
        guard let search else { return String(format: "L2 penalty %g (too few kinds of shift with wrong answers to choose it)", PenaltySearch.fallback) }
        let tried = zip(search.penalties, search.heldOutAUROC).map { String(format: "%g: %@", $0, $1.map { String(format: "%.4f", $0) } ?? "failed") }
        return String(format: "L2 penalty %g, the best mean AUROC with each of %d kinds of shift held out in turn (%@)",
                      search.chosen, search.folds.count, tried.joined(separator: ", "))
    }

    /// One JSON line per calibration diagnosis, clean clouds first, in the `batch` row layout plus the
    /// true class (`label`), the corruption of a shifted copy (`shift`, "none" for a clean cloud) and `wrong`.
    static func write(_ sample: CalibrationSample, calibration: Calibration, classes: [String], to path: String) throws {
        var lines = [String]()
        for (copies, shifts) in [(sample.clean, sample.paths.map { _ in "none" }), (sample.shifted, sample.shifts)] {
            for (i, diagnosis) in copies.enumerated() {
                var row = ObjectRow(path: sample.paths[i], points: diagnosis.map.values.count, prediction: diagnosis.prediction,
                                    diagnosis: diagnosis, assessment: calibration.assess(diagnosis.indicators), classes: classes,
                                    label: classes[sample.labels[i]], milliseconds: 0).record(format: .jsonl)
                row["shift"] = .string(shifts[i])
                row["wrong"] = .bool(diagnosis.prediction.label != sample.labels[i])
                lines.append(row.json)
            }
        }
        do {
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CommandFailure(status: .output, message: "\(path): cannot write (\(error.localizedDescription))")
        }
    }

    /// What the calibration found: the fit on its own data and each indicator's threshold.
    static func summary(_ c: Calibration, format: OutputFormat) -> String {
        let r = c.record
        if format == .json || format == .jsonl {
            var out = Record()
            out["data"] = .string(r.data)
            out["clean"] = .int(r.clean)
            out["shifted"] = .int(r.shifted)
            out["errors"] = .int(r.errors)
            out["corruptions"] = Value(r.corruptions)
            out["target_recall"] = .double(r.targetRecall)
            out["error_recall"] = .double(r.errorRecall)
            out["flagged_share"] = .double(r.flaggedShare)
            out["auroc"] = r.auroc.map(Value.double) ?? .null
            out["l2"] = .double(r.penaltySearch?.chosen ?? PenaltySearch.fallback)
            out["held_out_auroc"] = r.penaltySearch.map { search in
                .object(Record(fields: zip(search.penalties, search.heldOutAUROC).map { (String(format: "%g", $0), $1.map(Value.double) ?? .null) }))
            } ?? .null
            out["fragility_threshold"] = .double(c.fragilityThreshold)
            out["thresholds"] = .object(Record(fields: Indicator.allCases.compactMap { i in c.thresholds[i.key].map { (i.key, .double($0)) } }))
            out["weights"] = .object(Record(fields: zip(c.fragility.terms, c.fragility.model.weights).map { ($0, .double($1)) }))
            return out.json
        }
        var lines = [
            String(format: "calibrated on %d clean clouds and %d shifted copies: %d wrong answers", r.clean, r.shifted, r.errors),
            String(format: "fragility threshold %.4f flags %.1f %% of them (target %.0f %%) and %.1f %% of all clouds; AUROC %.3f (in-sample)",
                   c.fragilityThreshold, r.errorRecall * 100, r.targetRecall * 100, r.flaggedShare * 100, r.auroc ?? .nan),
            Self.penaltyLine(r.penaltySearch),
            "",
            "INDICATOR     THRESHOLD      WEIGHT",
        ]
        for indicator in Indicator.allCases {
            guard let t = c.thresholds[indicator.key] else { continue }
            let weight = c.fragility.terms.firstIndex(of: indicator.key).map { c.fragility.model.weights[$0] }
            lines.append(indicator.key.padding(toLength: 12, withPad: " ", startingAt: 0)
                + String(format: "  %@ %10.4g  %10.4f", indicator.suspiciousWhenHigh ? ">" : "<", t, weight ?? .nan))
        }
        // A shortfall term: the weight on how far the indicator falls below its clean median.
        for (j, s) in (c.fragility.shortfalls ?? []).enumerated() {
            let key = s.indicator.key + "_low"
            lines.append(key.padding(toLength: 12, withPad: " ", startingAt: 0)
                + String(format: "  < %10.4g  %10.4f", s.median, c.fragility.model.weights[c.fragility.indicators.count + j]))
        }
        return lines.joined(separator: "\n")
    }
}

/// How the indicators are computed, for the commands that compute them all.
struct DiagnosisOptionGroup: ParsableArguments {
    @Option(help: "Saliency exponent α (DESIGN §3: 1 in the official PointNet code, 6 for DGCNN).")
    var alpha = 1.0

    @Option(name: .customLong("flip-trials"), help: "Random 10 % point-drop trials for flip_rate (0: skip).")
    var flipTrials = 8

    @Option(name: .customLong("drop-rounds"), help: "Rounds of dropping the 5 % most salient points for drop_rounds (0: skip).")
    var dropRounds = 10

    @Option(name: .customLong("batch-size"), help: "Clouds per forward pass.")
    var batchSize = 16

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
