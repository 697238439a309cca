import Foundation
import Statistics
import Testing

private let features: [[Double]] = [
    [0.5, 120, -1], [1.2, 80, 0], [-0.3, 150, 1], [2.0, 95, 0.5], [0.8, 110, -0.5], [-1.1, 160, 2], [1.5, 70, 1.5],
    [0.1, 130, -2], [1.9, 60, 0], [-0.7, 140, 0.5], [0.9, 100, 1], [-1.5, 170, -1], [1.1, 90, -1.5], [0.3, 125, 2.5],
    [2.4, 85, 0], [-0.2, 105, -0.5],
]
private let labels = [1, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 0].map { $0 == 1 }
private let sampleWeights: [Double] = [1, 2, 1, 1, 3, 1, 1, 2, 1, 1, 1, 1, 2, 1, 1, 1]
private let queries: [[Double]] = [[1, 100, 0], [-1, 150, 1]]

/// The gradient of (1/S) Σ sᵢ [log(1 + e^{zᵢ}) − yᵢ zᵢ] + (λ/2)‖w‖² at the model's parameters, on
/// features standardised here (weighted mean, weighted population deviation); also checks that the
/// model stored the same standardisation.
private func penalisedGradient(_ model: LogisticModel, _ x: [[Double]], _ y: [Bool], l2: Double, weights: [Double]? = nil) -> [Double] {
    let s = weights ?? x.map { _ in 1 }, total = s.reduce(0, +), p = x[0].count
    let means = (0 ..< p).map { j in zip(s, x).reduce(0) { $0 + $1.0 * $1.1[j] } / total }
    let deviations = (0 ..< p).map { j in (zip(s, x).reduce(0) { $0 + $1.0 * ($1.1[j] - means[j]) * ($1.1[j] - means[j]) } / total).squareRoot() }
    for j in 0 ..< p {
        #expect(abs(model.means[j] - means[j]) <= 1e-12 * max(1, abs(means[j])))
        #expect(abs(model.scales[j] - deviations[j]) <= 1e-12 * deviations[j])
    }
    var gradient = [0.0] + model.weights.map { l2 * $0 }
    for i in x.indices {
        let standardised = (0 ..< p).map { (x[i][$0] - means[$0]) / deviations[$0] }
        let z = model.intercept + zip(model.weights, standardised).reduce(0) { $0 + $1.0 * $1.1 }
        let residual = s[i] / total * (1 / (1 + Foundation.exp(-z)) - (y[i] ? 1 : 0))
        gradient[0] += residual
        for j in 0 ..< p { gradient[j + 1] += residual * standardised[j] }
    }
    return gradient
}

private func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

// Reference fits: scikit-learn 1.9.1, `StandardScaler().fit(X, sample_weight=s)` then
// `LogisticRegression(C=1/(λ·Σs), solver='newton-cholesky', tol=1e-12).fit(Z, y, sample_weight=s)`
// with λ = 0.1 — the same objective, sklearn's C Σ sᵢ loss + ½‖w‖² divided by C·Σs.

@Test func fitMatchesScikitLearn() throws {
    let model = try LogisticModel.fit(features: features, labels: labels, l2: 0.1)
    #expect(maxDifference(model.means, [0.55625, 111.875, 0.15625]) <= 1e-12)
    #expect(maxDifference(model.scales, [1.0954272853548974, 31.26874437837247, 1.2082884330738253]) <= 1e-12)
    #expect(maxDifference(model.weights, [0.8962282376047592, -0.6679175560706127, 0.18321039258435268]) <= 1e-8)
    #expect(abs(model.intercept - -0.04048718113458759) <= 1e-8)
    let expected = [0.39284172399456924, 0.7582987722503144, 0.19349376251148584, 0.8253904329026943, 0.5248502578557054,
                    0.10489632802401443, 0.861746101289085, 0.2445529497067703, 0.8950404523286034, 0.1656277999499603,
                    0.6507519067063665, 0.04149832592710991, 0.6503350228366351, 0.45633199607647884, 0.8827110308707097,
                    0.35163313676949753]
    #expect(maxDifference(features.map(model.probability), expected) <= 1e-8)
    #expect(maxDifference(queries.map(model.probability), [0.6347231381068457, 0.11918463660792677]) <= 1e-8)
    #expect(penalisedGradient(model, features, labels, l2: 0.1).allSatisfy { abs($0) <= 1e-12 })
}

@Test func weightedFitMatchesScikitLearnAndDuplicatedSamples() throws {
    let model = try LogisticModel.fit(features: features, labels: labels, l2: 0.1, sampleWeights: sampleWeights)
    #expect(maxDifference(model.means, [0.6142857142857143, 110.0, -0.09523809523809523]) <= 1e-12)
    #expect(maxDifference(model.scales, [0.9799347472375584, 28.78491668515698, 1.201378648718368]) <= 1e-12)
    #expect(maxDifference(model.weights, [0.7927572079266649, -0.7582002622522849, 0.2259745547998365]) <= 1e-8)
    #expect(abs(model.intercept - -0.1914046913308879) <= 1e-8)
    #expect(maxDifference(queries.map(model.probability), [0.5991560943111718, 0.08746855879313314]) <= 1e-8)
    #expect(penalisedGradient(model, features, labels, l2: 0.1, weights: sampleWeights).allSatisfy { abs($0) <= 1e-12 })

    let repeats = sampleWeights.map { Int($0) }
    let duplicated = try LogisticModel.fit(features: zip(features, repeats).flatMap { Array(repeating: $0.0, count: $0.1) },
                                           labels: zip(labels, repeats).flatMap { Array(repeating: $0.0, count: $0.1) }, l2: 0.1)
    #expect(maxDifference(duplicated.means + duplicated.scales, model.means + model.scales) <= 1e-12)
    #expect(maxDifference(duplicated.weights + [duplicated.intercept], model.weights + [model.intercept]) <= 1e-10)
}

@Test func separableDataGivesFiniteWeights() throws {
    let x: [[Double]] = [[-3, 1], [-2, 0], [-1, 2], [1, 1], [2, -1], [3, 0]]
    let y = [false, false, false, true, true, true]
    let model = try LogisticModel.fit(features: x, labels: y, l2: 1e-3)
    #expect((model.weights + [model.intercept]).allSatisfy { $0.isFinite })
    #expect(zip(x, y).allSatisfy { ($1 ? 1 : -1) * (model.probability($0) - 0.5) > 0 })
    #expect(penalisedGradient(model, x, y, l2: 1e-3).allSatisfy { abs($0) <= 1e-12 })
}

@Test func constantFeatureKeepsScaleOneAndNoWeight() throws {
    let x = features.map { [$0[0], 0.1, $0[1]] }
    let model = try LogisticModel.fit(features: x, labels: labels, l2: 0.1)
    #expect(model.scales[1] == 1)
    #expect(abs(model.weights[1]) <= 1e-12)
    let without = try LogisticModel.fit(features: features.map { [$0[0], $0[1]] }, labels: labels, l2: 0.1)
    #expect(maxDifference([model.weights[0], model.weights[2], model.intercept], without.weights + [without.intercept]) <= 1e-10)
}

@Test func fitRejectsBadInput() {
    #expect(throws: LogisticModel.FitError.noSamples) { try LogisticModel.fit(features: [], labels: []) }
    #expect(throws: LogisticModel.FitError.nonFiniteFeature(sample: 1, feature: 0)) {
        try LogisticModel.fit(features: [[0, 1], [.nan, 1]], labels: [true, false])
    }
    #expect(throws: LogisticModel.FitError.nonFiniteFeature(sample: 0, feature: 1)) {
        try LogisticModel.fit(features: [[0, -.infinity], [1, 1]], labels: [true, false])
    }
    #expect(throws: LogisticModel.FitError.oneClass) {
        try LogisticModel.fit(features: [[0], [1]], labels: [true, false], sampleWeights: [1, 0])
    }
    #expect(throws: LogisticModel.FitError.invalidSampleWeight(sample: 1)) {
        try LogisticModel.fit(features: [[0], [1]], labels: [true, false], sampleWeights: [1, -1])
    }
    #expect(throws: LogisticModel.FitError.invalidPenalty(0)) { try LogisticModel.fit(features: [[0], [1]], labels: [true, false], l2: 0) }
    #expect(throws: LogisticModel.FitError.self) { try LogisticModel.fit(features: [[0], [1, 2]], labels: [true, false]) }
    #expect(throws: LogisticModel.FitError.self) { try LogisticModel.fit(features: [[0], [1]], labels: [true]) }
}

// The constrained fit (w ≥ 0) is convex, so it is optimal exactly when the KKT conditions hold: the
// penalised gradient (computed independently above) is zero for the intercept and every positive
// weight, and ≥ 0 for every weight held at zero.
private func expectKKT(_ model: LogisticModel, _ x: [[Double]], _ y: [Bool], l2: Double, weights: [Double]? = nil) {
    let gradient = penalisedGradient(model, x, y, l2: l2, weights: weights)
    #expect(abs(gradient[0]) <= 1e-10)
    for (j, w) in model.weights.enumerated() {
        #expect(w >= 0)
        if w > 0 { #expect(abs(gradient[j + 1]) <= 1e-10) } else { #expect(gradient[j + 1] >= -1e-10) }
    }
}

@Test func nonNegativeFitHoldsTheNegativeWeightAtZero() throws {
    // Unconstrained, the second feature's weight is −0.668 (scikit-learn, above).
    let model = try LogisticModel.fit(features: features, labels: labels, l2: 0.1, nonNegativeWeights: true)
    #expect(model.weights[1] == 0)
    expectKKT(model, features, labels, l2: 0.1)
    // With that weight at zero the rest is the unconstrained fit without the feature (standardisation
    // is per feature, so it is the same).
    let without = try LogisticModel.fit(features: features.map { [$0[0], $0[2]] }, labels: labels, l2: 0.1)
    #expect(maxDifference([model.weights[0], model.weights[2], model.intercept], without.weights + [without.intercept]) <= 1e-9)
}

@Test func nonNegativeFitIsTheUnconstrainedOneWhenThatIsPositive() throws {
    let flipped = features.map { [$0[0], -$0[1], $0[2]] }
    let free = try LogisticModel.fit(features: flipped, labels: labels, l2: 0.1, sampleWeights: sampleWeights)
    #expect(free.weights.allSatisfy { $0 > 0 })
    let constrained = try LogisticModel.fit(features: flipped, labels: labels, l2: 0.1, sampleWeights: sampleWeights,
                                            nonNegativeWeights: true)
    #expect(maxDifference(constrained.weights + [constrained.intercept], free.weights + [free.intercept]) <= 1e-10)
}

@Test func nonNegativeFitOnCorrelatedFeaturesMeetsTheOptimalityConditions() throws {
    // Like the fragility score's inputs: a few noisy copies of one signal (two of them reversed, so
    // their unconstrained weights go negative) and two noise features; weighted, imbalanced classes.
    var state: UInt64 = 12345
    func uniform() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
    func normal() -> Double { (-2 * log(max(uniform(), 1e-300))).squareRoot() * cos(2 * .pi * uniform()) }
    var x = [[Double]](), y = [Bool]()
    for _ in 0 ..< 300 {
        let signal = normal(), wrong = uniform() < 1 / (1 + exp(-(2 * signal - 1.5)))
        x.append([signal + 0.3 * normal(), signal + 0.5 * normal(), -signal + 0.4 * normal(), -signal + normal(), normal(), 5 * normal()])
        y.append(wrong)
    }
    let weights = y.map { $0 ? 3.0 : 1.0 }
    let free = try LogisticModel.fit(features: x, labels: y, l2: 1e-2, sampleWeights: weights)
    #expect(free.weights.contains { $0 < 0 })
    let model = try LogisticModel.fit(features: x, labels: y, l2: 1e-2, sampleWeights: weights, nonNegativeWeights: true)
    expectKKT(model, x, y, l2: 1e-2, weights: weights)
    #expect(model.weights.contains { $0 == 0 } && model.weights.contains { $0 > 0 })
    #expect(model.weights[2] == 0 && model.weights[3] == 0)
}
