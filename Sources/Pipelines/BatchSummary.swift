import Diagnostics
import Foundation
import Output
import Report
import Statistics
import Support

/// What `batch` and `merge` learn from the rows, in memory that does not grow with their number:
/// counts, a class histogram, and bounded seeded samples of the timings and of every indicator
/// (for the percentiles, the shift test and the error-detection figures).
public struct BatchSummary: Sendable {
    public private(set) var objects = 0
    public var failed = 0
    public private(set) var flagged = 0
    public private(set) var classCounts = [String: Int]()
    private var times = Reservoir<Double>(capacity: 20_000, seed: 1)
    /// Rows kept for the shift test and, with labels, the error-detection AUROCs and reliability.
    private var sample = Reservoir<SampledRow>(capacity: 20_000, seed: 2)
    /// With labels: true class → predicted class → count.
    public private(set) var confusion = [String: [String: Int]]()
    public private(set) var labelled = 0
    public private(set) var correct = 0

    public init() {}

    public mutating func add(_ row: ObjectRow) {
        objects += 1
        if row.fragile == true { flagged += 1 }
        classCounts[row.predicted, default: 0] += 1
        times.add(row.milliseconds)
        sample.add(SampledRow(row))
        if let label = row.label {
            labelled += 1
            if row.correct == true { correct += 1 }
            confusion[label, default: [:]][row.predicted, default: 0] += 1
        }
    }

    /// Predicted classes, most frequent first (ties by name).
    public var classesByCount: [(name: String, count: Int)] {
        classCounts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { ($0.key, $0.value) }
    }

    public var medianMilliseconds: Double { percentile(times.elements, 0.5) }
    public var p95Milliseconds: Double { percentile(times.elements, 0.95) }

    private func percentile(_ values: [Double], _ p: Double) -> Double {
        values.isEmpty ? .nan : quantile(values.sorted(), p)
    }

    /// The shift test against the model's calibration, on the sampled rows.
    public func shift(_ calibration: Calibration) -> ShiftTest {
        var values = [Score: [Double]]()
        for score in Score.all {
            let column = sample.elements.compactMap { $0.values[score] }
            if column.count == sample.elements.count { values[score] = column }
        }
        return ShiftTest(values, calibration: calibration)
    }

    /// Error-detection AUROC per indicator (oriented by meaning) and for the fragility score, over the
    /// sampled labelled rows.
    public var errorDetection: [Score: Double] {
        let rows = sample.elements.filter { $0.correct != nil }
        let wrong = rows.map { $0.correct == false }
        var out = [Score: Double]()
        for score in Score.all {
            let suspicion = rows.compactMap { $0.values[score].map(score.suspicion) }
            if suspicion.count == rows.count, let a = RankMetrics.auroc(scores: suspicion, positives: wrong) { out[score] = a }
        }
        return out
    }

    public var reliability: [ReliabilityBin] {
        let rows = sample.elements.filter { $0.correct != nil }
        return ReliabilityBin.bins(confidences: rows.map(\.probability), correct: rows.map { $0.correct! })
    }

    /// The summary as a record: counts, classes, timing, the shift test, the labelled figures.
    public func record(shift test: ShiftTest?) -> Record {
        var r = Record()
        r["objects"] = .int(objects)
        r["failed"] = .int(failed)
        r["flagged"] = .int(flagged)
        r["flagged_share"] = .double(objects > 0 ? Double(flagged) / Double(objects) : 0)
        r["classes"] = .object(Record(fields: classesByCount.map { ($0.name, .int($0.count)) }))
        r["time_ms"] = .object(Record(fields: [("p50", .double(medianMilliseconds)), ("p95", .double(p95Milliseconds))]))
        if let test {
            r["shift"] = .object(Record(fields: [
                ("shifted", test.shifted.map(Value.bool) ?? .null), ("verdict", .string(test.verdict)),
                ("indicators", .array(test.results.map { .object($0.record) })),
            ]))
        }
        if labelled > 0 {
            r["labelled"] = .object(Record(fields: [
                ("objects", .int(labelled)), ("accuracy", .double(Double(correct) / Double(labelled))),
                ("error_auroc", .object(Record(fields: errorDetection.map { ($0.key.key, $0.value) }.sorted { $0.0 < $1.0 }.map { ($0.0, .double($0.1)) }))),
            ]))
        }
        return r
    }

    /// The summary for people: a few lines and the shift table.
    public func text(shift test: ShiftTest?) -> String {
        var lines = [String(format: "%d objects, %d failed, %d flagged (%.1f %%); per object p50 %.1f ms, p95 %.1f ms",
                            objects, failed, flagged, objects > 0 ? 100 * Double(flagged) / Double(objects) : 0,
                            medianMilliseconds, p95Milliseconds)]
        lines.append("classes: " + classesByCount.map { "\($0.name) \($0.count)" }.joined(separator: ", "))
        if labelled > 0 {
            let detection = errorDetection.sorted { ($0.value, $1.key.key) > ($1.value, $0.key.key) }.prefix(4).map { String(format: "%@ %.3f", $0.key.key, $0.value) }
            lines.append(String(format: "accuracy %.2f %% (%d labelled); error-detection AUROC: ", 100 * Double(correct) / Double(labelled), labelled)
                + detection.joined(separator: ", "))
        }
        guard let test else {
            lines.append("shift: not tested (the model is not calibrated: pcdiag calibrate)")
            return lines.joined(separator: "\n")
        }
        lines.append("shift: " + test.verdict)
        lines.append("INDICATOR     N       D      P_ADJ     DELTA  EFFECT      SHIFTED")
        for t in test.results {
            lines.append(t.key.padding(toLength: 12, withPad: " ", startingAt: 0)
                + String(format: "  %-6d  %.3f  ", t.count, t.statistic)
                + ShiftTest.format(t.adjustedPValue).padding(toLength: 9, withPad: " ", startingAt: 0)
                + String(format: "  %+.3f  ", t.delta) + t.magnitude.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
                + "  " + (t.shifted ? "yes" : "no"))
        }
        return lines.joined(separator: "\n")
    }

    /// The report's data; `flagged` are the objects to show (most fragile first).
    public func reportData(model: String, inputs: String, calibration: Calibration?, shift test: ShiftTest?, flagged: [FlaggedObject],
                           scenes: [SceneCard] = []) -> ReportData {
        let summary = ReportSummary(objects: objects, failed: failed, flagged: self.flagged,
                                    classHistogram: classesByCount.map { ClassCount(name: $0.name, count: $0.count) },
                                    medianMilliseconds: medianMilliseconds, p95Milliseconds: p95Milliseconds)
        var shift: ShiftReport?
        if let c = calibration, let test {
            shift = ShiftReport(looksLikeTraining: test.shifted != true, verdict: test.verdict, indicators: test.results.map { t in
                IndicatorShift(key: t.key, batchCount: t.count, statistic: t.statistic, pValue: t.pValue, adjustedPValue: t.adjustedPValue,
                               cliffsDelta: t.delta, magnitude: t.magnitude.rawValue, significant: t.shifted,
                               batchValues: sample.elements.compactMap { $0.values[t.score] }, referenceQuantiles: c.reference(for: t.score)?.quantiles ?? [])
            })
        }
        var labelledReport: LabelledReport?
        if labelled > 0 {
            let classes = Array(Set(confusion.keys).union(classCounts.keys)).sorted()
            let matrix = classes.map { t in classes.map { p in confusion[t]?[p] ?? 0 } }
            let bins = reliability
            labelledReport = LabelledReport(classes: classes, confusion: matrix, accuracy: Double(correct) / Double(labelled),
                                            reliability: bins, expectedCalibrationError: expectedCalibrationError(bins),
                                            errorDetectionAUROC: Dictionary(uniqueKeysWithValues: errorDetection.map { ($0.key.key, $0.value) }))
        }
        let formatter = ISO8601DateFormatter()
        return ReportData(title: "pcdiag batch report", generated: formatter.string(from: Date()), model: model, inputs: inputs,
                          summary: summary, shift: shift, flagged: flagged, labelled: labelledReport, scenes: scenes)
    }
}

/// One row as the summary keeps it: the few numbers it uses.
struct SampledRow: Sendable {
    var values: [Score: Double]
    var probability: Double
    var correct: Bool?

    init(_ row: ObjectRow) {
        values = Dictionary(uniqueKeysWithValues: Score.all.compactMap { s in row.value(s).map { (s, $0) } })
        probability = Double(row.probability)
        correct = row.correct
    }
}

/// The most fragile flagged objects of a run with their renders, at most `capacity`.
public struct FlaggedShowcase: Sendable {
    public let capacity: Int
    public private(set) var objects = [FlaggedObject]()

    public init(capacity: Int) { self.capacity = capacity }

    /// Whether an object of this fragility would get in (so the render is only made when it will be kept).
    public func admits(_ fragility: Double) -> Bool {
        capacity > 0 && (objects.count < capacity || fragility > objects.last!.fragility)
    }

    public mutating func add(_ object: FlaggedObject) {
        guard admits(object.fragility) else { return }
        let at = objects.firstIndex { $0.fragility < object.fragility } ?? objects.count
        objects.insert(object, at: at)
        if objects.count > capacity { objects.removeLast() }
    }
}
