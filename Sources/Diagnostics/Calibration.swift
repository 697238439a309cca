import Foundation
import Networks
import Statistics

/// What `pcdiag calibrate` fits on labelled source data and stores in the model file: each indicator's
/// distribution on clean data (the reference for batch shift tests) with the value beyond which it is
/// unusual, and the fragility score — a logistic model over the indicators predicting a wrong answer —
/// with the score threshold that flags the chosen share of the errors on the calibration data.
public struct Calibration: Sendable, Equatable, Codable {
    /// How the indicators were computed: diagnoses must use the same to be comparable.
    public var options: DiagnosisOptions
    /// Each indicator's values on the clean calibration clouds, by key.
    public var references: [String: ReferenceDistribution]
    /// Per indicator key, the value at the suspicious 5 % tail of `references` (the 95th percentile,
    /// or the 5th for indicators that are suspicious when low).
    public var thresholds: [String: Double]
    public var fragility: FragilityModel
    /// Objects with `fragility` at or above it are flagged.
    public var fragilityThreshold: Double
    /// The fragility scores of the clean calibration clouds (a reference like the indicators').
    public var fragilityReference: ReferenceDistribution
    public var record: CalibrationRecord

    /// The tail probability each indicator's threshold cuts off on clean data.
    public static let tail = 0.05

    /// The verdict for one object.
    public func assess(_ indicators: Indicators) -> Assessment {
        let fragility = fragility.score(indicators)
        let contributions = fragility == nil ? [:] : self.fragility.contributions(indicators)
        // Each indicator beyond its threshold on its suspicious side; one the score also reads as a
        // shortfall, below its clean 5 % tail too.
        let sides = Indicator.allCases.compactMap { i in thresholds[i.key].map { (i, $0, !i.suspiciousWhenHigh) } }
            + (self.fragility.shortfalls ?? []).compactMap { s in
                s.indicator.suspiciousWhenHigh ? references[s.indicator.key].map { (s.indicator, quantile($0.quantiles, Self.tail), true) } : nil
            }
        let reasons = sides.compactMap { indicator, limit, below -> Reason? in
            guard let value = indicator.value(in: indicators), below ? value < limit : value > limit else { return nil }
            return Reason(indicator: indicator, value: value, threshold: limit, below: below)
        }.sorted { contributions[$0.indicator, default: 0] > contributions[$1.indicator, default: 0] }
        return Assessment(fragility: fragility, fragile: fragility.map { $0 >= fragilityThreshold }, reasons: reasons)
    }
}

/// Where a calibration came from.
public struct CalibrationRecord: Sendable, Equatable, Codable {
    public var data: String
    /// Clean clouds diagnosed, and shifted copies of them.
    public var clean: Int
    public var shifted: Int
    /// Wrong predictions among all of them: what the fragility model learned to flag.
    public var errors: Int
    /// The corruptions the shifted copies were drawn from ("kind:severity").
    public var corruptions: [String]
    public var seed: UInt64
    /// The share of errors the fragility threshold was set to flag, and what it flags on the calibration
    /// data: errors, and all clouds.
    public var targetRecall: Double
    public var errorRecall: Double
    public var flaggedShare: Double
    /// Error-detection AUROC of the fragility score on the calibration data (in-sample).
    public var auroc: Double?
    /// How the score's penalty was chosen; nil when it was not (the fallback 1e-2, or files calibrated before).
    public var penaltySearch: PenaltySearch?
}

/// A calibrated verdict: the fragility score, whether it crosses the threshold, and which indicators
/// are beyond theirs (the reasons), the ones weighing most in the score first.
public struct Assessment: Sendable, Equatable {
    /// Higher = more fragile: the calibrated probability that the prediction is wrong, under the mix of
    /// clean and shifted data it was fitted on. Nil when an indicator it needs was not computed.
    public var fragility: Double?
    public var fragile: Bool?
    public var reasons: [Reason]
}

public struct Reason: Sendable, Equatable, CustomStringConvertible {
    public var indicator: Indicator
    public var value: Double
    public var threshold: Double
    /// The value is below the threshold (else above).
    public var below: Bool

    public var description: String {
        "\(indicator.key) \(Self.format(value)) \(below ? "<" : ">") \(Self.format(threshold))"
    }

    static func format(_ x: Double) -> String { String(format: abs(x) >= 100 ? "%.0f" : "%.3g", x) }
}

/// Logistic regression over the indicators (as suspicion values, heavy-tailed ones on a log scale),
/// each weight ≥ 0: the score never falls as an indicator grows more suspicious. Unconstrained, the
/// weights of correlated indicators took opposite signs to fit the calibration's own corruptions
/// (DGCNN's energy weighed negative beside entropy and msp_score), which did not carry over to scans.
/// An indicator whose wrong answers on the calibration data lie on the other side than its meaning
/// says (the saliency statistics, whose direction no definition fixes: DGCNN's kurtosis is low on
/// the ring-pattern clouds it gets confidently wrong) also enters as its shortfall below its clean
/// median, again with a weight ≥ 0: the score may learn "unusually low" without counting high values
/// as reassuring. The L2 penalty is chosen per calibration by holding out each kind of shift
/// (`PenaltySearch`). How these choices were made and measured: docs/diagnostics.md.
public struct FragilityModel: Sendable, Equatable, Codable {
    public var indicators: [Indicator]
    /// The indicators that also enter as their shortfall below `median`, their median on the clean
    /// calibration clouds: max(f(median) − f(value), 0), f the indicator's feature (as for
    /// `indicators`), after all of `indicators`. Nil in files calibrated before.
    public var shortfalls: [Shortfall]?
    public var model: LogisticModel

    public struct Shortfall: Sendable, Equatable, Codable {
        public var indicator: Indicator
        public var median: Double
    }

    /// The model's input for one object; nil when one of its indicators is missing.
    public func features(_ values: Indicators) -> [Double]? {
        Self.row(values, indicators, shortfalls ?? [])
    }

    /// The names of the model's inputs, in order: each indicator's key, then "<key>_low" per shortfall.
    public var terms: [String] {
        indicators.map(\.key) + (shortfalls ?? []).map { $0.indicator.key + "_low" }
    }

    static func row(_ values: Indicators, _ indicators: [Indicator], _ shortfalls: [Shortfall]) -> [Double]? {
        var row = [Double]()
        for indicator in indicators {
            guard let v = feature(indicator, values) else { return nil }
            row.append(v)
        }
        for s in shortfalls {
            guard let v = feature(s.indicator, values) else { return nil }
            row.append(max(feature(s.indicator, s.median) - v, 0))
        }
        return row
    }

    static func feature(_ indicator: Indicator, _ values: Indicators) -> Double? {
        indicator.value(in: values).map { feature(indicator, $0) }
    }

    static func feature(_ indicator: Indicator, _ v: Double) -> Double {
        switch indicator {
        case .kurtosis: return log(max(v + 3, 1e-6))  // the raw kurtosis is positive
        case .mahalanobis: return log(max(v, 1e-6))
        default: return indicator.suspiciousWhenHigh ? v : -v
        }
    }

    public func score(_ values: Indicators) -> Double? {
        features(values).map { model.probability($0) }
    }

    /// Each indicator's push on the score's logit (weight × standardised value, its shortfall's added).
    func contributions(_ values: Indicators) -> [Indicator: Double] {
        guard let x = features(values) else { return [:] }
        let owners = indicators + (shortfalls ?? []).map(\.indicator)
        var out = [Indicator: Double]()
        for (j, indicator) in owners.enumerated() {
            out[indicator, default: 0] += model.weights[j] * (x[j] - model.means[j]) / model.scales[j]
        }
        return out
    }

    /// Fits on diagnosed clouds with whether each was answered wrongly; errors and correct answers
    /// weigh equally in total, so a rare error class still shapes the score. `clean` marks the clean
    /// calibration clouds, whose medians anchor the shortfalls; `l2` is the penalty (`PenaltySearch`).
    public static func fit(_ indicators: [Indicators], wrong: [Bool], clean: [Bool], using names: [Indicator],
                           l2: Double = PenaltySearch.fallback) throws -> FragilityModel {
        let errors = wrong.filter { $0 }.count
        guard errors > 0, errors < wrong.count else {
            throw DiagnosticsError.calibration("the calibration data gave \(errors) wrong answers in \(wrong.count): the fragility score needs both right and wrong ones")
        }
        let shortfalls = names.compactMap { name -> Shortfall? in
            let values = indicators.map { feature(name, $0)! }
            let cleanValues = zip(indicators, clean).compactMap { $1 ? name.value(in: $0)! : nil }
            guard let a = RankMetrics.auroc(scores: values, positives: wrong), a < 0.5, !cleanValues.isEmpty else { return nil }
            return Shortfall(indicator: name, median: quantile(cleanValues.sorted(), 0.5))
        }
        let rows = indicators.map { row($0, names, shortfalls)! }
        let weightWrong = Double(wrong.count) / (2 * Double(errors))
        let weightRight = Double(wrong.count) / (2 * Double(wrong.count - errors))
        let model = try LogisticModel.fit(features: rows, labels: wrong, l2: l2, sampleWeights: wrong.map { $0 ? weightWrong : weightRight },
                                          nonNegativeWeights: true)
        return FragilityModel(indicators: names, shortfalls: shortfalls, model: model)
    }
}

extension Calibration {
    /// Fits a calibration from diagnoses of clean labelled clouds and of shifted copies (wrong answers
    /// come mostly from those). `recall`: the share of wrong answers the fragility threshold flags.
    /// `shifts`: the corruption of each shifted copy ("kind:severity"), `shifted[i]` a copy of `clean[i]`;
    /// with them, the score's penalty is chosen by holding out each kind in turn (`PenaltySearch`).
    /// `data`, `shifts` and `seed` say where the diagnoses came from, for the record.
    public static func fit(clean: [Diagnosis], cleanLabels: [Int], shifted: [Diagnosis], shiftedLabels: [Int],
                           options: DiagnosisOptions, recall: Double, data: String, shifts: [String] = [],
                           seed: UInt64 = 0) throws -> Calibration {
        let all = clean + shifted
        let wrong = zip(all, cleanLabels + shiftedLabels).map { $0.prediction.label != $1 }
        let isClean = all.indices.map { $0 < clean.count }
        let available = Indicator.allCases.filter { i in all.allSatisfy { i.value(in: $0.indicators) != nil } }
        var references = [String: ReferenceDistribution](), thresholds = [String: Double]()
        for indicator in available {
            let values = clean.map { indicator.value(in: $0.indicators)! }
            references[indicator.key] = ReferenceDistribution(sample: values)
            let sorted = values.sorted()
            thresholds[indicator.key] = quantile(sorted, indicator.suspiciousWhenHigh ? 1 - tail : tail)
        }
        var search: PenaltySearch?
        if shifts.count == shifted.count, shifted.count == clean.count {
            let kinds = shifts.map { String($0.prefix { $0 != ":" }) }
            search = PenaltySearch.run(all.map(\.indicators), wrong: wrong, clean: isClean, groups: kinds + kinds, using: available)
        }
        let fragility = try FragilityModel.fit(all.map(\.indicators), wrong: wrong, clean: isClean, using: available,
                                               l2: search?.chosen ?? PenaltySearch.fallback)
        let scores = all.map { fragility.score($0.indicators)! }
        guard let limit = RankMetrics.threshold(forRecall: recall, scores: scores, positives: wrong) else {
            throw DiagnosticsError.calibration("no threshold reaches a recall of \(recall)")
        }
        let flagged = scores.map { $0 >= limit }
        let errors = wrong.filter { $0 }.count
        let record = CalibrationRecord(
            data: data, clean: clean.count, shifted: shifted.count, errors: errors, corruptions: Set(shifts).sorted(), seed: seed,
            targetRecall: recall, errorRecall: Double(zip(flagged, wrong).filter { $0 && $1 }.count) / Double(errors),
            flaggedShare: Double(flagged.filter { $0 }.count) / Double(flagged.count), auroc: RankMetrics.auroc(scores: scores, positives: wrong),
            penaltySearch: search)
        return Calibration(options: options, references: references, thresholds: thresholds, fragility: fragility,
                           fragilityThreshold: limit, fragilityReference: ReferenceDistribution(sample: Array(scores.prefix(clean.count))),
                           record: record)
    }
}

extension Calibration {
    static let metadataKey = "diagnostics"

    /// Read from a model's attachments; nil when the model was never calibrated.
    public init?(_ attachments: Attachments) throws {
        guard let json = attachments.metadata[Self.metadataKey] else { return nil }
        do {
            self = try JSONDecoder().decode(Calibration.self, from: Data(json.utf8))
        } catch {
            throw DiagnosticsError.calibration("the stored calibration is not valid (recalibrate with pcdiag calibrate)")
        }
    }

    /// Why a stored calibration cannot be used (options out of bounds, figures that do not fit the
    /// fragility model), or nil when it can.
    var problem: String? {
        if let problem = options.problem { return "it asks for " + problem }
        let terms = fragility.terms.count, m = fragility.model
        if m.weights.count != terms || m.means.count != terms || m.scales.count != terms {
            return "the fragility model has \(m.weights.count) weights, \(m.means.count) means and \(m.scales.count) scales for \(terms) terms"
        }
        let figures = m.weights + m.means + m.scales + [m.intercept, fragilityThreshold] + Array(thresholds.values)
            + (fragility.shortfalls ?? []).map(\.median)
        if !figures.allSatisfy(\.isFinite) || !m.scales.allSatisfy({ $0 > 0 }) { return "the fragility model holds a non-finite figure" }
        for (key, reference) in references.sorted(by: { $0.key < $1.key }) + [("fragility", fragilityReference)] {
            let q = reference.quantiles
            if q.isEmpty || q.count > 1_000_000 || !q.allSatisfy(\.isFinite) || zip(q, q.dropFirst()).contains(where: { $0 > $1 }) {
                return "the reference distribution of \(key) is not an ascending list of 1 to 10⁶ numbers"
            }
        }
        let shortfallKeys = (fragility.shortfalls ?? []).map(\.indicator.key)
        if let key = shortfallKeys.first(where: { references[$0] == nil }) { return "the indicator \(key) has no reference distribution" }
        return nil
    }

    /// Fails only when a stored figure is not finite (JSON cannot hold it).
    public func store(in attachments: inout Attachments) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        attachments.metadata[Self.metadataKey] = String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
