import Networks
import Output
import PointClouds
import Support

/// What `adapt` trains on: labelled source clouds (with a validation part, held out or given), and
/// target clouds without labels — or with them, for reporting only.
public struct AdaptationData {
    public var source: PreparedSet
    public var validation: PreparedSet
    public var target: PreparedSet
    /// The target's labels in the model's class order; never used for training.
    public var targetLabels: [Int]?

    /// Reads the sets for `model`. `limit`: a seeded subset of at most that many clouds of each set;
    /// `validationFraction` of the source is held out when no `sourceValidation` set is given.
    /// `targetLabels`: the one `target` is a class-folder set whose labels are reported.
    public init(source: String, sourceValidation: String?, validationFraction: Double, target: [String], targetLabels: Bool,
                limit: Int?, seed: UInt64, batchSize: Int, for model: Model, reading: CloudReadOptions = CloudReadOptions(), console: Console) throws {
        func subset(_ set: PreparedSet) -> PreparedSet {
            guard let limit, set.count > limit else { return set }
            var generator = SeededGenerator(seed: seed)
            return set.subset(randomSubset(limit, of: set.count, using: &generator).sorted())
        }
        var sourceSet = subset(try LabelledData.load(source, for: model, reading: reading, console: console).set)
        if let sourceValidation {
            validation = try LabelledData.load(sourceValidation, for: model, reading: reading, console: console).set
        } else {
            (sourceSet, validation) = sourceSet.split(holdingOut: validationFraction, seed: seed)
        }
        self.source = sourceSet
        if targetLabels {
            guard target.count == 1 else { throw CommandFailure(status: .usage, message: "--target-labels needs one class-folder --target") }
            self.target = subset(try LabelledData.load(target[0], for: model, reading: reading, console: console).set)
            self.targetLabels = self.target.labels
        } else {
            let (set, failures) = try PreparedSet.load(LabelledSet(unlabelled: try CloudPaths.expand(target, reading: reading)),
                                                     preprocessing: model.metadata.preprocessing, reading: reading)
            for f in failures { console.warning("skipped \(f)") }
            guard set.count > 0 else { throw CommandFailure(status: .badInput, message: "\(target.joined(separator: " ")): no usable target clouds") }
            self.target = subset(set)
            self.targetLabels = nil
        }
        guard sourceSet.count >= batchSize, validation.count >= 1 else {
            throw CommandFailure(status: .badInput, message: "\(source): \(sourceSet.count) source clouds for training, fewer than one batch of \(batchSize)")
        }
    }
}
