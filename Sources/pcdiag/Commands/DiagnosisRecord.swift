import Diagnostics
import Foundation
import Output
import Networks

/// One object's row in `classify` and `batch`: class, probability, every indicator by its
/// machine-readable name, the fragility score, the verdict and its reasons.
enum DiagnosisRecord {
    /// Table columns shared by both commands.
    static let columns: [RecordPrinter.Column] = [
        .init(key: "path", title: "FILE"), .init(key: "class", title: "CLASS"), .init(key: "probability", title: "PROB"),
        .init(key: "skewness", title: "SKEW"), .init(key: "fragility", title: "FRAGILITY"), .init(key: "fragile", title: "FRAGILE"),
        .init(key: "reasons", title: "REASONS"),
    ]

    static func make(path: String, points: Int, diagnosis: Diagnosis, assessment: Assessment?, classes: [String],
                     top: Int? = nil, logits: Bool = false) -> Record {
        let prediction = diagnosis.prediction
        var r = Record()
        r["path"] = .string(path)
        r["points"] = .int(points)
        r["class"] = .string(classes[prediction.label])
        r["probability"] = .float(prediction.probabilities[prediction.label])
        for indicator in Indicator.allCases {
            r[indicator.key] = indicator.value(in: diagnosis.indicators).map { .double(rounded($0)) } ?? .null
        }
        r["fragility"] = assessment?.fragility.map { .double(rounded($0)) } ?? .null
        r["fragile"] = assessment?.fragile.map(Value.bool) ?? .null
        r["reasons"] = .array((assessment?.reasons ?? []).map { .string($0.description) })
        if let top {
            let best = prediction.top(min(top, classes.count))
            r["top"] = .array(best.map { i in .object(Record(fields: [("class", .string(classes[i])), ("probability", .float(prediction.probabilities[i]))])) })
        }
        if logits { r["logits"] = .array(prediction.logits.map(Value.float)) }
        return r
    }

    /// Indicators are statistics of float32 data: 6 significant digits say all they can.
    static func rounded(_ x: Double) -> Double {
        guard x.isFinite, x != 0 else { return x }
        let scale = pow(10, 5 - floor(log10(abs(x))))
        return (x * scale).rounded() / scale
    }
}
