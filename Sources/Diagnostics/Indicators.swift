import Foundation
import Networks

/// Per-object indicators of how far to trust a prediction: the saliency and softmax ones from one
/// forward and one backward pass, the feature distance from the same forward pass, the stability ones
/// (`flipRate`, `dropRounds`) from extra passes. Which direction is suspicious: `Indicator.suspiciousWhenHigh`.
public struct Indicators: Sendable, Equatable {
    /// Population skewness of the saliency map over distinct points.
    public var skewness: Double
    /// Population excess kurtosis of the same values.
    public var kurtosis: Double
    /// Gini coefficient of |s| over distinct points: 0 when every point matters equally, near 1 when
    /// one point carries everything.
    public var gini: Double
    /// Share of Σ|s| carried by the 10 % of distinct points with the largest |s|.
    public var top10Mass: Double
    /// 1 − max softmax probability.
    public var mspScore: Double
    /// −log Σ exp(logits) (Liu et al. 2020): higher for inputs unlike the training data.
    public var energy: Double
    /// Entropy of the softmax, in nats.
    public var entropy: Double
    /// Top probability minus the second.
    public var margin: Double
    /// Mahalanobis distance of the pooled feature to the nearest training class (`FeatureStatistics`);
    /// nil when the model carries no feature statistics.
    public var mahalanobis: Double?
    /// Fraction of seeded trials, each dropping a random 10 % of the points, whose class differs.
    public var flipRate: Double?
    /// Rounds of dropping the most salient points (saliency recomputed each round) until the class
    /// changes; rounds + 1 when it never did.
    public var dropRounds: Double?

    /// The saliency statistics are taken over distinct points: a cloud resampled up to the network's
    /// size repeats points, and the max pool sends a repeated point's gradient to one copy, so each
    /// location's values are summed first (its whole effect), and the copies counted once.
    public init(map: SaliencyMap, points: [SIMD3<Float>]) {
        precondition(points.count == map.values.count, "one saliency value per point")
        let values = distinctPointSaliency(map.values, points: points)
        let moments = Moments(values.map { Float($0) })
        skewness = moments.skewness
        kurtosis = moments.excessKurtosis
        let magnitudes = values.map(abs).sorted()
        let total = magnitudes.reduce(0, +), n = Double(magnitudes.count)
        if total > 0 {
            // Gini = Σ (2i − n − 1) xᵢ / (n Σ x) with x sorted ascending, i from 1.
            gini = magnitudes.enumerated().reduce(0) { $0 + (2 * Double($1.offset + 1) - n - 1) * $1.element } / (n * total)
            let top = max(1, Int((0.1 * n).rounded(.up)))
            top10Mass = magnitudes.suffix(top).reduce(0, +) / total
        } else {
            gini = 0
            top10Mass = 0
        }
        let probabilities = map.prediction.probabilities.map(Double.init).sorted(by: >)
        mspScore = 1 - probabilities[0]
        margin = probabilities[0] - (probabilities.count > 1 ? probabilities[1] : 0)
        entropy = -probabilities.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
        let logits = map.prediction.logits.map(Double.init), top = logits.max() ?? 0
        energy = -(top + log(logits.reduce(0) { $0 + exp($1 - top) }))
    }
}

/// The indicators by machine-readable name, with the direction that raises suspicion — fixed by what
/// each one means, not fitted, so single-indicator figures are not flattered by the data they are
/// measured on.
public enum Indicator: String, CaseIterable, Sendable, Codable {
    case skewness, kurtosis, gini
    case top10Mass = "top10_mass"
    case mspScore = "msp_score"
    case energy, entropy, margin, mahalanobis
    case flipRate = "flip_rate"
    case dropRounds = "drop_rounds"

    public var key: String { rawValue }

    /// High saliency skew / kurtosis / concentration: the prediction hangs on a few points (DESIGN §3).
    /// A large margin or many rounds before a flip mean a firm answer.
    public var suspiciousWhenHigh: Bool { self != .margin && self != .dropRounds }

    public func value(in indicators: Indicators) -> Double? {
        switch self {
        case .skewness: indicators.skewness
        case .kurtosis: indicators.kurtosis
        case .gini: indicators.gini
        case .top10Mass: indicators.top10Mass
        case .mspScore: indicators.mspScore
        case .energy: indicators.energy
        case .entropy: indicators.entropy
        case .margin: indicators.margin
        case .mahalanobis: indicators.mahalanobis
        case .flipRate: indicators.flipRate
        case .dropRounds: indicators.dropRounds
        }
    }

    /// The value turned so that higher is more suspicious.
    public func suspicion(in indicators: Indicators) -> Double? {
        value(in: indicators).map { suspiciousWhenHigh ? $0 : -$0 }
    }
}

/// Every per-object number a prediction is scored by: each indicator, and the calibrated fragility
/// score that combines them. Rows, the shift test and the error-detection figures are keyed by it.
public enum Score: Hashable, Sendable {
    case indicator(Indicator)
    case fragility

    /// The indicators in their fixed order, then fragility.
    public static let all: [Score] = Indicator.allCases.map(Score.indicator) + [.fragility]

    /// The machine-readable name in rows and summaries.
    public var key: String {
        switch self {
        case .indicator(let i): i.key
        case .fragility: "fragility"
        }
    }

    public init?(key: String) {
        if key == "fragility" { self = .fragility } else if let i = Indicator(rawValue: key) { self = .indicator(i) } else { return nil }
    }

    /// Fragility, like most indicators, is suspicious when high.
    public var suspiciousWhenHigh: Bool {
        switch self {
        case .indicator(let i): i.suspiciousWhenHigh
        case .fragility: true
        }
    }

    /// The value turned so that higher is more suspicious.
    public func suspicion(_ value: Double) -> Double { suspiciousWhenHigh ? value : -value }

    /// The score of one diagnosed object; nil when not computed (fragility without a calibration).
    public func value(in indicators: Indicators, assessment: Assessment?) -> Double? {
        switch self {
        case .indicator(let i): i.value(in: indicators)
        case .fragility: assessment?.fragility
        }
    }
}
