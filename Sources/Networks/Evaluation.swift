import Engine

/// Accuracy of a model on a labelled set: overall, per class, mean over classes, confusion matrix.
public struct Evaluation: Sendable, Equatable {
    public var classes: [String]
    /// confusion[true][predicted]
    public var confusion: [[Int]]

    public init(classes: [String], truth: [Int], predicted: [Int]) {
        self.classes = classes
        confusion = Array(repeating: Array(repeating: 0, count: classes.count), count: classes.count)
        for (t, p) in zip(truth, predicted) { confusion[t][p] += 1 }
    }

    public var total: Int { confusion.joined().reduce(0, +) }
    public var correct: Int { classes.indices.reduce(0) { $0 + confusion[$1][$1] } }
    /// Fraction of all clouds classified right (0–1).
    public var overallAccuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }
    /// Per-class recall; nil for a class with no clouds.
    public var perClassAccuracy: [Double?] {
        classes.indices.map { c in
            let n = confusion[c].reduce(0, +)
            return n == 0 ? nil : Double(confusion[c][c]) / Double(n)
        }
    }
    /// Mean of the per-class accuracies over the classes present.
    public var meanClassAccuracy: Double {
        let present = perClassAccuracy.compactMap { $0 }
        return present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count)
    }
}

extension Model {
    /// Predicts every cloud of a prepared set in inference mode, `batchSize` at a time.
    public func predict(_ set: PreparedSet, batchSize: Int = 32, progress: (Int) -> Void = { _ in }) -> [Prediction] {
        let input = Tensor<Float>(shape: [0])
        var out = [Prediction]()
        out.reserveCapacity(set.count)
        let order = Array(0 ..< set.count)
        for start in stride(from: 0, to: set.count, by: batchSize) {
            let chunk = order[start ..< min(start + batchSize, set.count)]
            set.batch(chunk, into: input)
            let logits = network.forward(input, training: false)
            let k = logits.channels
            for row in 0 ..< chunk.count { out.append(Prediction(logits: (0 ..< k).map { logits[row * k + $0] })) }
            progress(chunk.count)
        }
        return out
    }

    public func evaluate(_ set: PreparedSet, batchSize: Int = 32, progress: (Int) -> Void = { _ in }) -> Evaluation {
        Evaluation(classes: set.classes, truth: set.labels, predicted: predict(set, batchSize: batchSize, progress: progress).map(\.label))
    }
}
