import Engine
import Networks
import PointClouds
import Support

/// What the diagnostics compute beyond the one forward/backward pass, and how.
public struct DiagnosisOptions: Sendable, Equatable, Codable {
    /// The saliency exponent α of DESIGN §3.
    public var alpha = 1.0
    /// Random-drop trials for `flip_rate` (0: not computed).
    public var flipTrials = 8
    /// Share of the points each trial drops.
    public var flipDropFraction = 0.1
    /// Rounds of salient-point dropping for `drop_rounds` (0: not computed).
    public var dropRounds = 10
    /// Share of the cloud's points dropped per round.
    public var dropStep = 0.05
    public var batchSize = 16

    public init() {}

    /// Bounds on stored options (a calibration's): beyond them a file asks for absurd work.
    public enum Limits {
        public static let alpha = 0.0 ... 100.0
        public static let trials = 0 ... 1000
        public static let fraction = 0.0 ... 1.0
        public static let batchSize = 1 ... 1024
    }

    /// Why these options cannot be used, or nil when they can.
    public var problem: String? {
        if !Limits.alpha.contains(alpha) { return "a saliency exponent α of \(alpha) (allowed \(Limits.alpha))" }
        if !Limits.trials.contains(flipTrials) { return "\(flipTrials) flip trials (allowed \(Limits.trials))" }
        if !Limits.fraction.contains(flipDropFraction) { return "a flip drop fraction of \(flipDropFraction) (allowed \(Limits.fraction))" }
        if !Limits.trials.contains(dropRounds) { return "\(dropRounds) drop rounds (allowed \(Limits.trials))" }
        if !Limits.fraction.contains(dropStep) { return "a drop step of \(dropStep) (allowed \(Limits.fraction))" }
        if !Limits.batchSize.contains(batchSize) { return "a batch size of \(batchSize) (allowed \(Limits.batchSize))" }
        return nil
    }
}

/// One cloud's prediction with its indicators and its saliency map.
public struct Diagnosis: Sendable {
    public var map: SaliencyMap
    public var indicators: Indicators
    /// The pooled feature the network classified (what `FeatureStatistics` measures).
    public var feature: [Float]

    public var prediction: Prediction { map.prediction }
}

extension Model {
    /// Diagnoses clouds prepared for this model (see `prepare`): the saliency map of the predicted
    /// class, every indicator (the Mahalanobis distance when `statistics` are given) and the stability
    /// ones per `options`. Clouds of equal size are batched; results in input order. The random drops
    /// are seeded by each cloud's own points, so a cloud gets the same figures in any batch, shard or order.
    public func diagnose(_ clouds: [PointCloud], statistics: FeatureStatistics? = nil, options: DiagnosisOptions = .init()) -> [Diagnosis] {
        sizeBatched(clouds, batchSize: options.batchSize) { chunk in
            diagnoseBatch(chunk.map { clouds[$0] }, statistics: statistics, options: options)
        }
    }

    private func diagnoseBatch(_ clouds: [PointCloud], statistics: FeatureStatistics?, options: DiagnosisOptions) -> [Diagnosis] {
        let points = pointsTensor(clouds)
        let out = network.saliencyMaps(points, alpha: options.alpha)
        var diagnoses = clouds.indices.map { b in
            let map = SaliencyMap(values: out.maps[b], label: out.labels[b], prediction: Prediction(logits: out.logits[b]))
            var indicators = Indicators(map: map, points: clouds[b].positions)
            let feature = out.features[b]
            indicators.mahalanobis = statistics.map { $0.distance(feature) }
            return Diagnosis(map: map, indicators: indicators, feature: feature)
        }
        let predicted = out.labels
        if options.flipTrials > 0 {
            let rates = flipRates(clouds, predicted: predicted, options: options)
            for b in diagnoses.indices { diagnoses[b].indicators.flipRate = rates[b] }
        }
        if options.dropRounds > 0 {
            let rounds = dropRounds(points, maps: out.maps, predicted: predicted, options: options)
            for b in diagnoses.indices { diagnoses[b].indicators.dropRounds = rounds[b] }
        }
        return diagnoses
    }

    /// Share of `flipTrials` random drops of `flipDropFraction` of the points that change the class;
    /// 0 when the cloud has no point to spare above the network's minimum.
    private func flipRates(_ clouds: [PointCloud], predicted: [Int], options: DiagnosisOptions) -> [Double] {
        let n = clouds[0].count
        let kept = max(metadata.architecture.minimumPoints, n - Int((options.flipDropFraction * Double(n)).rounded()))
        guard kept < n else { return clouds.map { _ in 0 } }
        var generators = clouds.map { SeededGenerator(seed: FNV1a.hash($0.positions)) }
        var flips = [Int](repeating: 0, count: clouds.count)
        for _ in 0 ..< options.flipTrials {
            let thinned = clouds.indices.map { b in
                var order = Array(0 ..< n)
                // A partial Fisher–Yates shuffle: the first `kept` entries are a uniform random subset.
                for i in 0 ..< kept { order.swapAt(i, Int.random(in: i ..< n, using: &generators[b])) }
                return order[..<kept].sorted().map { clouds[b].positions[$0] }
            }
            for (b, prediction) in predictLabels(thinned).enumerated() where prediction != predicted[b] { flips[b] += 1 }
        }
        return flips.map { Double($0) / Double(options.flipTrials) }
    }

    /// Rounds of dropping each cloud's `dropStep` most salient points (saliency of the originally
    /// predicted class, recomputed on what is left) until the class changes; `dropRounds` + 1 when it
    /// never does, or when the cloud would fall below what the network needs.
    private func dropRounds(_ points: Tensor<Float>, maps: [[Float]], predicted: [Int], options: DiagnosisOptions) -> [Double] {
        let (clouds, n0) = (points.shape[0], points.shape[1])
        let step = max(1, Int((options.dropStep * Double(n0)).rounded()))
        var current = (0 ..< clouds).map { b in (0 ..< n0).map { i in SIMD3(points[(b * n0 + i) * 3], points[(b * n0 + i) * 3 + 1], points[(b * n0 + i) * 3 + 2]) } }
        var maps = maps
        var flipped = [Int?](repeating: nil, count: clouds)
        var round = 0
        while round < options.dropRounds, flipped.contains(nil), current[0].count - step >= metadata.architecture.minimumPoints {
            round += 1
            for b in 0 ..< clouds {
                let dropped = Set(maps[b].indices.sorted { maps[b][$0] > maps[b][$1] }.prefix(step))
                current[b] = current[b].indices.filter { !dropped.contains($0) }.map { current[b][$0] }
            }
            let out = network.saliencyMaps(pointsTensor(current), labels: predicted, alpha: options.alpha)
            maps = out.maps
            for b in 0 ..< clouds where flipped[b] == nil {
                if argmax(out.logits[b])! != predicted[b] { flipped[b] = round }
            }
        }
        return flipped.map { Double($0 ?? options.dropRounds + 1) }
    }

    private func predictLabels(_ clouds: [[SIMD3<Float>]]) -> [Int] {
        let logits = network.forward(pointsTensor(clouds), training: false)
        return rowArgmax(logits.array, width: logits.channels)
    }
}

/// A model with what its file carries for diagnostics: the feature statistics and the calibration,
/// when `pcdiag calibrate` stored them. Diagnoses with the calibration's options.
public struct Diagnostician {
    public let model: Model
    public let statistics: FeatureStatistics?
    public let calibration: Calibration?
    public var options: DiagnosisOptions

    /// Fails when what the file stores for diagnostics is unusable: a part of the calibration missing,
    /// of the wrong shape, or asking for absurd work. A model without any calibration is fine.
    public init(model: Model) throws(DiagnosticsError) {
        self.model = model
        do {
            statistics = try FeatureStatistics(model.attachments)
            calibration = try Calibration(model.attachments)
        } catch let error as DiagnosticsError {
            throw error
        } catch {
            throw .calibration("the stored diagnostics are unreadable: \(error)")
        }
        if let statistics {
            if statistics.classMeans.count != model.metadata.classes.count {
                throw .calibration("the stored feature statistics have \(statistics.classMeans.count) classes, the model \(model.metadata.classes.count)")
            }
            let channels = model.metadata.architecture.globalFeatureChannels
            if statistics.dimension != channels {
                throw .calibration("the stored feature statistics have \(statistics.dimension) dimensions, the network's feature \(channels)")
            }
        }
        if calibration != nil && statistics == nil {
            let names = FeatureStatistics.tensorNames
            throw .calibration("the calibration is incomplete: missing tensors " + [names.means, names.basis, names.variances]
                .map { Attachments.prefix + $0 }.joined(separator: ", ") + " (recalibrate with pcdiag calibrate)")
        }
        if statistics != nil && calibration == nil {
            throw .calibration("the calibration is incomplete: missing metadata \(Attachments.prefix + Calibration.metadataKey) "
                + "(recalibrate with pcdiag calibrate)")
        }
        if let problem = calibration?.problem { throw .calibration("the stored calibration is not valid: \(problem)") }
        options = calibration?.options ?? .init()
    }

    /// Diagnoses prepared clouds and, when calibrated, assesses each.
    public func examine(_ clouds: [PointCloud]) -> [(diagnosis: Diagnosis, assessment: Assessment?)] {
        model.diagnose(clouds, statistics: statistics, options: options).map { ($0, calibration?.assess($0.indicators)) }
    }
}
