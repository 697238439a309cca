import Engine
import EngineTestSupport
import Foundation
import Support
import Testing

/// Soft-target, weighted cross-entropy (mixup labels, gated samples) against finite differences and
/// the hard-label form.
@Suite struct LossTests {
    @Test func softTargetGradientMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 2)
        let logits = Tensor<Double>(shape: [4, 5], values: (0 ..< 20).map { _ in Double.random(in: -3 ... 3, using: &rng) })
        let targets = (0 ..< 4).map { _ in
            let raw = (0 ..< 5).map { _ in Double.random(in: 0 ... 1, using: &rng) }
            return raw.map { $0 / raw.reduce(0, +) }
        }
        let weights = [1.0, 0, 0.5, 2]
        let loss = SoftmaxCrossEntropy<Double>(labelSmoothing: 0.1)
        let gradient = Tensor<Double>(shape: [0])
        _ = loss(logits, targets: targets, weights: weights, gradient: gradient)
        let analytic = gradient.array
        let scratch = Tensor<Double>(shape: [0])
        let numeric = (0 ..< 20).map { i in
            let saved = logits[i]
            logits[i] = saved + 1e-6
            let plus = loss(logits, targets: targets, weights: weights, gradient: scratch)
            logits[i] = saved - 1e-6
            let minus = loss(logits, targets: targets, weights: weights, gradient: scratch)
            logits[i] = saved
            return (plus - minus) / 2e-6
        }
        #expect(GradientCheck.relativeError(analytic, numeric) < 1e-6)
        #expect(analytic[5 ..< 10].allSatisfy { $0 == 0 }, "a row of weight 0 gets no gradient")
    }

    @Test func oneHotTargetsAreTheLabelForm() {
        let logits = Tensor<Double>(shape: [2, 3], values: [1, 2, 0.5, -1, 0, 3])
        let (g1, g2) = (Tensor<Double>(shape: [0]), Tensor<Double>(shape: [0]))
        let loss = SoftmaxCrossEntropy<Double>(labelSmoothing: 0.2)
        let a = loss(logits, labels: [1, 0], gradient: g1)
        let b = loss(logits, targets: [[0, 1, 0], [1, 0, 0]], weights: [3, 3], gradient: g2)
        #expect(abs(a - b) < 1e-12)
        #expect(GradientCheck.relativeError(g1.array, g2.array) < 1e-12)
        // By hand for the first row: −Σ q log p with q = (0.2/3, 0.8 + 0.2/3, 0.2/3).
        let p = [1.0, 2, 0.5].map { exp($0) }, z = p.reduce(0, +)
        let q = [0.2 / 3, 0.8 + 0.2 / 3, 0.2 / 3]
        let row0 = -zip(q, p).reduce(0) { $0 + $1.0 * log($1.1 / z) }
        let row1 = loss(Tensor(shape: [1, 3], values: [-1, 0, 3]), labels: [0], gradient: Tensor(shape: [0]))
        #expect(abs(a - (row0 + row1) / 2) < 1e-12)
    }
}
