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
        let passes = subsetPasses(clouds, batchSize: options.batchSize)
        let n = clouds[0].count
        let out = passes.saliency(clouds.indices.map { PointSubset(cloud: $0, points: Array(0 ..< n)) }, labels: nil, alpha: options.alpha)
        var diagnoses = clouds.indices.map { b in
            let map = SaliencyMap(values: out.maps[b], label: out.labels[b], prediction: Prediction(logits: out.logits[b]))
            var indicators = Indicators(map: map, points: clouds[b].positions)
            let feature = out.features[b]
            indicators.mahalanobis = statistics.map { $0.distance(feature) }
            return Diagnosis(map: map, indicators: indicators, feature: feature)
        }
        let predicted = out.labels
        if options.flipTrials > 0 {
            let rates = flipRates(clouds, passes: passes, predicted: predicted, options: options)
            for b in diagnoses.indices { diagnoses[b].indicators.flipRate = rates[b] }
        }
        if options.dropRounds > 0 {
            let rounds = dropRounds(points: n, passes: passes, maps: out.maps, predicted: predicted, options: options)
            for b in diagnoses.indices { diagnoses[b].indicators.dropRounds = rounds[b] }
        }
        return diagnoses
    }

    /// PointNet's points do not see each other, so its subsets are a masked max pool over one pass
    /// (`PointSubsets`); any other network (DGCNN's neighbourhoods change when points drop) runs
    /// again on each subset's points.
    private func subsetPasses(_ clouds: [PointCloud], batchSize: Int) -> any SubsetPasses {
        if let pointnet = network as? PointNet<Float> {
            return PointNetPasses(subsets: pointnet.subsets(of: pointsTensor(clouds)), clouds: clouds.map(\.positions))
        }
        return NetworkPasses(network: network, clouds: clouds.map(\.positions), batchSize: batchSize)
    }

    /// Share of `flipTrials` random drops of `flipDropFraction` of the points that change the class;
    /// 0 when the cloud has no point to spare above the network's minimum. Every trial of every cloud
    /// in one call: the passes batch them as they can.
    private func flipRates(_ clouds: [PointCloud], passes: any SubsetPasses, predicted: [Int], options: DiagnosisOptions) -> [Double] {
        let n = clouds[0].count
        let kept = max(metadata.architecture.minimumPoints, n - Int((options.flipDropFraction * Double(n)).rounded()))
        guard kept < n else { return clouds.map { _ in 0 } }
        var trials = [PointSubset]()
        for b in clouds.indices {
            var generator = SeededGenerator(seed: FNV1a.hash(clouds[b].positions))
            for _ in 0 ..< options.flipTrials {
                var order = Array(0 ..< n)
                // A partial Fisher–Yates shuffle: the first `kept` entries are a uniform random subset.
                for i in 0 ..< kept { order.swapAt(i, Int.random(in: i ..< n, using: &generator)) }
                trials.append(PointSubset(cloud: b, points: order[..<kept].sorted()))
            }
        }
        var flips = [Int](repeating: 0, count: clouds.count)
        for (trial, logits) in zip(trials, passes.logits(trials)) where argmax(logits)! != predicted[trial.cloud] { flips[trial.cloud] += 1 }
        return flips.map { Double($0) / Double(options.flipTrials) }
    }

    /// Rounds of dropping each cloud's `dropStep` most salient points (saliency of the originally
    /// predicted class, recomputed on what is left) until the class changes; `dropRounds` + 1 when it
    /// never does, or when the cloud would fall below what the network needs. A cloud leaves the
    /// rounds once its class has changed, and a round after which none follows needs no saliency.
    private func dropRounds(points n0: Int, passes: any SubsetPasses, maps: [[Float]], predicted: [Int], options: DiagnosisOptions) -> [Double] {
        let step = max(1, Int((options.dropStep * Double(n0)).rounded()))
        var kept = predicted.map { _ in Array(0 ..< n0) }, maps = maps
        var flipped = [Int?](repeating: nil, count: predicted.count)
        var active = Array(predicted.indices)
        var (round, size) = (0, n0)
        let minimum = metadata.architecture.minimumPoints
        while round < options.dropRounds, !active.isEmpty, size - step >= minimum {
            round += 1
            size -= step
            for b in active {
                let dropped = Set(maps[b].indices.sorted { maps[b][$0] > maps[b][$1] }.prefix(step))
                kept[b] = kept[b].indices.filter { !dropped.contains($0) }.map { kept[b][$0] }
            }
            let subsets = active.map { PointSubset(cloud: $0, points: kept[$0]) }
            let logits: [[Float]]
            if round == options.dropRounds || size - step < minimum {
                logits = passes.logits(subsets)
            } else {
                let out = passes.saliency(subsets, labels: active.map { predicted[$0] }, alpha: options.alpha)
                logits = out.logits
                for (b, map) in zip(active, out.maps) { maps[b] = map }
            }
            for (b, row) in zip(active, logits) where argmax(row)! != predicted[b] { flipped[b] = round }
            active.removeAll { flipped[$0] != nil }
        }
        return flipped.map { Double($0 ?? options.dropRounds + 1) }
    }
}

/// The passes a diagnosis runs over subsets of a batch's clouds (each subset's points in their
/// cloud's order): one row of logits per subset, or saliency maps with their labels, logits and
/// pooled features.
private protocol SubsetPasses {
    func logits(_ subsets: [PointSubset]) -> [[Float]]
    func saliency(_ subsets: [PointSubset], labels: [Int?]?, alpha: Double) -> (maps: [[Float]], labels: [Int], logits: [[Float]], features: [[Float]])
}

/// Subsets as new clouds through the whole network, `batchSize` at a time (each batch one size).
private struct NetworkPasses: SubsetPasses {
    let network: any Network<Float>
    let clouds: [[SIMD3<Float>]]
    let batchSize: Int

    func batches<R>(_ subsets: [PointSubset], _ body: (Tensor<Float>, Range<Int>) -> [R]) -> [R] {
        stride(from: 0, to: subsets.count, by: batchSize).flatMap { start in
            let range = start ..< min(start + batchSize, subsets.count)
            return body(pointsTensor(subsets[range].map { s in s.points.map { clouds[s.cloud][$0] } }), range)
        }
    }

    func logits(_ subsets: [PointSubset]) -> [[Float]] {
        batches(subsets) { points, _ in
            let logits = network.forward(points, training: false), k = logits.channels
            return (0 ..< logits.rows).map { b in (0 ..< k).map { logits[b * k + $0] } }
        }
    }

    func saliency(_ subsets: [PointSubset], labels: [Int?]?, alpha: Double) -> (maps: [[Float]], labels: [Int], logits: [[Float]], features: [[Float]]) {
        let parts = batches(subsets) { points, range in
            let out = network.saliencyMaps(points, labels: labels.map { Array($0[range]) }, alpha: alpha)
            return range.indices.map { (out.maps[$0], out.labels[$0], out.logits[$0], out.features[$0]) }
        }
        return (parts.map(\.0), parts.map(\.1), parts.map(\.2), parts.map(\.3))
    }
}

/// PointNet's subsets from one pass over the batch (`PointSubsets`), all in one call.
private struct PointNetPasses: SubsetPasses {
    let subsets: PointSubsets
    let clouds: [[SIMD3<Float>]]

    func logits(_ chosen: [PointSubset]) -> [[Float]] {
        let logits = subsets.classify(chosen).logits, k = logits.channels
        return chosen.indices.map { s in (0 ..< k).map { logits[s * k + $0] } }
    }

    func saliency(_ chosen: [PointSubset], labels: [Int?]?, alpha: Double) -> (maps: [[Float]], labels: [Int], logits: [[Float]], features: [[Float]]) {
        let (logits, pooled) = subsets.classify(chosen)
        let (gradient, used, rows) = crossEntropyGradient(logits, labels: labels)
        let g = subsets.inputGradient(gradient), width = pooled.channels
        let maps = chosen.enumerated().map { s, subset in
            let points = subset.points.map { clouds[subset.cloud][$0] }
            return saliencyValues(points: points.count, alpha: alpha, coordinate: { points[$0 / 3][$0 % 3] }, gradient: { g[s][$0] })
        }
        return (maps, used, rows, chosen.indices.map { s in (0 ..< width).map { pooled[s * width + $0] } })
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
