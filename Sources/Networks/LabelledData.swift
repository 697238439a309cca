import Output
import PointClouds
import Support

/// A labelled set (class folders or a CSV manifest) read and prepared for a model: what `evaluate`,
/// `robustness`, `calibrate`, `evaluate-ood` and `adapt` read. Unreadable files are skipped with a
/// warning; a set left with no usable cloud is an error naming it.
public enum LabelledData {
    /// The set prepared for `model`, its labels in the model's class order (`classes` are the model's);
    /// a class the model does not know is an error. At most `limit` clouds (`LabelledSet.limited`).
    public static func load(_ data: String, for model: Model, limit: Int? = nil, seed: UInt64 = 1,
                            reading: CloudReadOptions = CloudReadOptions(), console: Console) throws(PointCloudError) -> (set: PreparedSet, skipped: Int) {
        let set = try LabelledSet(at: data, reading: reading)
        let known = Dictionary(uniqueKeysWithValues: model.metadata.classes.enumerated().map { ($1, $0) })
        let unknown = set.classes.filter { known[$0] == nil }
        guard unknown.isEmpty else {
            throw .invalid(path: data, reason: "classes the model does not know: \(unknown.joined(separator: ", "))")
        }
        var (prepared, skipped) = try prepare(set.limited(to: limit, seed: seed), data, model.metadata.preprocessing, reading, console)
        prepared.labels = prepared.labels.map { known[set.classes[$0]]! }
        prepared.classes = model.metadata.classes
        return (prepared, skipped)
    }

    /// The set prepared with `preprocessing`, its own classes kept (they need not be a model's), without
    /// the clouds of the classes in `excluding`. At most `limit` clouds (`LabelledSet.limited`).
    public static func load(_ data: String, preprocessing: Preprocessing, excluding: Set<String> = [], limit: Int? = nil,
                            seed: UInt64 = 1, reading: CloudReadOptions = CloudReadOptions(), console: Console) throws(PointCloudError) -> (set: PreparedSet, skipped: Int) {
        var set = try LabelledSet(at: data, reading: reading)
        set.samples = set.samples.filter { !excluding.contains(set.classes[$0.label]) }
        return try prepare(set.limited(to: limit, seed: seed), data, preprocessing, reading, console)
    }

    static func prepare(_ set: LabelledSet, _ data: String, _ preprocessing: Preprocessing, _ reading: CloudReadOptions,
                        _ console: Console) throws(PointCloudError) -> (set: PreparedSet, skipped: Int) {
        let bar = console.progress(total: set.samples.count, label: "reading \(data)")
        let (prepared, failures) = try PreparedSet.load(set, preprocessing: preprocessing, reading: reading) { bar.advance(by: $0) }
        bar.finish()
        for f in failures { console.warning("skipped \(f)") }
        guard prepared.count > 0 else { throw .invalid(path: data, reason: "no usable clouds") }
        return (prepared, failures.count)
    }
}

extension LabelledSet {
    /// At most `limit` samples: a seeded random subset (`randomSubset`) kept in the set's order; the
    /// whole set when `limit` is nil or not below the number of samples. Taken before the files are
    /// read, so the same seed picks the same files for every model.
    public func limited(to limit: Int?, seed: UInt64) -> LabelledSet {
        guard let limit, limit < samples.count else { return self }
        var generator = SeededGenerator(seed: seed)
        var subset = self
        subset.samples = randomSubset(limit, of: samples.count, using: &generator).sorted().map { samples[$0] }
        return subset
    }
}
