import Foundation
import Output
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
        kinds.map { kind in
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

extension Robustness {
    /// `robustness`: reads `data` for `model` and, when given, for `reference` (at most `limit` clouds,
    /// the same seeded subset of files for both) and measures each under every corruption.
    public static func measure(_ model: Model, reference: Model?, data: String, corruptions: [Corruption], seed: UInt64,
                               limit: Int? = nil, batchSize: Int = 32, reading: CloudReadOptions = CloudReadOptions(),
                               console: Console) throws(PointCloudError) -> (model: Robustness, reference: Robustness?) {
        var results = [Robustness]()
        for m in [model] + (reference.map { [$0] } ?? []) {
            let (set, _) = try LabelledData.load(data, for: m, limit: limit, seed: seed, reading: reading, console: console)
            let bar = console.progress(total: set.count * (corruptions.count + 1), label: "robustness")
            defer { bar.finish() }
            results.append(try m.robustness(on: set, corruptions: corruptions, seed: seed, batchSize: batchSize) { bar.advance(by: $0) })
        }
        return (results[0], results.count > 1 ? results[1] : nil)
    }

    /// The kinds measured, in the order asked.
    var kinds: [Corruption.Kind] {
        accuracy.map(\.corruption.kind).reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
    }

    /// The whole result as one object (`--format json`): `clean_accuracy`, `accuracy` by "kind-severity"
    /// and, with a reference, `reference_clean_accuracy`, `ce` by kind and `mce`.
    public func record(model: String, data: String, reference: (path: String, result: Robustness)?) -> Record {
        var r = Record()
        r["model"] = .string(model)
        r["data"] = .string(data)
        r["clean_accuracy"] = .double(clean)
        r["accuracy"] = .object(Record(fields: accuracy.map { ("\($0.corruption.kind.rawValue)-\($0.corruption.severity)", .double($0.accuracy)) }))
        if let reference {
            r["reference"] = .string(reference.path)
            r["reference_clean_accuracy"] = .double(reference.result.clean)
            r["ce"] = .object(Record(fields: corruptionErrors(against: reference.result).map { ($0.kind.rawValue, $0.ce.map(Value.double) ?? .null) }))
            r["mce"] = meanCorruptionError(against: reference.result).map(Value.double) ?? .null
        }
        return r
    }

    /// One row per corruption and severity (`--format csv`, `jsonl`), after one for the clean set
    /// (kind "none", severity 0): `kind`, `severity`, `accuracy` and, with a reference,
    /// `reference_accuracy` and `ce`, the kind's corruption error (null on the clean row).
    public func rows(against reference: Robustness?) -> [Record] {
        let errors = reference.map { corruptionErrors(against: $0) } ?? []
        func row(_ kind: String, _ severity: Int, _ accuracy: Double, _ theirs: Double?, _ ce: Double?) -> Record {
            var r = Record(fields: [("kind", .string(kind)), ("severity", .int(severity)), ("accuracy", .double(accuracy))])
            if reference != nil {
                r["reference_accuracy"] = theirs.map(Value.double) ?? .null
                r["ce"] = ce.map(Value.double) ?? .null
            }
            return r
        }
        return [row("none", 0, clean, reference?.clean, nil)] + accuracy.map { c in
            row(c.corruption.kind.rawValue, c.corruption.severity, c.accuracy,
                reference?.accuracy.first { $0.corruption == c.corruption }?.accuracy, errors.first { $0.kind == c.corruption.kind }?.ce)
        }
    }

    /// The result laid out for reading: accuracy (%) per kind and severity, its mean, and the CE and
    /// mCE against a reference.
    public func table(against reference: (path: String, result: Robustness)?) -> [String] {
        let levels = accuracy.map(\.corruption.severity).reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
        let errors = reference.map { corruptionErrors(against: $0.result) } ?? []
        let header = ["KIND"] + levels.map { "S\($0)" } + ["MEAN"] + (reference == nil ? [] : ["CE"])
        var table = [header, ["clean"] + levels.map { _ in "" } + [String(format: "%.2f %%", clean * 100)] + (reference == nil ? [] : [""])]
        for kind in kinds {
            let row = levels.map { level in accuracy.first { $0.corruption == Corruption(kind, severity: level) }?.accuracy }
            let measured = row.compactMap { $0 }
            let ce = errors.first { $0.kind == kind }?.ce
            table.append([kind.rawValue] + row.map { $0.map { String(format: "%.2f", $0 * 100) } ?? "–" }
                + [String(format: "%.2f %%", measured.reduce(0, +) / Double(max(measured.count, 1)) * 100)]
                + (reference == nil ? [] : [ce.map { String(format: "%.3f", $0) } ?? "–"]))
        }
        let widths = header.indices.map { c in table.map { $0[c].count }.max()! }
        var lines = table.map { row in
            row.enumerated().map { $0 == row.count - 1 ? $1 : $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        if let reference, let mce = meanCorruptionError(against: reference.result) {
            lines.append(String(format: "mCE %.3f (reference %@, clean accuracy %.2f %%)", mce, reference.path, reference.result.clean * 100))
        }
        return lines
    }
}
