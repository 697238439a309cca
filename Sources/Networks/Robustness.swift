import PointClouds

/// Accuracy under seeded corruptions (ModelNet-C's protocol: each corruption acts on the prepared,
/// unit-sphere cloud; the result is prepared again as a scan would be) and the corruption error
/// relative to a reference model.
public struct Robustness: Sendable, Equatable {
    public var clean: Double
    /// Overall accuracy per corruption, in the order asked.
    public var accuracy: [(corruption: Corruption, accuracy: Double)]

    public init(clean: Double, accuracy: [(corruption: Corruption, accuracy: Double)]) {
        self.clean = clean
        self.accuracy = accuracy
    }

    public static func == (a: Robustness, b: Robustness) -> Bool {
        a.clean == b.clean && a.accuracy.map(\.corruption) == b.accuracy.map(\.corruption) && a.accuracy.map(\.accuracy) == b.accuracy.map(\.accuracy)
    }

    /// CE per kind (Ren et al. 2022): Σ over severities of (1 − accuracy), divided by the same sum for
    /// `reference`; kinds both measured. nil for a kind the reference never got wrong.
    public func corruptionErrors(against reference: Robustness) -> [(kind: Corruption.Kind, ce: Double?)] {
        let kinds = accuracy.map(\.corruption.kind).reduce(into: [Corruption.Kind]()) { if !$0.contains($1) { $0.append($1) } }
        return kinds.map { kind in
            let mine = accuracy.filter { $0.corruption.kind == kind }
            let theirs = mine.compactMap { m in reference.accuracy.first { $0.corruption == m.corruption } }
            guard theirs.count == mine.count else { return (kind, nil) }
            let denominator = theirs.reduce(0) { $0 + 1 - $1.accuracy }
            return (kind, denominator > 0 ? mine.reduce(0) { $0 + 1 - $1.accuracy } / denominator : nil)
        }
    }

    /// The mean of the kinds' CE (mCE); nil when one is missing.
    public func meanCorruptionError(against reference: Robustness) -> Double? {
        let errors = corruptionErrors(against: reference).map(\.ce)
        guard !errors.isEmpty, errors.allSatisfy({ $0 != nil }) else { return nil }
        return errors.reduce(0) { $0 + $1! } / Double(errors.count)
    }
}

extension Model {
    /// Accuracy on `set` (labels in the model's class order) clean and under each corruption; each
    /// cloud's seed comes from `seed` and its path, so figures repeat and do not depend on order.
    /// `progress` counts clouds, out of `set.count × (corruptions.count + 1)`.
    public func robustness(on set: PreparedSet, corruptions: [Corruption], seed: UInt64, batchSize: Int = 32,
                           progress: (Int) -> Void = { _ in }) throws(PointCloudError) -> Robustness {
        let clean = evaluate(set, batchSize: batchSize, progress: progress).overallAccuracy
        var results = [(corruption: Corruption, accuracy: Double)]()
        for corruption in corruptions {
            var correct = 0
            for start in stride(from: 0, to: set.count, by: batchSize) {
                let indices = start ..< min(start + batchSize, set.count)
                let clouds = try indices.map { i throws(PointCloudError) in
                    let kindSeed = Corruption.seed(seed, for: "\(corruption.kind.rawValue)/\(corruption.severity)/\(set.paths[i])")
                    return try prepare(corruption.apply(to: set.cloud(i), seed: kindSeed), path: set.paths[i])
                }
                for (i, prediction) in zip(indices, predict(clouds, batchSize: batchSize)) where prediction.label == set.labels[i] { correct += 1 }
                progress(indices.count)
            }
            results.append((corruption, Double(correct) / Double(max(set.count, 1))))
        }
        return Robustness(clean: clean, accuracy: results)
    }
}
