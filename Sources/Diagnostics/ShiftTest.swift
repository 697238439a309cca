import Foundation
import Statistics

/// Does a batch of scans look like the data the model was calibrated on? Per indicator, a two-sample
/// Kolmogorov–Smirnov test of the batch's values against the stored reference, with Cliff's δ as the
/// effect size. An indicator counts as shifted when its Bonferroni-adjusted p-value is below `alpha`
/// *and* the effect is at least medium (|δ| ≥ 0.33, Romano et al. 2006): with hundreds of objects a
/// KS test finds negligible differences significant, and a shift nobody would act on is not reported.
/// Per object, saliency skewness is a weak signal; as a distribution over a batch it is a real one
/// (DESIGN §4) — this is where it is used that way.
public struct ShiftTest: Sendable {
    public struct Result: Sendable {
        public var score: Score
        public var key: String { score.key }
        public var count: Int
        /// KS D, its p-value and the p-value × the number of tests (capped at 1).
        public var statistic: Double
        public var pValue: Double
        public var adjustedPValue: Double
        /// Cliff's δ of the batch against the reference: positive when the batch lies higher.
        public var delta: Double
        public var magnitude: EffectMagnitude
        public var shifted: Bool
    }

    public static let alpha = 0.01
    /// Fewer objects than this give no verdict.
    public static let minimumCount = 20

    public var results: [Result]
    /// Nil when the batch is too small to say.
    public var shifted: Bool?

    /// `values`: each score's values over the batch.
    public init(_ values: [Score: [Double]], calibration: Calibration) {
        let scores = Score.all.filter { calibration.reference(for: $0) != nil && !(values[$0] ?? []).isEmpty }
        results = scores.compactMap { score in
            let batch = values[score]!, reference = calibration.reference(for: score)!
            guard let ks = KolmogorovSmirnov(batch, reference: reference), let cliff = CliffsDelta(batch, reference: reference) else { return nil }
            let adjusted = min(1, ks.pValue * Double(scores.count))
            let large = cliff.magnitude == .medium || cliff.magnitude == .large
            return Result(score: score, count: batch.count, statistic: ks.statistic, pValue: ks.pValue, adjustedPValue: adjusted,
                          delta: cliff.delta, magnitude: cliff.magnitude, shifted: adjusted < Self.alpha && large)
        }
        let count = values.values.map(\.count).max() ?? 0
        shifted = count < Self.minimumCount ? nil : results.contains(where: \.shifted)
    }

    /// One plain sentence.
    public var verdict: String {
        guard let shifted else { return "Too few objects (fewer than \(Self.minimumCount)) to compare with the training data." }
        guard shifted else { return "The batch looks like the training data: no indicator differs by more than a small effect." }
        let moved = results.filter(\.shifted).sorted { abs($0.delta) > abs($1.delta) }.map { r in
            "\(r.key) \(r.delta > 0 ? "higher" : "lower") (δ = \(String(format: "%+.2f", r.delta)), p = \(Self.format(r.adjustedPValue)))"
        }
        return "The batch differs from the training data: " + moved.joined(separator: ", ") + "."
    }

    /// A p-value for reading: 4 decimals, or its order of magnitude when smaller.
    public static func format(_ p: Double) -> String { p < 1e-4 ? String(format: "%.0e", max(p, 1e-300)) : String(format: "%.4f", p) }
}

extension Calibration {
    /// The clean-data distribution a score's batch values are compared with.
    public func reference(for score: Score) -> ReferenceDistribution? {
        switch score {
        case .indicator(let i): references[i.key]
        case .fragility: fragilityReference
        }
    }
}
