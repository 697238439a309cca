import Foundation
import Networks
import Output
import PointClouds
import Statistics

/// `evaluate-ood`: how well each score tells an out-of-distribution set from an in-distribution one
/// (the positive class: out-of-distribution) and, on a labelled in-distribution set, wrong answers
/// from right ones (positive: a wrong answer). Each score is oriented by its meaning, not by the data,
/// so an AUROC below 0.5 says the score moves the other way.
public struct OODEvaluation: Sendable {
    /// One score's figures; nil where not measured, or undefined (one class only).
    public struct Figures: Sendable, Equatable {
        public var key: String
        /// Against the out-of-distribution set: AUROC, average precision, false-positive rate at 95 %
        /// true-positive rate.
        public var auroc: Double?
        public var aupr: Double?
        public var fpr95: Double?
        /// Error-detection AUROC on the in-distribution set.
        public var errorAUROC: Double?
    }

    /// A diagnosed cloud and, with a calibration, its verdict.
    public typealias Examined = (diagnosis: Diagnosis, assessment: Assessment?)

    public var id: (data: String, clouds: Int)
    /// Nil without an out-of-distribution set.
    public var ood: (data: String, clouds: Int)?
    /// The share of right answers on the in-distribution set; nil without its labels.
    public var accuracy: Double?
    /// The figures of each score computed for every cloud, in `scores` order.
    public var figures: [Figures]

    /// The scores ranked, in output order, each with its key and its suspicion in an examined cloud
    /// (higher: more suspicious; nil when not computed): every indicator, then the fragility score.
    static let scores: [(key: String, suspicion: @Sendable (Examined) -> Double?)] =
        Score.all.map { score in (score.key, { @Sendable in score.value(in: $0.diagnosis.indicators, assessment: $0.assessment).map(score.suspicion) }) }

    /// The figures from examined clouds of `id` and, when given, of `ood`; `wrong` marks the wrong
    /// answers among `id` when its labels are known. A score some cloud lacks is left out.
    public init(id: (data: String, examined: [Examined]), ood: (data: String, examined: [Examined])?, wrong: [Bool]?) {
        precondition(wrong.map { $0.count == id.examined.count } ?? true, "one mark per in-distribution cloud")
        self.id = (id.data, id.examined.count)
        self.ood = ood.map { ($0.data, $0.examined.count) }
        accuracy = wrong.map { w in 1 - Double(w.filter { $0 }.count) / Double(max(w.count, 1)) }
        figures = Self.scores.compactMap { key, suspicion in
            let idScores = id.examined.compactMap(suspicion), oodScores = (ood?.examined ?? []).compactMap(suspicion)
            guard idScores.count == id.examined.count, oodScores.count == (ood?.examined.count ?? 0), !idScores.isEmpty else { return nil }
            var f = Figures(key: key)
            if ood != nil {
                let scores = idScores + oodScores, positives = idScores.map { _ in false } + oodScores.map { _ in true }
                f.auroc = RankMetrics.auroc(scores: scores, positives: positives)
                f.aupr = RankMetrics.averagePrecision(scores: scores, positives: positives)
                f.fpr95 = RankMetrics.fprAtTPR(scores: scores, positives: positives)
            }
            f.errorAUROC = wrong.flatMap { RankMetrics.auroc(scores: idScores, positives: $0) }
            return f
        }
    }

    /// Reads the sets (`id` in the model's classes when `labels`; `ood` without the classes in
    /// `excluding`; each at most `limit` clouds, a seeded subset), diagnoses every cloud with
    /// `diagnostician` and measures the figures. Progress and what was read go to `console`.
    public static func run(_ diagnostician: Diagnostician, id: String, labels: Bool, ood: String?, excluding: Set<String> = [],
                           limit: Int? = nil, seed: UInt64 = 1, reading: CloudReadOptions = CloudReadOptions(),
                           console: Console) throws(PointCloudError) -> OODEvaluation {
        let model = diagnostician.model, preprocessing = model.metadata.preprocessing
        if diagnostician.calibration == nil { console.warning("the model is not calibrated: no fragility score (pcdiag calibrate)") }
        let idSet = try labels ? LabelledData.load(id, for: model, limit: limit, seed: seed, reading: reading, console: console).set
            : LabelledData.load(id, preprocessing: preprocessing, limit: limit, seed: seed, reading: reading, console: console).set
        let oodSet = try ood.map { data throws(PointCloudError) in
            try LabelledData.load(data, preprocessing: preprocessing, excluding: excluding, limit: limit, seed: seed, reading: reading, console: console).set
        }
        let bar = console.progress(total: idSet.count + (oodSet?.count ?? 0), label: "evaluate-ood")
        let idExamined = examine(idSet, diagnostician, bar), oodExamined = oodSet.map { examine($0, diagnostician, bar) }
        bar.finish()
        let wrong = labels ? zip(idSet.labels, idExamined).map { $0 != $1.diagnosis.prediction.label } : nil
        let result = OODEvaluation(id: (id, idExamined), ood: ood.flatMap { data in oodExamined.map { (data, $0) } }, wrong: wrong)
        console.info("in-distribution: \(idSet.count) clouds of \(id)" + (oodSet.map { "; out-of-distribution (positive): \($0.count) clouds of \(ood!)" } ?? ""))
        if let accuracy = result.accuracy { console.info(String(format: "accuracy on the in-distribution set: %.2f %%", 100 * accuracy)) }
        return result
    }

    static func examine(_ set: PreparedSet, _ diagnostician: Diagnostician, _ bar: ProgressMeter) -> [Examined] {
        var results = [Examined]()
        for start in stride(from: 0, to: set.count, by: diagnostician.options.batchSize) {
            let part = start ..< min(start + diagnostician.options.batchSize, set.count)
            results += diagnostician.examine(part.map(set.cloud))
            bar.advance(by: part.count)
        }
        return results
    }
}

extension OODEvaluation {
    /// The whole result as one object (`--format json`): `model`, `positive`, `id` (`data`, `clouds`,
    /// `accuracy` with labels), `ood` (`data`, `clouds`), `indicators`: per score key its figures.
    public func record(model: String) -> Record {
        var out = Record()
        out["model"] = .string(model)
        out["positive"] = .string(ood == nil ? "wrong prediction" : "out-of-distribution")
        out["id"] = .object(Record(fields: [("data", .string(id.data)), ("clouds", .int(id.clouds))]
            + (accuracy.map { [("accuracy", .double($0))] } ?? [])))
        if let ood { out["ood"] = .object(Record(fields: [("data", .string(ood.data)), ("clouds", .int(ood.clouds))])) }
        out["indicators"] = .object(Record(fields: rows.map { r in (r["indicator"]!.text, .object(Record(fields: Array(r.fields.dropFirst())))) }))
        return out
    }

    /// One row per score (`--format csv`, `jsonl`, and the table): `indicator` (the score's key), then
    /// `auroc`, `aupr` and `fpr95` with an out-of-distribution set, `error_auroc` with labels; figures
    /// to 4 decimals, null where undefined.
    public var rows: [Record] {
        func value(_ x: Double?) -> Value { x.map { .double(($0 * 10_000).rounded() / 10_000) } ?? .null }
        return figures.map { f in
            var r = Record(fields: [("indicator", .string(f.key))])
            if ood != nil {
                r["auroc"] = value(f.auroc)
                r["aupr"] = value(f.aupr)
                r["fpr95"] = value(f.fpr95)
            }
            if accuracy != nil { r["error_auroc"] = value(f.errorAUROC) }
            return r
        }
    }

    /// `rows` as an aligned table, for reading.
    public var table: [String] {
        let columns: [RecordPrinter.Column] = [.init(key: "indicator", title: "INDICATOR")]
            + (ood == nil ? [] : [.init(key: "auroc", title: "AUROC"), .init(key: "aupr", title: "AUPR"), .init(key: "fpr95", title: "FPR95")])
            + (accuracy == nil ? [] : [.init(key: "error_auroc", title: "ERROR_AUROC")])
        var text = ""
        let printer = RecordPrinter(format: .table, columns: columns) { text += $0 }
        rows.forEach(printer.emit)
        printer.finish()
        return text.split(separator: "\n").map(String.init)
    }
}
