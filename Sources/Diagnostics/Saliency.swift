import Engine
import Foundation
import Networks
import PointClouds
import Support

/// A point saliency map (Zheng et al., "PointCloud Saliency Maps", ICCV 2019): for each point, how much
/// the loss would rise if the point were shifted toward the cloud's centre.
///
/// With c the per-axis median of the cloud, rᵢ = ‖xᵢ − c‖ and L the cross-entropy at `label`,
/// sᵢ = −rᵢ^α ∇ₓᵢL · (xᵢ − c) (= −∂L/∂rᵢ · rᵢ^(1+α)). Positive: moving the point inward would raise
/// the loss — the point matters to the prediction. The network runs in inference mode.
public struct SaliencyMap: Sendable, Equatable {
    /// sᵢ, one per point of the cloud as the network saw it.
    public var values: [Float]
    /// The class whose loss was differentiated: the predicted one unless a label was given.
    public var label: Int
    /// The network's answer for the cloud (same forward pass).
    public var prediction: Prediction
    /// Population skewness of the values, Σ(sᵢ − s̄)³ / (n σ³): high when a few points carry the
    /// prediction. Scale- and shift-invariant; 0 for a constant map.
    public var skewness: Double { Moments(values).skewness }
    /// Population excess kurtosis, Σ(sᵢ − s̄)⁴ / (n σ⁴) − 3; 0 for a constant map.
    public var kurtosis: Double { Moments(values).excessKurtosis }

    public init(values: [Float], label: Int, prediction: Prediction) {
        self.values = values
        self.label = label
        self.prediction = prediction
    }
}

/// Central moments of a sample, in Double.
struct Moments {
    var variance = 0.0, third = 0.0, fourth = 0.0

    init(_ values: [Float]) {
        guard !values.isEmpty else { return }
        let n = Double(values.count)
        let mean = values.reduce(0.0) { $0 + Double($1) } / n
        for v in values {
            let d = Double(v) - mean, d2 = d * d
            variance += d2
            third += d2 * d
            fourth += d2 * d2
        }
        variance /= n
        third /= n
        fourth /= n
    }

    var skewness: Double { variance > 0 ? third / (variance * variance.squareRoot()) : 0 }
    var excessKurtosis: Double { variance > 0 ? fourth / (variance * variance) - 3 : 0 }
}

extension Network {
    /// Saliency maps of a batch [clouds, points, 3]: one forward and one backward pass (input gradient
    /// only), the loss at `labels` where given (nil entries, or no labels: the predicted class).
    /// Returns the maps as rows of `Scalar`, with the labels used, the logits and the pooled features
    /// the head classified (what `FeatureStatistics` measures), one row per cloud.
    public func saliencyMaps(_ points: Tensor<Scalar>, labels: [Int?]? = nil, alpha: Double = 1)
        -> (maps: [[Scalar]], labels: [Int], logits: [[Scalar]], features: [[Scalar]])
    {
        let (clouds, n) = (points.shape[0], points.shape[1])
        precondition(labels == nil || labels!.count == clouds, "one label (or nil) per cloud")
        let (logits, features) = classify(points)
        let (gradient, used, rows) = crossEntropyGradient(logits, labels: labels)
        computeParameterGradients(false)
        let g = backward(gradient)
        computeParameterGradients(true)
        let maps = (0 ..< clouds).map { b in
            let base = b * n * 3
            return saliencyValues(points: n, alpha: alpha, coordinate: { points[base + $0] }, gradient: { g[base + $0] })
        }
        return (maps, used, rows, features)
    }
}

/// ∂L/∂logits [rows, classes] of each row's own cross-entropy — softmax − one-hot — at `labels`
/// (nil entries, or no labels: the row's predicted class), with the labels used and the logits as rows.
func crossEntropyGradient<S: EngineScalar>(_ logits: Tensor<S>, labels: [Int?]?) -> (gradient: Tensor<S>, labels: [Int], rows: [[S]]) {
    let (count, k) = (logits.rows, logits.channels)
    precondition(labels == nil || labels!.count == count, "one label (or nil) per cloud")
    let gradient = Tensor<S>(shape: [count, k])
    var used = [Int](), rows = [[S]]()
    for b in 0 ..< count {
        let row = (0 ..< k).map { logits[b * k + $0] }
        let label = labels?[b] ?? argmax(row)!
        precondition(label >= 0 && label < k, "label \(label) outside the model's \(k) classes")
        let top = row.max()!
        let e = row.map { S.exp($0 - top) }
        let total = e.reduce(0, +)
        for c in 0 ..< k { gradient[b * k + c] = e[c] / total - (c == label ? 1 : 0) }
        used.append(label)
        rows.append(row)
    }
    return (gradient, used, rows)
}

/// sᵢ (see `SaliencyMap`) of one cloud's n points, from their coordinates and the loss gradient at
/// them, each as 3n values (point i's x, y, z at 3i, 3i + 1, 3i + 2).
func saliencyValues<S: EngineScalar>(points n: Int, alpha: Double, coordinate: (Int) -> S, gradient: (Int) -> S) -> [S] {
    let centre = (0 ..< 3).map { axis in lowerMedian((0 ..< n).map { coordinate($0 * 3 + axis) }) }
    return (0 ..< n).map { i in
        var dot: S = 0, r2: S = 0
        for axis in 0 ..< 3 {
            let d = coordinate(i * 3 + axis) - centre[axis]
            dot += gradient(i * 3 + axis) * d
            r2 += d * d
        }
        let radius = Double(r2).squareRoot()
        return -S(alpha == 1 ? radius : pow(radius, alpha)) * dot
    }
}

/// Saliency per distinct location: a cloud resampled up to the network's size repeats points, and the
/// max pool sends a repeated point's gradient to one copy, so each location's values are summed (its
/// whole effect) and the copies counted once. In order of each location's first point, so the
/// statistics over them come out the same to the bit in every run.
func distinctPointSaliency(_ values: [Float], points: [SIMD3<Float>]) -> [Double] {
    var slot = [SIMD3<Float>: Int](minimumCapacity: points.count)
    var sums = [Double]()
    for (p, s) in zip(points, values) {
        if let i = slot[p] {
            sums[i] += Double(s)
        } else {
            slot[p] = sums.count
            sums.append(Double(s))
        }
    }
    return sums
}

extension Network where Scalar == Float {
    /// The SM-DSB measurer (DESIGN §3): each cloud's saliency-map skewness under the current weights,
    /// the loss at the predicted class, BatchNorm in inference mode, over distinct points (as
    /// `Indicators`). One forward and one input-gradient pass over the batch [clouds, points, 3].
    public func saliencySkewness(_ points: Tensor<Float>, alpha: Double = 1) -> [Double] {
        let maps = saliencyMaps(points, alpha: alpha).maps
        let n = points.shape[1]
        return maps.enumerated().map { b, map in
            let cloud = (0 ..< n).map { j in
                let base = (b * n + j) * 3
                return SIMD3(points[base], points[base + 1], points[base + 2])
            }
            return Moments(distinctPointSaliency(map, points: cloud).map { Float($0) }).skewness
        }
    }
}

/// The lower of the two middle values for an even count, as PyTorch's `median` (the reference
/// implementation's centre).
func lowerMedian<T: Comparable>(_ values: [T]) -> T {
    values.sorted()[(values.count - 1) / 2]
}

extension Model {
    /// Saliency maps of clouds prepared for this model (see `prepare`): clouds of equal size are
    /// batched (`batchSize` at most); results in input order. `labels`: the class to explain per cloud
    /// (nil: the predicted one).
    public func saliency(_ clouds: [PointCloud], labels: [Int?]? = nil, alpha: Double = 1, batchSize: Int = 16) -> [SaliencyMap] {
        sizeBatched(clouds, batchSize: batchSize) { chunk in
            let out = network.saliencyMaps(pointsTensor(chunk.map { clouds[$0] }), labels: labels.map { l in chunk.map { l[$0] } }, alpha: alpha)
            return chunk.indices.map { row in
                SaliencyMap(values: out.maps[row], label: out.labels[row], prediction: Prediction(logits: out.logits[row]))
            }
        }
    }
}
