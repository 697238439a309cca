import Statistics
import Support
import Testing

/// Scores on ten levels, so that ties are common, with about a third positives.
private func tiedScores(_ n: Int, seed: UInt64) -> (scores: [Double], positives: [Bool]) {
    var rng = SeededGenerator(seed: seed)
    let positives = (0 ..< n).map { _ in Int.random(in: 0 ..< 3, using: &rng) == 0 }
    let scores = positives.map { Double(Int.random(in: 0 ..< 10, using: &rng) + ($0 ? 2 : 0)) }
    return (scores, positives)
}

/// Fixed cases; the reference values are scikit-learn 1.9.1's `average_precision_score`,
/// `roc_auc_score` and `fpr[np.searchsorted(tpr, r)]` on `roc_curve(..., drop_intermediate=False)`.
private struct SklearnCase: Sendable {
    var scores: [Double]
    var positives: [Bool]
    var averagePrecision: Double
    var auroc: Double
    var fprAt95: Double
    var fprAt80: Double
}

private let sklearnCases = [
    SklearnCase(scores: [0.9, 0.8, 0.8, 0.7, 0.6, 0.6, 0.6, 0.5, 0.4, 0.3, 0.3, 0.2],
                positives: [1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0].map { $0 == 1 },
                averagePrecision: 0.7087301587301588, auroc: 0.7857142857142858,
                fprAt95: 0.5714285714285714, fprAt80: 0.42857142857142855),
    // 20 positives ~ N(1, 1) then 20 negatives ~ N(0, 1), rounded to 0.1 (NumPy, seed 7).
    SklearnCase(scores: [1.0, 1.3, 0.7, 0.1, 0.5, 0.0, 1.1, 2.3, 0.5, 0.4, 1.5, 1.4, 1.1, 0.1, 1.0, 1.7, -0.3, 0.5, -0.9, -0.3,
                         -1.8, -0.2, -1.3, 0.3, 0.2, -0.2, -2.5, -0.5, -0.0, 0.1, -1.5, -0.5, -1.0, -0.8, 1.1, -0.8, -0.0, 0.9, -0.6, -0.1],
                positives: Array(repeating: true, count: 20) + Array(repeating: false, count: 20),
                averagePrecision: 0.8486124794745484, auroc: 0.8425, fprAt95: 0.5, fprAt80: 0.25),
]

@Test func aurocIsThePairwiseWinRateWithTiesAsHalf() throws {
    for seed: UInt64 in 1 ... 5 {
        let (scores, positives) = tiedScores(120, seed: seed)
        var wins = 0.0, pairs = 0.0
        for i in scores.indices where positives[i] {
            for j in scores.indices where !positives[j] {
                wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0
                pairs += 1
            }
        }
        let value = try #require(RankMetrics.auroc(scores: scores, positives: positives))
        #expect(abs(value - wins / pairs) <= 1e-12)
    }
}

@Test func aurocKnownCases() {
    let labels = [true, true, false, false, false]
    #expect(RankMetrics.auroc(scores: [5, 4, 3, 2, 1], positives: labels) == 1)
    #expect(RankMetrics.auroc(scores: [1, 2, 3, 4, 5], positives: labels) == 0)
    #expect(RankMetrics.auroc(scores: [7, 7, 7, 7, 7], positives: labels) == 0.5)
    #expect(RankMetrics.auroc(scores: [1, 2], positives: [true, true]) == nil)
    #expect(RankMetrics.auroc(scores: [], positives: []) == nil)
}

@Test func metricsMatchScikitLearn() throws {
    for c in sklearnCases {
        #expect(try abs(#require(RankMetrics.averagePrecision(scores: c.scores, positives: c.positives)) - c.averagePrecision) <= 1e-12)
        #expect(try abs(#require(RankMetrics.auroc(scores: c.scores, positives: c.positives)) - c.auroc) <= 1e-12)
        #expect(RankMetrics.fprAtTPR(scores: c.scores, positives: c.positives) == c.fprAt95)
        #expect(RankMetrics.fprAtTPR(scores: c.scores, positives: c.positives, tpr: 0.8) == c.fprAt80)
    }
}

@Test func averagePrecisionKnownCases() {
    #expect(RankMetrics.averagePrecision(scores: [3, 2, 1], positives: [true, false, false]) == 1)
    // One threshold flags everything: precision is the base rate at recall 1.
    #expect(RankMetrics.averagePrecision(scores: [1, 1, 1, 1], positives: [true, false, false, false]) == 0.25)
    #expect(RankMetrics.averagePrecision(scores: [1, 2], positives: [true, true]) == 1)
    #expect(RankMetrics.averagePrecision(scores: [1, 2], positives: [false, false]) == nil)
}

@Test func fprAtTPRKnownCases() {
    let labels = [true, true, false, false]
    #expect(RankMetrics.fprAtTPR(scores: [4, 3, 2, 1], positives: labels) == 0)
    #expect(RankMetrics.fprAtTPR(scores: [1, 2, 3, 4], positives: labels) == 1)
    // The second positive is tied with a negative: reaching it flags that negative too.
    #expect(RankMetrics.fprAtTPR(scores: [4, 2, 2, 1], positives: labels) == 0.5)
    #expect(RankMetrics.fprAtTPR(scores: [4, 2, 2, 1], positives: labels, tpr: 0.5) == 0)
    #expect(RankMetrics.fprAtTPR(scores: [1, 2], positives: [false, false]) == nil)
}

@Test(arguments: [0.3, 0.5, 0.9, 0.95, 1.0])
func thresholdForRecallIsTheLargestThatKeepsTheRecall(recall: Double) throws {
    let (scores, positives) = tiedScores(150, seed: 11)
    let positiveScores = zip(scores, positives).filter(\.1).map(\.0)
    func recallAt(_ t: Double) -> Double { Double(positiveScores.filter { $0 >= t }.count) / Double(positiveScores.count) }
    let best = Set(scores).filter { recallAt($0) >= recall }.max()
    #expect(RankMetrics.threshold(forRecall: recall, scores: scores, positives: positives) == best)
}

@Test func thresholdForRecallKnownCases() {
    let scores = [0.9, 0.8, 0.7, 0.6, 0.5], labels = [true, false, true, true, false]
    #expect(RankMetrics.threshold(forRecall: 1, scores: scores, positives: labels) == 0.6)
    #expect(RankMetrics.threshold(forRecall: 2.0 / 3, scores: scores, positives: labels) == 0.7)
    #expect(RankMetrics.threshold(forRecall: 0.1, scores: scores, positives: labels) == 0.9)
    #expect(RankMetrics.threshold(forRecall: 0.5, scores: scores, positives: [false, false, false, false, false]) == nil)
}
