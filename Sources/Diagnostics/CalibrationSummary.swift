import Foundation
import Output

/// What `calibrate` prints about the calibration it stored: the fit on its own data and each
/// indicator's threshold and weight.
extension Calibration {
    /// The whole summary as one object (`--format json`).
    public var summaryRecord: Record {
        var out = Record()
        out["data"] = .string(record.data)
        out["clean"] = .int(record.clean)
        out["shifted"] = .int(record.shifted)
        out["errors"] = .int(record.errors)
        out["corruptions"] = Value(record.corruptions)
        out["target_recall"] = .double(record.targetRecall)
        out["error_recall"] = .double(record.errorRecall)
        out["flagged_share"] = .double(record.flaggedShare)
        out["auroc"] = record.auroc.map(Value.double) ?? .null
        out["l2"] = .double(record.penaltySearch?.chosen ?? PenaltySearch.fallback)
        out["held_out_auroc"] = record.penaltySearch.map { search in
            .object(Record(fields: zip(search.penalties, search.heldOutAUROC).map { (String(format: "%g", $0), $1.map(Value.double) ?? .null) }))
        } ?? .null
        out["fragility_threshold"] = .double(fragilityThreshold)
        out["thresholds"] = .object(Record(fields: Indicator.allCases.compactMap { i in thresholds[i.key].map { (i.key, .double($0)) } }))
        out["weights"] = .object(Record(fields: zip(fragility.terms, fragility.model.weights).map { ($0, .double($1)) }))
        return out
    }

    /// One row per term (`--format csv`, `jsonl`): `indicator` (an indicator's key, or "<key>_low" for
    /// its shortfall below the clean median), `side` (">": suspicious above `threshold`, "<": below),
    /// `threshold` (the clean 5 % tail; for a shortfall, the clean median) and `weight` in the fragility
    /// score (null for an indicator it does not use); last, the score itself: "fragility", ">=", its
    /// threshold, weight null.
    public var termRecords: [Record] {
        (terms + [("fragility", ">=", fragilityThreshold, nil)]).map { key, side, threshold, weight in
            Record(fields: [("indicator", .string(key)), ("side", .string(side)), ("threshold", .double(threshold)),
                            ("weight", weight.map(Value.double) ?? .null)])
        }
    }

    /// The summary laid out for reading.
    public var summaryTable: [String] {
        let r = record, terms = terms, width = max(12, terms.map(\.key.count).max() ?? 0)
        return [
            String(format: "calibrated on %d clean clouds and %d shifted copies: %d wrong answers", r.clean, r.shifted, r.errors),
            String(format: "fragility threshold %.4f flags %.1f %% of them (target %.0f %%) and %.1f %% of all clouds; AUROC %.3f (in-sample)",
                   fragilityThreshold, r.errorRecall * 100, r.targetRecall * 100, r.flaggedShare * 100, r.auroc ?? .nan),
            Self.penaltyLine(r.penaltySearch),
            "",
            "INDICATOR".padding(toLength: width + 2, withPad: " ", startingAt: 0) + "THRESHOLD      WEIGHT",
        ] + terms.map { key, side, threshold, weight in
            key.padding(toLength: width, withPad: " ", startingAt: 0) + String(format: "  %@ %10.4g  %10.4f", side, threshold, weight ?? .nan)
        }
    }

    /// Each indicator with a threshold, then each shortfall term: its key, suspicious side, threshold
    /// and weight in the fragility score.
    var terms: [(key: String, side: String, threshold: Double, weight: Double?)] {
        let weights = Dictionary(uniqueKeysWithValues: zip(fragility.terms, fragility.model.weights))
        return Indicator.allCases.compactMap { i in thresholds[i.key].map { (i.key, i.suspiciousWhenHigh ? ">" : "<", $0, weights[i.key]) } }
            + (fragility.shortfalls ?? []).map { s in (s.indicator.key + "_low", "<", s.median, weights[s.indicator.key + "_low"]) }
    }

    /// The score's L2 penalty and, when it was searched, the held-out AUROC of each one tried.
    static func penaltyLine(_ search: PenaltySearch?) -> String {
        guard let search else { return String(format: "L2 penalty %g (too few kinds of shift with wrong answers to choose it)", PenaltySearch.fallback) }
        let tried = zip(search.penalties, search.heldOutAUROC).map { String(format: "%g: %@", $0, $1.map { String(format: "%.4f", $0) } ?? "failed") }
        return String(format: "L2 penalty %g, the best mean AUROC with each of %d kinds of shift held out in turn (%@)",
                      search.chosen, search.folds.count, tried.joined(separator: ", "))
    }
}
