import Engine
import Foundation
import Output
import PointClouds

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

    /// `evaluate`: reads the labelled set `data` for this model (`LabelledData`; at most `limit` clouds,
    /// a seeded subset) and evaluates it. Returns the evaluation and the number of files skipped.
    public func evaluate(data: String, limit: Int? = nil, seed: UInt64 = 1, batchSize: Int = 32,
                         reading: CloudReadOptions = CloudReadOptions(), console: Console) throws(PointCloudError) -> (evaluation: Evaluation, skipped: Int) {
        let (set, skipped) = try LabelledData.load(data, for: self, limit: limit, seed: seed, reading: reading, console: console)
        let bar = console.progress(total: set.count, label: "evaluate")
        defer { bar.finish() }
        return (evaluate(set, batchSize: batchSize) { bar.advance(by: $0) }, skipped)
    }
}

extension Evaluation {
    /// The whole result as one object (`--format json`): `clouds`, `skipped`, `overall_accuracy` and
    /// `mean_class_accuracy` (fractions 0–1), `per_class` (accuracy by class name, classes with clouds
    /// only), `classes` and `confusion` (rows: true class, columns: predicted, in `classes` order).
    public func record(model: String, data: String, skipped: Int) -> Record {
        var r = Record()
        r["model"] = .string(model)
        r["data"] = .string(data)
        r["clouds"] = .int(total)
        r["skipped"] = .int(skipped)
        r["overall_accuracy"] = .double(overallAccuracy)
        r["mean_class_accuracy"] = .double(meanClassAccuracy)
        r["per_class"] = .object(Record(fields: zip(classes, perClassAccuracy).compactMap { name, a in a.map { (name, .double($0)) } }))
        r["classes"] = Value(classes)
        r["confusion"] = .array(confusion.map { .array($0.map(Value.int)) })
        return r
    }

    /// One row per class of the model (`--format csv`, `jsonl`): `class`, `clouds` (of that true class),
    /// `correct`, `accuracy` (null without clouds) and `predicted`, the row of the confusion matrix
    /// (how many of them went to each class, in the order of the rows).
    public var classRecords: [Record] {
        classes.indices.map { c in
            Record(fields: [("class", .string(classes[c])), ("clouds", .int(confusion[c].reduce(0, +))), ("correct", .int(confusion[c][c])),
                            ("accuracy", perClassAccuracy[c].map(Value.double) ?? .null), ("predicted", .array(confusion[c].map(Value.int)))])
        }
    }

    /// The result laid out for reading: the accuracies, each class present, the confusion matrix;
    /// the name column as wide as the longest name.
    public var table: [String] {
        let labels = classes.indices.map { "\($0) \(classes[$0])" }
        let width = labels.map(\.count).max() ?? 0, cell = max(5, String(total).count + 1)
        func padded(_ s: String) -> String { s.padding(toLength: width, withPad: " ", startingAt: 0) }
        func right(_ s: String) -> String { String(repeating: " ", count: max(0, cell - s.count)) + s }
        var lines = [String(format: "overall accuracy     %.2f %%  (%d of %d)", overallAccuracy * 100, correct, total),
                     String(format: "mean class accuracy  %.2f %%", meanClassAccuracy * 100), ""]
        for (name, accuracy) in zip(classes, perClassAccuracy) {
            if let accuracy { lines.append(padded(name) + String(format: "  %6.2f %%", accuracy * 100)) }
        }
        lines += ["", "confusion (rows: true, columns: predicted)", padded("") + classes.indices.map { right(String($0)) }.joined()]
        for (label, row) in zip(labels, confusion) { lines.append(padded(label) + row.map { right(String($0)) }.joined()) }
        return lines
    }
}
