import Engine
import Networks
import Output
import PointClouds
import Support

/// How `calibrate` draws its data: which clean clouds are diagnosed and how their shifted copies are made.
public struct CalibrationPlan: Sendable {
    /// Each diagnosed clean cloud gets one shifted copy, its corruption drawn from these.
    public var corruptions: [Corruption]
    /// At most this many clean clouds are diagnosed (a seeded random subset); the feature statistics
    /// use every cloud, which costs a forward pass each.
    public var limit: Int
    /// The share of wrong answers the fragility threshold must flag on the calibration data.
    public var recall: Double
    public var seed: UInt64
    public var options: DiagnosisOptions

    /// The shifts scans show against CAD models — missing parts, sensor noise and density, clutter —
    /// at a moderate and a strong severity.
    public static let defaultCorruptions: [Corruption] = [Corruption.Kind]([
        .occlusion, .dropoutLocal, .addLocal, .jitter, .lidar, .density, .scale, .addGlobal,
    ]).flatMap { kind in [2, 4].map { Corruption(kind, severity: $0) } }

    public init(corruptions: [Corruption] = Self.defaultCorruptions, limit: Int = 1000, recall: Double = 0.95,
                seed: UInt64 = 1, options: DiagnosisOptions = .init()) {
        self.corruptions = corruptions
        self.limit = limit
        self.recall = recall
        self.seed = seed
        self.options = options
    }

    /// The fewest usable labelled clouds a calibration can be fitted on, for a model of `classes`
    /// classes: the feature statistics need more clouds than classes (`FeatureStatistics.fit`).
    public static func minimumClouds(classes: Int) -> Int { classes + 1 }
}

extension Model {
    /// The pooled features of every cloud of `set` (inference mode), [clouds][E].
    public func features(_ set: PreparedSet, batchSize: Int = 32, progress: (Int) -> Void = { _ in }) -> [[Float]] {
        let tensor = Tensor<Float>(shape: [0])
        var features = [[Float]]()
        for start in stride(from: 0, to: set.count, by: batchSize) {
            let indices = Array(start ..< min(start + batchSize, set.count))
            set.batch(indices[...], into: tensor)
            features += network.classify(tensor).features
            progress(indices.count)
        }
        return features
    }

    /// Calibrates on a labelled source set (labels in the model's class order): feature statistics
    /// from every cloud, then the calibration from diagnoses of `plan.limit` clean clouds and one
    /// shifted copy of each. Returns the model with both attached, and the diagnoses it was fitted on.
    /// `progress` counts clouds, out of `set.count + 2 × min(limit, set.count)`.
    /// Too small a set fails before any network pass.
    public func calibrated(on set: PreparedSet, data: String, plan: CalibrationPlan,
                           progress: (Int) -> Void = { _ in }) throws -> (model: Model, sample: CalibrationSample) {
        let needed = CalibrationPlan.minimumClouds(classes: metadata.classes.count)
        guard set.count >= needed else {
            throw DiagnosticsError.calibration("a calibration needs at least \(needed) usable labelled clouds (more than the model's \(metadata.classes.count) classes); the set has \(set.count)")
        }
        let statistics = try FeatureStatistics.fit(features: features(set, progress: progress), labels: set.labels,
                                                   classes: metadata.classes.count)
        var generator = SeededGenerator(seed: plan.seed)
        let chosen = randomSubset(plan.limit, of: set.count, using: &generator)
        let clean = chosen.map(set.cloud)
        // A shifted copy: the corruption acts on the prepared (unit-sphere) cloud, as in ModelNet-C,
        // and the result is prepared again, as a scan would be.
        var drawn = [String]()
        let shifted = try zip(chosen, clean).map { i, cloud throws(PointCloudError) in
            let corruption = plan.corruptions[Int(generator.next() % UInt64(plan.corruptions.count))]
            drawn.append("\(corruption.kind.rawValue):\(corruption.severity)")
            return try prepare(corruption.apply(to: cloud, seed: generator.next()), path: set.paths[i])
        }
        var diagnoses = [Diagnosis]()
        for start in stride(from: 0, to: clean.count * 2, by: plan.options.batchSize) {
            let end = min(start + plan.options.batchSize, clean.count * 2)
            let batch = (start ..< end).map { $0 < clean.count ? clean[$0] : shifted[$0 - clean.count] }
            diagnoses += diagnose(batch, statistics: statistics, options: plan.options)
            progress(batch.count)
        }
        let labels = chosen.map { set.labels[$0] }
        let sample = CalibrationSample(paths: chosen.map { set.paths[$0] }, labels: labels,
                                       clean: Array(diagnoses[..<clean.count]), shifted: Array(diagnoses[clean.count...]),
                                       shifts: drawn)
        let calibration = try Calibration.fit(clean: sample.clean, cleanLabels: labels, shifted: sample.shifted,
                                              shiftedLabels: labels, options: plan.options, recall: plan.recall, data: data,
                                              shifts: drawn, seed: plan.seed)
        var model = self
        statistics.store(in: &model.attachments)
        try calibration.store(in: &model.attachments)
        return (model, sample)
    }

    /// `calibrate`: reads the labelled source set `data` for this model (`LabelledData`) and calibrates
    /// on it, progress on `console`.
    public func calibrated(data: String, plan: CalibrationPlan, reading: CloudReadOptions = CloudReadOptions(),
                           console: Console) throws -> (model: Model, sample: CalibrationSample) {
        let (set, _) = try LabelledData.load(data, for: self, reading: reading, console: console)
        let bar = console.progress(total: set.count + 2 * min(plan.limit, set.count), label: "calibrate")
        defer { bar.finish() }
        return try calibrated(on: set, data: data, plan: plan) { bar.advance(by: $0) }
    }
}

/// The diagnoses a calibration was fitted on: each chosen clean cloud and its shifted copy, with the
/// true label they share and the corruption ("kind:severity") that made the copy.
public struct CalibrationSample: Sendable {
    public var paths: [String]
    public var labels: [Int]
    public var clean: [Diagnosis]
    public var shifted: [Diagnosis]
    public var shifts: [String]
}
