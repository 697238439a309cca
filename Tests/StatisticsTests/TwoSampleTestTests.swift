import Foundation
import Statistics
import Support
import Testing

private func normalSample(_ n: Int, mean: Double, step: Double?, rng: inout SeededGenerator) -> [Double] {
    (0 ..< n).map { _ in
        // Box–Muller; rounding to `step` makes ties.
        let u = Double.random(in: Double.ulpOfOne ..< 1, using: &rng), v = Double.random(in: 0 ..< 1, using: &rng)
        let x = mean + (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        return step.map { (x / $0).rounded() * $0 } ?? x
    }
}

// Samples and reference values from NumPy (seed 7, rounded to 0.1 and 0.01) and SciPy 1.17.1:
// D from `ks_2samp(x, y, method='asymp').statistic`, p from `kstwobign.sf(λ)` with Stephens' λ.
// SciPy's own asymptotic p-values (0.6401 and 2.713e-6) use `kstwo.sf(D, round(nₑ))`, a different
// approximation, so they are not compared.
private let ksX1 = [0.1, 0.1, -1.2, 0.1, 1.4, -1.5, 0.9, 0.1, -0.6, 2.0, 0.8, -1.2, 0.1, 0.6, -0.2, 0.7, -0.1, 0.7, 1.4, -0.7,
                    0.2, -0.5, 0.1, -1.2, -0.6, -0.2, 0.9, 1.1, -1.3, -0.8]
private let ksY1 = [1.1, -2.1, -0.3, 0.2, 1.8, 1.1, -0.1, -0.1, -0.0, 2.1, -0.2, -0.1, 0.7, 0.2, 0.1, -1.0, 0.3, -0.2, 1.7, 1.1,
                    0.3, 1.1, -0.1, 1.6, 0.3, 1.0, -1.2, 0.7, -1.7, -2.1, -0.1, -0.8, 0.5, 3.0, -0.7, -0.4, 0.5, 0.9, 0.1, 0.1,
                    1.1, 0.9, -0.9, 0.2, 0.3]
private let ksX2 = [-1.05, 0.26, -0.86, 0.97, 0.19, 0.09, -0.59, -0.12, -2.0, -1.13, 0.36, -2.13, 0.85, -1.75, 0.76, -0.85, 0.78,
                    0.13, -1.54, 1.25, 1.44, -0.07, -0.27, -0.16, -0.98, 1.1, -0.54, -0.05, -0.79, -0.63, -1.28, 1.26, -0.15, 0.97,
                    0.01, -0.69, -0.33, -0.56, 0.01, -0.38]
private let ksY2 = [0.6, -0.48, 0.09, 2.55, 0.23, -0.15, 1.24, 2.31, -0.55, 0.69, 0.27, -0.86, 1.63, 0.88, 0.97, 0.15, 1.35, 0.36,
                    0.76, -0.21, -0.32, 2.24, 0.39, 1.19, 0.87, 0.46, 0.39, 1.53, 0.6, 0.75, 0.92, 2.08, 1.58, 1.28, 0.34, -0.48,
                    1.85, 1.87, 0.76, 1.44, 1.68, 1.73, 1.82, 0.44, 2.41, -0.35, 1.76, 1.39, 1.77, 2.78]

@Test func kolmogorovSmirnovMatchesSciPy() throws {
    let first = try #require(KolmogorovSmirnov(ksX1, ksY1))
    #expect(first.statistic == 0.16666666666666663)
    #expect(abs(first.pValue - 0.6584781905494749) <= 1e-12 * 0.66)
    let second = try #require(KolmogorovSmirnov(ksX2, ksY2))
    #expect(second.statistic == 0.53)
    #expect(abs(second.pValue - 3.5024793029746397e-06) <= 1e-12 * 3.5e-6)
}

/// Both forms of Q_KS and the switch between them, against SciPy 1.17.1's `kstwobign.sf`.
@Test(arguments: [(0.1, 1.0), (0.2, 0.999999999999495), (0.5, 0.9639452436648751), (0.8, 0.5441424115741981),
                  (1.0, 0.26999967167735456), (1.17, 0.12939004218561884), (1.19, 0.11774229287977166),
                  (1.5, 0.022217962616525127), (2.0, 0.0006709252557796953), (3.0, 3.045995948942526e-08),
                  (5.0, 3.8574996959278356e-22)])
func kolmogorovSurvivalMatchesSciPy(lambda: Double, expected: Double) {
    #expect(abs(KolmogorovSmirnov.kolmogorovSurvival(lambda) - expected) <= 1e-13 * expected)
}

@Test func kolmogorovSmirnovEdgeCases() throws {
    let same = try #require(KolmogorovSmirnov([3, 1, 2, 2], [2, 1, 3, 2]))
    #expect(same.statistic == 0 && same.pValue == 1)
    // Disjoint samples, and ties across them counted at their value, not in between.
    #expect(KolmogorovSmirnov([1, 2, 3], [4, 5])?.statistic == 1)
    #expect(KolmogorovSmirnov([1, 2, 2, 3], [2, 2, 2, 2])?.statistic == 0.25)
    #expect(KolmogorovSmirnov([], [1]) == nil)
    #expect(KolmogorovSmirnov([1], reference: ReferenceDistribution(sample: [])) == nil)
}

@Test func referenceKeepsTypeSevenQuantiles() throws {
    let sample = (0 ..< 1000).reversed().map(Double.init)
    #expect(ReferenceDistribution(sample: sample, quantiles: 4).quantiles == [0, 333, 666, 999])
    #expect(ReferenceDistribution(sample: sample, quantiles: 5).quantiles == [0, 249.75, 499.5, 749.25, 999])
    let small = ReferenceDistribution(sample: [3, 1, 2], quantiles: 4)
    #expect(small.quantiles == [1, 2, 3] && small.count == 3)
    let reference = ReferenceDistribution(sample: sample, quantiles: 16)
    #expect(reference.count == 1000)
    #expect(try JSONDecoder().decode(ReferenceDistribution.self, from: JSONEncoder().encode(reference)) == reference)
}

@Test func referenceTestsAreExactForSmallSamples() {
    var rng = SeededGenerator(seed: 3)
    let reference = normalSample(200, mean: 0, step: 0.1, rng: &rng)
    let batch = normalSample(80, mean: 0.4, step: 0.1, rng: &rng)
    let stored = ReferenceDistribution(sample: reference, quantiles: 256)
    #expect(KolmogorovSmirnov(batch, reference: stored) == KolmogorovSmirnov(batch, reference))
    #expect(CliffsDelta(batch, reference: stored) == CliffsDelta(batch, reference))
}

/// The documented bounds: 1/q on D, 2/q on δ, for continuous and tied samples and several shifts.
@Test(arguments: [16, 64, 256])
func referenceTestsAreCloseForCompressedSamples(q: Int) throws {
    var rng = SeededGenerator(seed: UInt64(q))
    for step in [nil, 0.1, 0.5] {
        let reference = normalSample(3000, mean: 0, step: step, rng: &rng)
        let stored = ReferenceDistribution(sample: reference, quantiles: q)
        #expect(stored.quantiles.count == q)
        for shift in [0.0, 0.1, 0.5, 2.0] {
            let batch = normalSample(200, mean: shift, step: step, rng: &rng)
            let full = try #require(KolmogorovSmirnov(batch, reference))
            let compact = try #require(KolmogorovSmirnov(batch, reference: stored))
            #expect(abs(compact.statistic - full.statistic) <= 1 / Double(q))
            let delta = try #require(CliffsDelta(batch, reference))
            let compactDelta = try #require(CliffsDelta(batch, reference: stored))
            #expect(abs(compactDelta.delta - delta.delta) <= 2 / Double(q))
        }
    }
}

@Test func referenceTestUsesTheSampleSizeForThePValue() throws {
    let reference = (0 ..< 1000).map(Double.init)
    let batch = [2000.0, 2001, 2002]
    // D = 1 either way, so equal p-values mean the same m.
    let compact = try #require(KolmogorovSmirnov(batch, reference: ReferenceDistribution(sample: reference, quantiles: 8)))
    #expect(compact == KolmogorovSmirnov(batch, reference))
}

@Test func cliffsDeltaIsThePairwiseBalance() throws {
    var rng = SeededGenerator(seed: 9)
    for step in [0.5, 1.0] {
        let x = normalSample(70, mean: 0.3, step: step, rng: &rng), y = normalSample(90, mean: 0, step: step, rng: &rng)
        var balance = 0
        for a in x { for b in y { balance += a > b ? 1 : a < b ? -1 : 0 } }
        let value = try #require(CliffsDelta(x, y)).delta
        #expect(abs(value - Double(balance) / Double(x.count * y.count)) <= 1e-15)
    }
    #expect(CliffsDelta([5, 6], [1, 2, 3])?.delta == 1)
    #expect(CliffsDelta([1, 2], [5, 6, 7])?.delta == -1)
    #expect(CliffsDelta([1, 2, 2], [2, 1, 2])?.delta == 0)
    #expect(CliffsDelta([], [1]) == nil)
}

@Test(arguments: [(0.0, EffectMagnitude.negligible), (-0.1469, .negligible), (0.147, .small), (-0.3299, .small),
                  (0.33, .medium), (0.4739, .medium), (-0.474, .large), (1, .large)])
func effectMagnitudeFollowsRomano(delta: Double, expected: EffectMagnitude) {
    #expect(EffectMagnitude(cliffsDelta: delta) == expected)
}
