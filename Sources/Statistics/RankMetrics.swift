/// Detection metrics for scores where higher means "more positive". All of them walk the distinct
/// score values from the highest down, so tied scores always move together: a threshold t classifies
/// every score ≥ t as positive.
public enum RankMetrics {
    /// Area under the ROC curve: the probability that a random positive scores above a random negative,
    /// a tie counting 1/2 (the Mann–Whitney U statistic over n₊·n₋, average ranks for ties).
    /// All tied gives 0.5, perfect separation 1, reversed 0.
    ///
    /// - Returns: nil when there are no positives or no negatives.
    /// - Precondition: `scores` and `positives` have the same count; no score is NaN.
    /// - Complexity: O(n log n).
    public static func auroc(scores: [Double], positives: [Bool]) -> Double? {
        let groups = TiedGroup.descending(scores: scores, positives: positives)
        let (p, n) = TiedGroup.totals(groups)
        guard p > 0, n > 0 else { return nil }
        // Each negative beats no positive above its group and ties with the positives inside it.
        var positivesAbove = 0, twiceWins = 0
        for g in groups {
            twiceWins += g.negatives * (2 * positivesAbove + g.positives)
            positivesAbove += g.positives
        }
        return Double(twiceWins) / (2 * Double(p) * Double(n))
    }

    /// Average precision (area under the precision–recall curve) as scikit-learn's
    /// `average_precision_score`: Σₖ (Rₖ − Rₖ₋₁)·Pₖ over the distinct scores taken as thresholds from
    /// the highest down, with Rₖ and Pₖ the recall and precision at the k-th threshold and R₀ = 0 —
    /// a step-wise sum, not the trapezoidal rule. With no negatives it is 1.
    ///
    /// - Returns: nil when there are no positives (recall is undefined).
    /// - Precondition: `scores` and `positives` have the same count; no score is NaN.
    /// - Complexity: O(n log n).
    public static func averagePrecision(scores: [Double], positives: [Bool]) -> Double? {
        let groups = TiedGroup.descending(scores: scores, positives: positives)
        let (p, _) = TiedGroup.totals(groups)
        guard p > 0 else { return nil }
        var truePositives = 0, flagged = 0, sum = 0.0
        for g in groups {
            truePositives += g.positives
            flagged += g.positives + g.negatives
            sum += Double(g.positives) * Double(truePositives) / Double(flagged)
        }
        return sum / Double(p)
    }

    /// False-positive rate at the highest threshold (a distinct score value) whose true-positive rate is
    /// at least `tpr`: FPR@95 for the default. Equals `fpr[searchsorted(tpr, 0.95)]` on scikit-learn's
    /// `roc_curve`. Rates are compared as the exact ratios k / n₊, so tpr = 0.95 with 20 positives is met
    /// by 19 of them.
    ///
    /// - Returns: nil when there are no positives or no negatives.
    /// - Precondition: `scores` and `positives` have the same count; no score is NaN; 0 < tpr ≤ 1.
    /// - Complexity: O(n log n).
    public static func fprAtTPR(scores: [Double], positives: [Bool], tpr: Double = 0.95) -> Double? {
        precondition(tpr > 0 && tpr <= 1, "true-positive rate \(tpr) outside (0, 1]")
        let groups = TiedGroup.descending(scores: scores, positives: positives)
        let (p, n) = TiedGroup.totals(groups)
        guard p > 0, n > 0 else { return nil }
        var truePositives = 0, falsePositives = 0
        for g in groups {
            truePositives += g.positives
            falsePositives += g.negatives
            if Double(truePositives) / Double(p) >= tpr { break }
        }
        return Double(falsePositives) / Double(n)
    }

    /// The largest threshold t such that the fraction of positives scoring ≥ t is at least `recall`:
    /// the ⌈recall·n₊⌉-th highest positive score (ratios compared exactly, as in `fprAtTPR`).
    /// Negatives do not affect it.
    ///
    /// - Returns: nil when there are no positives.
    /// - Precondition: `scores` and `positives` have the same count; no score is NaN; 0 < recall ≤ 1.
    /// - Complexity: O(n log n).
    public static func threshold(forRecall recall: Double, scores: [Double], positives: [Bool]) -> Double? {
        precondition(recall > 0 && recall <= 1, "recall \(recall) outside (0, 1]")
        precondition(scores.count == positives.count, "one label per score")
        precondition(!scores.contains { $0.isNaN }, "NaN score")
        let positiveScores = zip(scores, positives).filter(\.1).map(\.0).sorted(by: >)
        let p = Double(positiveScores.count)
        return positiveScores.enumerated().first { Double($0.offset + 1) / p >= recall }?.element
    }

    /// The positives and negatives sharing one score value.
    private struct TiedGroup {
        var score: Double
        var positives = 0
        var negatives = 0

        /// One group per distinct score, highest score first.
        static func descending(scores: [Double], positives: [Bool]) -> [TiedGroup] {
            precondition(scores.count == positives.count, "one label per score")
            precondition(!scores.contains { $0.isNaN }, "NaN score")
            var groups = [TiedGroup]()
            for i in scores.indices.sorted(by: { scores[$0] > scores[$1] }) {
                if groups.last?.score != scores[i] { groups.append(TiedGroup(score: scores[i])) }
                if positives[i] { groups[groups.count - 1].positives += 1 } else { groups[groups.count - 1].negatives += 1 }
            }
            return groups
        }

        static func totals(_ groups: [TiedGroup]) -> (positives: Int, negatives: Int) {
            groups.reduce((0, 0)) { ($0.0 + $1.positives, $0.1 + $1.negatives) }
        }
    }
}
