import Engine
import PointClouds
import Support

/// One cloud's result: the predicted class, the softmax probabilities and the raw logits.
public struct Prediction: Sendable, Equatable {
    public var label: Int
    public var probabilities: [Float]
    public var logits: [Float]

    public init(logits: [Float]) {
        self.logits = logits
        let top = logits.max() ?? 0
        let e = logits.map { Float.exp($0 - top) }
        let total = e.reduce(0, +)
        probabilities = e.map { $0 / total }
        label = argmax(logits) ?? 0
    }

    /// Class indices by decreasing probability.
    public func top(_ k: Int) -> [Int] {
        Array(probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(k))
    }
}

/// Packs clouds of equal size into a [clouds, points, 3] tensor.
public func pointsTensor(_ clouds: [PointCloud]) -> Tensor<Float> {
    pointsTensor(clouds.map(\.positions))
}

/// Packs point lists of equal size into a [clouds, points, 3] tensor.
public func pointsTensor(_ clouds: [[SIMD3<Float>]]) -> Tensor<Float> {
    let n = clouds.first?.count ?? 0
    precondition(clouds.allSatisfy { $0.count == n }, "a batch needs clouds of one size")
    let t = Tensor<Float>(shape: [clouds.count, n, 3])
    var i = 0
    for cloud in clouds {
        for p in cloud {
            t[i] = p.x; t[i + 1] = p.y; t[i + 2] = p.z
            i += 3
        }
    }
    return t
}

extension Model {
    /// Prepares a cloud as the model was trained to see it (the preprocessing stored in the file).
    public func prepare(_ cloud: PointCloud, path: String) throws(PointCloudError) -> PointCloud {
        try metadata.preprocessing.apply(to: cloud, path: path).cloud
    }

    /// Runs the network in inference mode. Clouds of the same size are batched together (`batchSize`
    /// at most); the results come back in input order.
    public func predict(_ clouds: [PointCloud], batchSize: Int = 16) -> [Prediction] {
        sizeBatched(clouds, batchSize: batchSize) { chunk in
            let logits = network.forward(pointsTensor(chunk.map { clouds[$0] }), training: false)
            let k = logits.channels
            return chunk.indices.map { row in Prediction(logits: (0 ..< k).map { logits[row * k + $0] }) }
        }
    }
}

/// Runs `body` on the indices of at most `batchSize` clouds of one size at a time (a network pass
/// takes one size) and returns its results, one per cloud, in input order.
public func sizeBatched<R>(_ clouds: [PointCloud], batchSize: Int, _ body: ([Int]) -> [R]) -> [R] {
    precondition(batchSize >= 1, "batches of at least one cloud")
    var results = [R?](repeating: nil, count: clouds.count)
    let bySize = Dictionary(grouping: clouds.indices, by: { clouds[$0].count })
    for (_, indices) in bySize.sorted(by: { $0.key < $1.key }) {
        for start in stride(from: 0, to: indices.count, by: batchSize) {
            let chunk = Array(indices[start ..< min(start + batchSize, indices.count)])
            let out = body(chunk)
            precondition(out.count == chunk.count, "one result per cloud")
            for (index, result) in zip(chunk, out) { results[index] = result }
        }
    }
    return results.map { $0! }
}
