import Foundation

/// Two-sample Kolmogorov–Smirnov test: D = sup |F(x) − G(x)| between the empirical CDFs of two
/// samples, with the asymptotic p-value of Numerical Recipes (3rd ed., §14.3):
/// p = Q_KS((√nₑ + 0.12 + 0.11/√nₑ)·D), nₑ = nm/(n + m), where
/// Q_KS(λ) = 2 Σ_{j≥1} (−1)^{j−1} e^{−2j²λ²} is the Kolmogorov distribution's survival function.
///
/// D is exact with ties: the CDFs are compared at every distinct value of the pooled sample, after
/// all copies of it. The p-value is asymptotic; Numerical Recipes finds it good from nₑ ≥ 4. It is not
/// SciPy ≥ 1.5's `ks_2samp(method='asymp')`, which evaluates the exact one-sample distribution at
/// n = round(nₑ); Stephens' 0.12 + 0.11/√nₑ correction serves the same purpose.
public struct KolmogorovSmirnov: Sendable, Equatable {
    /// D ∈ [0, 1].
    public var statistic: Double
    /// Q_KS(λ) ∈ [0, 1], accurate to double precision for the given λ.
    public var pValue: Double

    /// The test between two samples; nil when either is empty.
    ///
    /// - Precondition: no value is NaN.
    /// - Complexity: O(n log n + m log m).
    public init?(_ x: [Double], _ y: [Double]) {
        guard !x.isEmpty, !y.isEmpty else { return nil }
        self.init(checkedAscending(x), ascendingReference: checkedAscending(y), referenceCount: y.count)
    }

    /// The test between a batch and a reference kept as quantiles: D against the quantiles' empirical
    /// CDF (within 1/q of D against the full reference, see `ReferenceDistribution`), the p-value with
    /// m = `reference.count`. Nil when the batch or the reference is empty.
    ///
    /// - Precondition: no value is NaN.
    /// - Complexity: O(n log n + q).
    public init?(_ batch: [Double], reference: ReferenceDistribution) {
        guard !batch.isEmpty, !reference.quantiles.isEmpty, reference.count > 0 else { return nil }
        self.init(checkedAscending(batch), ascendingReference: reference.quantiles, referenceCount: reference.count)
    }

    private init(_ x: [Double], ascendingReference y: [Double], referenceCount m: Int) {
        let nx = Double(x.count), ny = Double(y.count)
        var i = 0, j = 0, d = 0.0
        // Once one sample is used up its CDF is 1 and the gap can only shrink.
        while i < x.count, j < y.count {
            let value = min(x[i], y[j])
            while i < x.count, x[i] == value { i += 1 }
            while j < y.count, y[j] == value { j += 1 }
            d = max(d, abs(Double(i) / nx - Double(j) / ny))
        }
        let effective = (Double(x.count) * Double(m) / (Double(x.count) + Double(m))).squareRoot()
        statistic = d
        pValue = Self.kolmogorovSurvival((effective + 0.12 + 0.11 / effective) * d)
    }

    /// Q_KS(λ), summed in whichever of its two forms converges fast (as Numerical Recipes' `KSdist`, §6.14):
    /// for λ ≥ 1.18 the alternating series, three terms; below, Jacobi's dual form
    /// 1 − Q = (√(2π)/λ) Σ_{j≥1} e^{−(2j−1)²π²/(8λ²)}, four terms. The neglected terms are below 1e-18
    /// of the result, and the result stays in [0, 1] (about [0.12, 1] below 1.18 and (0, 0.13] above),
    /// so no clamping is needed.
    public static func kolmogorovSurvival(_ lambda: Double) -> Double {
        // Below 0.15, 1 − Q < 1e-22: p is 1 in Double, and λ = 0 would give 0 · ∞ below.
        guard lambda > 0.15 else { return 1 }
        if lambda < 1.18 {
            let y = exp(-Double.pi * .pi / (8 * lambda * lambda))
            return 1 - (2 * Double.pi).squareRoot() / lambda * (y + pow(y, 9) + pow(y, 25) + pow(y, 49))
        }
        let x = exp(-2 * lambda * lambda)
        return 2 * (x - pow(x, 4) + pow(x, 9))
    }
}

/// Cliff's delta between a batch X and a reference Y: δ = P(X > Y) − P(X < Y) over all pairs, in
/// [−1, 1]; positive when the batch tends to lie above the reference. Ties count for neither side.
public struct CliffsDelta: Sendable, Equatable {
    public var delta: Double

    /// Romano et al.'s (2006) reading of |δ|.
    public var magnitude: EffectMagnitude { EffectMagnitude(cliffsDelta: delta) }

    /// δ over the n·m pairs; nil when either sample is empty.
    ///
    /// - Precondition: no value is NaN.
    /// - Complexity: O(n log n + m log m).
    public init?(_ batch: [Double], _ reference: [Double]) {
        guard !batch.isEmpty, !reference.isEmpty else { return nil }
        delta = Self.delta(checkedAscending(batch), checkedAscending(reference))
    }

    /// δ against the reference's quantiles, each standing for 1/q of it: within 2/q of δ against the
    /// full reference (see `ReferenceDistribution`). Nil when the batch or the reference is empty.
    ///
    /// - Precondition: no value is NaN.
    /// - Complexity: O(n log n + q).
    public init?(_ batch: [Double], reference: ReferenceDistribution) {
        guard !batch.isEmpty, !reference.quantiles.isEmpty else { return nil }
        delta = Self.delta(checkedAscending(batch), reference.quantiles)
    }

    /// Both ascending: for each x, the y below it are y[..<below], those not above it y[..<notAbove].
    private static func delta(_ x: [Double], _ y: [Double]) -> Double {
        var below = 0, notAbove = 0, wins = 0
        for value in x {
            while below < y.count, y[below] < value { below += 1 }
            while notAbove < y.count, y[notAbove] <= value { notAbove += 1 }
            wins += below - (y.count - notAbove)
        }
        return Double(wins) / (Double(x.count) * Double(y.count))
    }
}

/// The size of an effect by Cliff's delta, with Romano et al.'s (2006) thresholds on |δ|:
/// below 0.147 negligible, below 0.33 small, below 0.474 medium, otherwise large.
public enum EffectMagnitude: String, Codable, Sendable, CaseIterable {
    case negligible, small, medium, large

    /// - Precondition: δ is not NaN.
    public init(cliffsDelta delta: Double) {
        precondition(!delta.isNaN, "Cliff's delta is NaN")
        switch abs(delta) {
        case ..<0.147: self = .negligible
        case ..<0.33: self = .small
        case ..<0.474: self = .medium
        default: self = .large
        }
    }
}
