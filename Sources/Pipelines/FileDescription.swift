import Adaptation
import Diagnostics
import Foundation
import Networks
import Output
import PointClouds

/// What `info` says of a file: a cloud's points, layout, fields, bounds and centroid, or a model
/// file's architecture, classes, preprocessing, training and calibration.
public enum FileDescription {
    public static func isModel(_ path: String) -> Bool { path.lowercased().hasSuffix(".safetensors") }

    /// The record of `path`, and the one line naming the file of what in it cannot be used though it
    /// could be described (a damaged calibration). `perAxis`: a cloud's bounds and centroid as one
    /// column per axis, for CSV.
    public static func record(of path: String, perAxis: Bool, reading: CloudReadOptions) throws -> (record: Record, problem: String?) {
        isModel(path) ? try model(path) : (cloud(try CloudDescription(contentsOf: path, reading: reading), perAxis: perAxis), nil)
    }

    /// A model file: architecture, classes, parameters, preprocessing and how it was trained.
    static func model(_ path: String) throws(ModelError) -> (record: Record, problem: String?) {
        let model = try Model.load(path)
        let m = model.metadata
        var r = Record()
        r["path"] = .string(path)
        r["format"] = .string("safetensors")
        r["architecture"] = .string(m.architecture.name)
        r["classes"] = Value(m.classes)
        r["parameters"] = .int(model.network.parameters.reduce(0) { $0 + $1.value.count })
        r["preprocessing"] = Value(m.preprocessing.steps.map(\.summary))
        r["layout"] = .string(m.architecture.name)  // the table's LAYOUT column names the network
        if let t = m.training {
            r["trained_on"] = .string(t.data)
            r["epochs"] = .int(t.epochs)
            r["seed"] = .int(Int(truncatingIfNeeded: t.seed))
            r["recipe"] = .string(t.recipe)
            if let a = t.validationAccuracy { r["validation_accuracy"] = .double(a) }
        }
        if let a = try AdaptationRecord(model.attachments, path: path) {
            var fields: [(key: String, value: Value)] = [
                ("source_model", .string(a.sourceModel)), ("source", .string(a.sourceData)), ("target", .string(a.targetData)),
                ("epoch", .int(a.epoch)), ("epochs", .int(a.epochs)), ("seed", .int(Int(truncatingIfNeeded: a.seed))), ("recipe", .string(a.recipe)),
                ("source_validation_accuracy", a.sourceValidationAccuracy.map(Value.double) ?? .null),
            ]
            if let g = a.targetGuard { fields.append(("guard", .object(guardRecord(g)))) }
            r["adaptation"] = .object(Record(fields: fields))
        }
        // What calibrate stored: an unreadable calibration is reported, the weights still described.
        switch Result(catching: { try Diagnostician(model: model) }) {
        case .success(let d):
            r["calibrated"] = .bool(d.calibration != nil)
            if let c = d.calibration?.record {
                r["calibration"] = .object(Record(fields: [
                    ("data", .string(c.data)), ("clean", .int(c.clean)), ("shifted", .int(c.shifted)), ("errors", .int(c.errors)),
                    ("target_recall", .double(c.targetRecall)), ("error_recall", .double(c.errorRecall)),
                    ("flagged_share", .double(c.flaggedShare)), ("l2", .double(c.penaltySearch?.chosen ?? PenaltySearch.fallback)),
                ]))
            }
        case .failure(let error):
            r["calibrated"] = .string("unreadable: \(error)")
            return (r, "\(path): the calibration cannot be used: \(error)")
        }
        return (r, nil)
    }

    /// The target guard's account in an adaptation record: what it chose and why, and its figures
    /// per epoch (the source model's first, as epoch 0).
    static func guardRecord(_ g: GuardSummary) -> Record {
        func figures(_ key: (TargetStatistics) -> Double) -> Value { .array(([g.source] + g.epochs).map { .double(key($0)) }) }
        return Record(fields: [
            ("enabled", .bool(g.enabled)), ("selected_epoch", .int(g.selectedEpoch)), ("unguarded_epoch", .int(g.unguardedEpoch)),
            ("rolled_back", .bool(g.rolledBack)), ("reason", g.reason.map(Value.string) ?? .null),
            ("failed_epochs", .array(g.failed.map(Value.int))), ("thresholds", .string(g.thresholds)),
            ("agreement", figures(\.agreement)), ("balance", figures(\.balance)), ("top_share", figures(\.topShare)),
            ("mean_confidence", figures(\.meanConfidence)), ("non_finite", figures(\.nonFinite)),
        ])
    }

    /// A record as indented `key  value` lines under its path; objects nest one level deeper.
    public static func block(_ record: Record, indent: String = "") -> String {
        let fields = record.fields.filter { $0.key != "path" && $0.key != "layout" }
        let width = fields.map(\.key.count).max() ?? 0
        let lines = fields.map { field -> String in
            let key = indent + "  " + field.key.padding(toLength: width, withPad: " ", startingAt: 0)
            switch field.value {
            case .object(let inner): return indent + "  " + field.key + "\n" + block(inner, indent: indent + "  ")
            case .array(let items): return key + "  " + items.map(\.text).joined(separator: ", ")
            default: return key + "  " + field.value.text
            }
        }
        let head = record["path"].map { [$0.text] } ?? []
        return (head + lines).joined(separator: "\n")
    }

    /// A cloud's row. `perAxis`: bounds and centroid as one column per axis (`bounds_min_x`, …), for
    /// CSV, whose cells hold one number each; otherwise as `[x, y, z]` arrays.
    static func cloud(_ d: CloudDescription, perAxis: Bool) -> Record {
        var r = Record()
        r["path"] = .string(d.path)
        r["format"] = .string(d.format.rawValue)
        r["encoding"] = .string(d.encoding.rawValue)
        r["points"] = .int(d.points)
        r["total_points"] = .int(d.totalPoints)
        r["width"] = .int(d.width)
        r["height"] = .int(d.height)
        r["organized"] = .bool(d.isOrganized)
        r["layout"] = .string(d.isOrganized ? "\(d.width)×\(d.height)" : "unorganized")
        r["fields"] = Value(d.fields)
        for (key, v) in [("bounds_min", d.boundsMin), ("bounds_max", d.boundsMax), ("centroid", d.centroid)] {
            if perAxis {
                for (axis, x) in zip(["x", "y", "z"], [v.x, v.y, v.z]) { r["\(key)_\(axis)"] = .float(x) }
            } else {
                r[key] = Value(v)
            }
        }
        return r
    }
}
