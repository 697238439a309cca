import Foundation
import Networks

/// The target guard: label-free checks of what adaptation does to the target's answers,
/// so that a run cannot silently end worse than it started. Source validation accuracy cannot see it:
/// a network can keep its source classes apart while its answers on the target drift or collapse
/// onto a few classes. After every epoch the guard compares the model's predictions on the target
/// clouds with the source model's on the same clouds:
///
/// - **agreement**: on the target clouds the source model is most confident about (the most
///   confident `confidentShare` of those predicted as each class, as `SelfTraining.select` takes
///   them), the share the model still predicts as the source model does. Adaptation should mostly
///   change the uncertain answers; losing the confident ones means it is rewriting what worked.
/// - **balance**: the normalised entropy of the predicted-class shares over all target clouds
///   (1: every class predicted equally often; 0: one class takes all). A drop below the source
///   model's is a collapse onto fewer classes, the way self-supervised and pseudo-label losses fail.
///
/// An epoch whose figures cross a threshold fails the guard; when the guard is on, its weights are
/// never chosen, and when no epoch passes, the run writes the unadapted source model. Target labels
/// are never read.
public struct TargetGuard: Sendable, Equatable, Codable {
    /// Off: the figures are still measured and reported, but every epoch may be chosen.
    public var enabled = true
    /// An epoch fails below this agreement with the source model on its confident target clouds.
    public var minimumAgreement = 0.8
    /// An epoch fails when its balance is more than this below the source model's.
    public var maximumBalanceDrop = 0.1
    /// The share of each class's predictions of the source model the agreement is measured on.
    public var confidentShare = 0.5

    public init(enabled: Bool = true, minimumAgreement: Double = 0.8, maximumBalanceDrop: Double = 0.1, confidentShare: Double = 0.5) {
        self.enabled = enabled
        self.minimumAgreement = minimumAgreement
        self.maximumBalanceDrop = maximumBalanceDrop
        self.confidentShare = confidentShare
    }

    public var summary: String {
        "guard \(enabled ? "on" : "off") (agreement ≥ \(minimumAgreement) on the source's \(confidentShare) most confident, "
            + "balance drop ≤ \(maximumBalanceDrop))"
    }

    /// Why `statistics` fail against the source model's `source` figures; empty: they pass.
    public func failures(_ statistics: TargetStatistics, source: TargetStatistics) -> [String] {
        var reasons = [String]()
        if statistics.nonFinite > 0 { reasons.append(String(format: "non-finite outputs on %.1f%% of the target clouds", statistics.nonFinite * 100)) }
        if statistics.agreement < minimumAgreement {
            reasons.append(String(format: "agrees with the source model on %.1f%% of its confident target clouds (< %.1f%%)",
                                  statistics.agreement * 100, minimumAgreement * 100))
        }
        if statistics.balance < source.balance - maximumBalanceDrop {
            reasons.append(String(format: "predicted classes collapsing: balance %.3f against the source model's %.3f (drop > %.3f; most predicted class %.1f%% of the target, source %.1f%%)",
                                  statistics.balance, source.balance, maximumBalanceDrop, statistics.topShare * 100, source.topShare * 100))
        }
        return reasons
    }
}

/// A model's answers on the target clouds, as the guard sees them (no labels).
public struct TargetStatistics: Sendable, Equatable, Codable {
    /// Share of the source model's confident target clouds predicted as the source model predicts them.
    public var agreement: Double
    /// Entropy of the predicted-class shares over the target, divided by log(classes): in [0, 1].
    public var balance: Double
    /// Share of the target predicted as the most predicted class.
    public var topShare: Double
    /// Mean maximum softmax probability over the target (clouds with non-finite outputs count 0).
    public var meanConfidence: Double
    /// Share of the target whose outputs are not finite (a diverged network): they agree with
    /// nothing and count for no class.
    public var nonFinite: Double

    public init(agreement: Double, balance: Double, topShare: Double, meanConfidence: Double, nonFinite: Double = 0) {
        self.agreement = agreement
        self.balance = balance
        self.topShare = topShare
        self.meanConfidence = meanConfidence
        self.nonFinite = nonFinite
    }

    /// The figures of `predictions` (one per target cloud, in the target's order) against `reference`,
    /// the source model's label for each of its confident clouds (nil for the others). No confident
    /// cloud: agreement 1. No prediction: everything 0 but the agreement.
    public init(_ predictions: [Prediction], reference: [Int?]) {
        precondition(reference.count == predictions.count, "one reference entry per prediction")
        let finite = predictions.map { $0.logits.allSatisfy(\.isFinite) }
        let confident = reference.indices.filter { reference[$0] != nil }
        agreement = confident.isEmpty ? 1
            : Double(confident.filter { finite[$0] && predictions[$0].label == reference[$0] }.count) / Double(confident.count)
        let classes = predictions.first?.probabilities.count ?? 0
        var counts = [Int](repeating: 0, count: classes)
        for (p, ok) in zip(predictions, finite) where ok { counts[p.label] += 1 }
        let n = Double(max(predictions.count, 1))
        let entropy = counts.filter { $0 > 0 }.map { Double($0) / n }.reduce(0) { $0 - $1 * Foundation.log($1) }
        balance = classes > 1 ? entropy / Foundation.log(Double(classes)) : 0
        topShare = Double(counts.max() ?? 0) / n
        meanConfidence = zip(predictions, finite).map { $1 ? Double($0.probabilities.max() ?? 0) : 0 }.reduce(0, +) / n
        nonFinite = Double(finite.filter { !$0 }.count) / n
    }
}

/// What the guard saw in one epoch: the figures, and why they fail (empty: they pass).
public struct GuardCheck: Sendable, Equatable, Codable {
    public var statistics: TargetStatistics
    public var failures: [String]
    /// The guard was on and the epoch failed it: its weights may not be chosen.
    public var vetoed: Bool
}

/// The guard's account of a run, in the JSON report and the model's adaptation record: the source
/// model's figures, every epoch's, which failed, and what was written because of it.
public struct GuardSummary: Sendable, Equatable, Codable {
    public var enabled: Bool
    public var thresholds: String
    /// The source model on the target (its agreement is 1 by definition).
    public var source: TargetStatistics
    public var sourceValidationAccuracy: Double
    /// The source model's target accuracy, only when target labels were given for reporting.
    public var sourceTargetAccuracy: Double?
    /// Per epoch, in order.
    public var epochs: [TargetStatistics]
    /// Epochs (1-based) whose figures fail the thresholds.
    public var failed: [Int]
    /// The epoch source validation alone would have chosen (0: none).
    public var unguardedEpoch: Int
    /// The epoch whose weights were written (0: the unadapted source model).
    public var selectedEpoch: Int
    /// The guard changed the choice: the unguarded epoch failed it.
    public var rolledBack: Bool
    /// Why, in a sentence; nil when it did not roll back.
    public var reason: String?

    /// From a run's log: `isBest` as the loop marks it (vetoed epochs never best); `tiesGoToLaterEpochs`
    /// as `Adapter`'s.
    public init(guard options: TargetGuard, source: TargetStatistics, sourceValidationAccuracy: Double, sourceTargetAccuracy: Double?,
                log: [AdaptationEpoch]) {
        enabled = options.enabled
        thresholds = options.summary
        self.source = source
        self.sourceValidationAccuracy = sourceValidationAccuracy
        self.sourceTargetAccuracy = sourceTargetAccuracy
        epochs = log.compactMap { $0.targetGuard?.statistics }
        failed = log.filter { !($0.targetGuard?.failures.isEmpty ?? true) }.map(\.epoch)
        var unguarded: AdaptationEpoch? = nil
        for e in log {
            guard let score = e.selectionScore else { continue }
            if unguarded.flatMap(\.selectionScore).map({ score >= $0 }) ?? true { unguarded = e }
        }
        unguardedEpoch = unguarded?.epoch ?? 0
        selectedEpoch = log.last { $0.isBest }?.epoch ?? 0
        rolledBack = selectedEpoch != unguardedEpoch
        if rolledBack, let u = unguarded {
            let kept = selectedEpoch == 0 ? "wrote the unadapted source model (no epoch passed)" : "wrote epoch \(selectedEpoch), the best that passed"
            reason = "epoch \(u.epoch), best on source validation, failed the target guard: "
                + (u.targetGuard?.failures.joined(separator: "; ") ?? "") + "; " + kept
        } else {
            reason = nil
        }
    }
}
