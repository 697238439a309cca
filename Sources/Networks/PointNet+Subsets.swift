import Engine

/// A batch of clouds as PointNet sees them, from which any subsets of each cloud's points are
/// classified and explained without running the point layers again: the point layers and the head's
/// convolution run once, here; a subset then costs a masked max pool, the classifier head and, for its
/// input gradient, a backward pass through the points that win the pool.
///
/// Exact because a point's features depend on that point alone in inference: this PointNet has no
/// T-net (no transform computed from all the points), and BatchNorm normalises with its running
/// statistics. A subset's logits and input gradient are those of `forward(_:training: false)` and
/// `backward` on the cloud made of its points, in order, up to floating-point rounding.
public final class PointSubsets {
    // Float only: a concrete type gets the engine's generic layers specialised and inlined.
    public typealias T = Float
    let network: PointNet<T>
    /// The clouds, [clouds, points, 3].
    public let points: Tensor<T>
    /// The four point layers' outputs, and the head's pre-normalisation values Z [clouds, points, E]:
    /// the network's buffers, reused from batch to batch.
    var activations: [Tensor<T>] { network.subsetActivations }
    var values: Tensor<T> { network.subsetValues }
    var last: [PointSubset] = []

    init(network: PointNet<T>, points: Tensor<T>) {
        precondition(points.shape.count == 3 && points.shape[2] == 3, "PointNet expects [clouds, points, 3], got \(points.shape)")
        self.network = network
        self.points = points
        var h = points
        for i in 0 ..< 4 {
            h = network.norms[i].forwardInference(network.convs[i].forward(h, training: false), then: network.relus[i])
            network.subsetActivations[i].copy(from: h)
        }
        network.head.pointValues(h, into: network.subsetValues)
    }

    /// Logits [subsets, classes] and pooled features [subsets, E] (`globalFeature`) of the subsets.
    public func classify(_ subsets: [PointSubset]) -> (logits: Tensor<T>, features: Tensor<T>) {
        precondition(subsets.allSatisfy { $0.cloud < points.shape[0] }, "subsets of the batch's clouds")
        last = subsets
        let net = network
        let pooled = net.head.forward(subsets: subsets, values: values)
        let hidden = net.dropout.forward(net.relu6.forward(net.bn6.forward(net.linear1.forward(pooled, training: false), training: false), training: false),
                                         training: false)
        return (net.linear2.forward(hidden, training: false), pooled)
    }

    /// ∂L/∂points of each subset of the last `classify`, given ∂L/∂logits [subsets, classes]: per
    /// subset, 3 values per kept point, in the subset's order. The weights' gradients are left alone.
    public func inputGradient(_ dLogits: Tensor<T>) -> [[T]] {
        let net = network, n = points.shape[1]
        precondition(dLogits.shape == [last.count, net.architecture.classes], "∂L/∂logits [\(last.count), classes], got \(dLogits.shape)")
        let switches = [net.linear1, net.linear2].map(\.computesParameterGradients)
        net.linear1.computesParameterGradients = false
        net.linear2.computesParameterGradients = false
        defer { (net.linear1.computesParameterGradients, net.linear2.computesParameterGradients) = (switches[0], switches[1]) }
        let dPooled = net.linear1.backward(net.bn6.backward(net.relu6.backward(net.dropout.backward(net.linear2.backward(dLogits)))))
        let (rows, headGradient) = net.head.backwardSubsets(dPooled)
        // Back through the point layers at the winning points only (rows without a gradient stay 0):
        // ReLU, BatchNorm's running-statistics scale, the convolution, as `PointNet.backward` does.
        var g = headGradient
        let source = rows.map { last[$0 / n].cloud * n + $0 % n }
        for i in (0 ..< 4).reversed() {
            let (c, width) = (net.convs[i].inputs, net.convs[i].outputs)
            let scale = net.norms[i].inferenceAffine.scale, act = activations[i].pointer, gp = g.pointer
            for (r, at) in source.enumerated() {
                for ch in 0 ..< width { gp[r * width + ch] = (act[at * width + ch] > 0 ? gp[r * width + ch] : 0) * scale[ch] }
            }
            let next = Tensor<T>(shape: [rows.count, c])
            T.gemm(transA: false, transB: false, m: rows.count, n: c, k: width, alpha: 1, a: gp, lda: width,
                   b: net.convs[i].weight.value.pointer, ldb: c, beta: 0, c: next.pointer, ldc: c)
            g = next
        }
        var gradients = last.map { [T](repeating: 0, count: $0.points.count * 3) }
        // Rows come by subset, each subset's points ascending: a merge with the subset's points finds
        // each row's place in it.
        var (subset, q) = (-1, 0)
        for (r, row) in rows.enumerated() {
            let (s, p) = (row / n, row % n)
            if s != subset { (subset, q) = (s, 0) }
            while last[s].points[q] != p { q += 1 }
            for axis in 0 ..< 3 { gradients[s][q * 3 + axis] = g[r * 3 + axis] }
        }
        return gradients
    }
}

extension PointNet where T == Float {
    /// The clouds [clouds, points, 3] ready for `PointSubsets`' subset passes (inference mode); valid
    /// until the next call.
    public func subsets(of points: Tensor<T>) -> PointSubsets {
        PointSubsets(network: self, points: points)
    }
}
