import Diagnostics
import Foundation
import Networks
import Output

/// One object's result: the row `classify`, `batch` and `merge` print and write, and what `batch`
/// reads back from its -o file to resume and `merge` reads from the shards — one schema, one order
/// of keys, for all of them.
public struct ObjectRow: Sendable, Equatable {
    public var path: String
    /// With `--scene`: which object of the scene at `path` the row is about, and where it is.
    public var placement: Placement?
    /// Valid points of the input (before preprocessing).
    public var points: Int
    public var predicted: String
    public var probability: Float
    /// The true class, when the input names it (a manifest, or --labels-from-folders).
    public var label: String?
    /// Each computed indicator; one not computed (no diagnostics, no feature statistics) is absent.
    public var indicators: [Indicator: Double]
    public var fragility: Double?
    public var fragile: Bool?
    public var reasons: [String]
    public var milliseconds: Double
    /// The most probable classes with their probabilities, best first; printed in JSON by `classify`.
    public var top: [(name: String, probability: Float)]
    /// The raw logits; printed in JSON by `classify`.
    public var logits: [Float]

    public var correct: Bool? { label.map { $0 == predicted } }

    /// An object of a scene: its id (the `object` field of `segment` and `--scene-output`), the centre
    /// of its points and its axis-aligned box, in the scene's frame and units.
    public struct Placement: Sendable, Equatable {
        public var id: Int
        public var centroid: SIMD3<Float>
        public var boxMinimum: SIMD3<Float>
        public var extent: SIMD3<Float>

        public init(id: Int, centroid: SIMD3<Float>, boxMinimum: SIMD3<Float>, extent: SIMD3<Float>) {
            (self.id, self.centroid, self.boxMinimum, self.extent) = (id, centroid, boxMinimum, extent)
        }
    }

    /// What identifies a row in a row file: its path, and its object for a scene's rows. Merged rows
    /// are sorted by it (a scene's objects by id).
    public var identity: Identity { Identity(path: path, object: placement?.id ?? 0) }

    public struct Identity: Hashable, Comparable, Sendable {
        public var path: String
        public var object: Int

        public static func < (a: Identity, b: Identity) -> Bool { (a.path, a.object) < (b.path, b.object) }
    }

    public func value(_ score: Score) -> Double? {
        switch score {
        case .indicator(let i): indicators[i]
        case .fragility: fragility
        }
    }

    /// Keys in output order: what every row file holds, in this order.
    public static let keys = ["path", "object", "centroid", "box_min", "extent", "points", "class", "probability", "label", "correct"] + Indicator.allCases.map(\.key)
        + ["fragility", "fragile", "reasons", "time_ms"]

    /// Table columns of `classify` and `batch`.
    public static let columns: [RecordPrinter.Column] = [
        .init(key: "path", title: "FILE"), .init(key: "class", title: "CLASS"), .init(key: "probability", title: "PROB"),
        .init(key: "skewness", title: "SKEW"), .init(key: "fragility", title: "FRAGILITY"), .init(key: "fragile", title: "FRAGILE"),
        .init(key: "reasons", title: "REASONS"),
    ]

    /// Table columns of `classify --scene` and `batch --scene`: the object and its box after the file;
    /// without diagnostics the `TOP` column instead of the indicators.
    public static func sceneColumns(diagnose: Bool) -> [RecordPrinter.Column] {
        let columns = diagnose ? Self.columns : predictionColumns
        return [columns[0], .init(key: "object", title: "OBJECT"), .init(key: "extent", title: "EXTENT")] + columns.dropFirst()
    }

    /// Table columns without diagnostics (`classify --no-diagnostics`).
    public static let predictionColumns: [RecordPrinter.Column] = [
        .init(key: "path", title: "FILE"), .init(key: "class", title: "CLASS"), .init(key: "probability", title: "PROB"),
        .init(key: "top", title: "TOP"),
    ]

    public static func == (a: ObjectRow, b: ObjectRow) -> Bool {
        a.record(format: .jsonl) == b.record(format: .jsonl)
    }

    /// The row as a record. `details` adds `top` and `logits` (JSON output of `classify`).
    public func record(format: OutputFormat, details: Bool = false) -> Record {
        var r = Record()
        r["path"] = .string(path)
        func vector(_ v: SIMD3<Float>?) -> Value { v.map { .array([.float($0.x), .float($0.y), .float($0.z)]) } ?? .null }
        r["object"] = placement.map { .int($0.id) } ?? .null
        r["centroid"] = vector(placement?.centroid)
        r["box_min"] = vector(placement?.boxMinimum)
        r["extent"] = vector(placement?.extent)
        r["points"] = .int(points)
        r["class"] = .string(predicted)
        r["probability"] = .float(probability)
        r["label"] = label.map(Value.string) ?? .null
        r["correct"] = correct.map(Value.bool) ?? .null
        for indicator in Indicator.allCases {
            r[indicator.key] = indicators[indicator].map(Value.double) ?? .null
        }
        r["fragility"] = fragility.map(Value.double) ?? .null
        r["fragile"] = fragile.map(Value.bool) ?? .null
        // JSON keeps the reasons as a list; a CSV or table cell joins them.
        r["reasons"] = format == .json || format == .jsonl ? Value(reasons) : .string(reasons.joined(separator: "; "))
        r["time_ms"] = .double((milliseconds * 1000).rounded() / 1000)
        if details {
            r["top"] = .array(top.map { .object(Record(fields: [("class", .string($0.name)), ("probability", .float($0.probability))])) })
            r["logits"] = .array(logits.map(Value.float))
        } else if format == .table && indicators.isEmpty {
            r["top"] = .string(top.map { String(format: "%@ %.3f", $0.name, $0.probability) }.joined(separator: ", "))
        }
        return r
    }
}

extension ObjectRow {
    /// A diagnosed (or, without `diagnosis`, only classified) object.
    public init(path: String, placement: Placement? = nil, points: Int, prediction: Prediction, diagnosis: Diagnosis?, assessment: Assessment?,
                classes: [String], label: String?, milliseconds: Double, top: Int = 3) {
        self.path = path
        self.placement = placement
        self.points = points
        predicted = classes[prediction.label]
        probability = prediction.probabilities[prediction.label]
        self.label = label
        var values = [Indicator: Double]()
        if let diagnosis {
            for i in Indicator.allCases { values[i] = i.value(in: diagnosis.indicators).map(Self.rounded) }
        }
        indicators = values
        fragility = assessment?.fragility.map(Self.rounded)
        fragile = assessment?.fragile
        reasons = assessment?.reasons.map(\.description) ?? []
        self.milliseconds = milliseconds
        self.top = prediction.top(min(top, classes.count)).map { (classes[$0], prediction.probabilities[$0]) }
        logits = prediction.logits
    }

    /// Indicators are statistics of float32 data: 6 significant digits say all they can.
    public static func rounded(_ x: Double) -> Double {
        guard x.isFinite, x != 0 else { return x }
        let scale = pow(10, 5 - floor(log10(abs(x))))
        return (x * scale).rounded() / scale
    }
}

extension ObjectRow {
    /// From the fields of a row file's line, by key (JSON values, or CSV cells as strings); nil when
    /// it is not one of ours.
    init?(fields: [String: Any]) {
        func string(_ key: String) -> String? {
            guard let s = fields[key] as? String else { return nil }
            return s.isEmpty ? nil : s
        }
        func double(_ key: String) -> Double? {
            if let s = fields[key] as? String { return Double(s) }
            return (fields[key] as? NSNumber)?.doubleValue
        }
        // A vector is a JSON array, or a CSV cell of numbers separated by spaces.
        func vector(_ key: String) -> SIMD3<Float>? {
            let numbers = (fields[key] as? [Any])?.compactMap { ($0 as? NSNumber)?.floatValue }
                ?? (fields[key] as? String)?.split(separator: " ").compactMap { Float($0) }
            guard let numbers, numbers.count == 3 else { return nil }
            return SIMD3(numbers[0], numbers[1], numbers[2])
        }
        guard let path = string("path"), let predicted = string("class"), let probability = double("probability") else { return nil }
        self.path = path
        if let id = double("object"), let centroid = vector("centroid"), let boxMinimum = vector("box_min"), let extent = vector("extent") {
            placement = Placement(id: Int(id), centroid: centroid, boxMinimum: boxMinimum, extent: extent)
        } else {
            placement = nil
        }
        self.predicted = predicted
        self.probability = Float(probability)
        points = double("points").map { Int($0) } ?? 0
        label = string("label")
        var values = [Indicator: Double]()
        for i in Indicator.allCases { values[i] = double(i.key) }
        indicators = values
        fragility = double("fragility")
        switch fields["fragile"] {
        case let s as String: fragile = s == "yes" ? true : s == "no" ? false : nil
        case let n as NSNumber: fragile = n.boolValue
        default: fragile = nil
        }
        if let list = fields["reasons"] as? [String] {
            reasons = list
        } else {
            reasons = (string("reasons") ?? "").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        milliseconds = double("time_ms") ?? 0
        top = []
        logits = []
    }
}
