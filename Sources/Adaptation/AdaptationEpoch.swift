import Foundation
import Networks

/// What one adaptation epoch did: the per-epoch log line and an entry of the JSON report.
public struct AdaptationEpoch: EpochOutcome {
    public struct Losses: Sendable, Equatable, Codable {
        public var classification = 0.0, reconstruction = 0.0, rotation = 0.0, pseudo = 0.0
    }

    public struct GateStatistics: Sendable, Equatable, Codable {
        public var keptFraction: Double
        /// Mean saliency skewness of the samples kept and dropped (measured gates only).
        public var meanSkewnessKept: Double?
        public var meanSkewnessDropped: Double?
    }

    /// Cosine similarity between the classification gradient and the self-supervised gradient of the
    /// probe batch's low-skewness half and high-skewness half, over the parameters both reach (the
    /// quantity SM-DSB rests on: lower skewness ↔ higher agreement). `reference` says which
    /// classification gradient: "target-oracle" (labels given for reporting) or "source".
    public struct Agreement: Sendable, Equatable, Codable {
        public var reference: String
        public var lowSkewness: Double
        public var highSkewness: Double
        public var all: Double
    }

    public struct PseudoLabels: Sendable, Equatable, Codable {
        /// The share of each predicted class taken.
        public var share: Double
        public var fraction: Double
        public var accuracy: Double?
    }

    public var epoch: Int
    public var learningRate: Double
    public var seconds: Double
    /// Time the measurer took (the gate's overhead).
    public var measurerSeconds: Double
    public var losses: Losses
    public var sourceTrainAccuracy: Double
    public var sourceValidationAccuracy: Double
    /// On the validation clouds as simulated single views (when the recipe simulates views).
    public var sourceViewValidationAccuracy: Double?
    public var isBest: Bool
    public var gate: GateStatistics?
    public var agreement: Agreement?
    public var pseudoLabels: PseudoLabels?
    /// Only when target labels were given for reporting; never used to choose.
    public var targetAccuracy: Double?
    /// The target guard's figures for this epoch's weights (nil only in reports of older runs).
    public var targetGuard: GuardCheck?

    /// An epoch the guard vetoed is never chosen.
    public var isEligible: Bool { !(targetGuard?.vetoed ?? false) }

    /// Source validation accuracy, averaged with the simulated views' when there are some.
    public var selectionScore: Double? {
        sourceViewValidationAccuracy.map { (sourceValidationAccuracy + $0) / 2 } ?? sourceValidationAccuracy
    }

    public func summary(of epochs: Int) -> String {
        var parts = [String(format: "epoch %d/%d  cls %.4f", epoch, epochs, losses.classification)]
        if losses.reconstruction > 0 { parts.append(String(format: "defrec %.4f", losses.reconstruction)) }
        if losses.rotation > 0 { parts.append(String(format: "rot %.4f", losses.rotation)) }
        if losses.pseudo > 0 { parts.append(String(format: "pseudo %.4f", losses.pseudo)) }
        parts.append(String(format: "src-val %.2f%%", sourceValidationAccuracy * 100)
            + (sourceViewValidationAccuracy.map { String(format: " views %.2f%%", $0 * 100) } ?? "") + (isBest ? " (best)" : ""))
        if let g = gate {
            parts.append(String(format: "kept %.0f%%", g.keptFraction * 100))
            if let k = g.meanSkewnessKept, let d = g.meanSkewnessDropped { parts.append(String(format: "skew kept %.2f / dropped %.2f", k, d)) }
        }
        if let a = agreement { parts.append(String(format: "cos low %.3f high %.3f", a.lowSkewness, a.highSkewness)) }
        if let p = pseudoLabels {
            parts.append(String(format: "pseudo-labelled %.0f%%", p.fraction * 100) + (p.accuracy.map { String(format: " (%.1f%% right)", $0 * 100) } ?? ""))
        }
        if let g = targetGuard {
            parts.append(String(format: "guard agree %.1f%% balance %.3f", g.statistics.agreement * 100, g.statistics.balance)
                + (g.failures.isEmpty ? "" : g.vetoed ? " FAILED (not chosen)" : " failed (guard off)"))
        }
        if let t = targetAccuracy { parts.append(String(format: "target %.2f%%", t * 100)) }
        parts.append(String(format: "%.0fs (measurer %.0fs)", seconds, measurerSeconds))
        return parts.joined(separator: "  ")
    }
}
