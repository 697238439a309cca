import Support

/// The SM-DSB selector (Tang, Xu, Chen 2025; DESIGN §3): which samples of a batch keep their
/// self-supervised loss. The classification loss is never gated.
public struct Gate: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Every sample keeps its self-supervised loss (plain multi-task learning).
        case none
        /// Keep the samples whose saliency skewness is at or below the threshold.
        case skewness
        /// Keep a random subset of the same size: the control that tells gating from less self-supervision.
        case random
    }

    /// Where the skewness threshold comes from.
    public enum Threshold: String, Sendable, Codable, CaseIterable {
        /// The batch's own ρ-quantile: exactly ⌊ρ B⌉ samples kept per batch.
        case batch
        /// The ρ-quantile of the skewness of recent batches (the last `window` values), so a batch of
        /// unusually fragile samples keeps fewer of them.
        case running
    }

    public var kind: Kind
    /// ρ: the share of samples kept.
    public var keepRatio: Double
    public var threshold: Threshold
    public var window = 1024

    public init(kind: Kind = .skewness, keepRatio: Double = 0.5, threshold: Threshold = .batch) {
        self.kind = kind
        self.keepRatio = keepRatio
        self.threshold = threshold
    }

    /// Whether the measurer must run: only the skewness selector reads saliency.
    public var measures: Bool { kind == .skewness }

    /// The samples kept, for a batch of `count` with the measured `skewness` (one per sample, needed for
    /// `.skewness`); `history` holds recent values for the running threshold and is updated.
    public func select(count: Int, skewness: [Double]?, history: inout [Double], using rng: inout SeededGenerator) -> [Bool] {
        let keep = min(count, max(1, Int((keepRatio * Double(count)).rounded())))
        switch kind {
        case .none:
            return Array(repeating: true, count: count)
        case .random:
            let chosen = Set(randomSubset(keep, of: count, using: &rng))
            return (0 ..< count).map(chosen.contains)
        case .skewness:
            guard let skewness, skewness.count == count else { preconditionFailure("the skewness selector needs one value per sample") }
            switch threshold {
            case .batch:
                // Lowest first; ties by position, so exactly `keep` samples.
                let chosen = Set(skewness.indices.sorted { (skewness[$0], $0) < (skewness[$1], $1) }.prefix(keep))
                return (0 ..< count).map(chosen.contains)
            case .running:
                history.append(contentsOf: skewness)
                if history.count > window { history.removeFirst(history.count - window) }
                let sorted = history.sorted()
                let tau = sorted[min(sorted.count - 1, max(0, Int((keepRatio * Double(sorted.count)).rounded(.up)) - 1))]
                return skewness.map { $0 <= tau }
            }
        }
    }
}
