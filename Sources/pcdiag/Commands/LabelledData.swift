import Foundation
import Output
import Networks
import PointClouds

/// A labelled set read and prepared for a model, its labels in the model's class order: what
/// `evaluate`, `calibrate` and `evaluate-ood` read. Unreadable files are skipped with a warning.
enum LabelledData {
    static func load(_ data: String, for model: Model, console: Console) throws -> (set: PreparedSet, skipped: Int) {
        let set = try LabelledSet(at: data)
        let known = Dictionary(uniqueKeysWithValues: model.metadata.classes.enumerated().map { ($1, $0) })
        let unknown = set.classes.filter { known[$0] == nil }
        guard unknown.isEmpty else {
            throw CommandFailure(status: .badInput, message: "\(data): classes the model does not know: \(unknown.joined(separator: ", "))")
        }
        var (prepared, failures) = try PreparedSet.load(set, preprocessing: model.metadata.preprocessing)
        for f in failures { console.warning("skipped \(f)") }
        guard prepared.count > 0 else { throw CommandFailure(status: .badInput, message: "\(data): no usable clouds") }
        prepared.labels = prepared.labels.map { known[set.classes[$0]]! }
        prepared.classes = model.metadata.classes
        return (prepared, failures.count)
    }
}
