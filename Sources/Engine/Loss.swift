/// Softmax over the last dimension, row by row, computed stably (max subtracted).
@inlinable
public func softmax<T: EngineScalar>(_ logits: Tensor<T>) -> [[T]] {
    let k = logits.channels
    return (0 ..< logits.rows).map { r in
        let row = (0 ..< k).map { logits[r * k + $0] }
        let top = row.max() ?? 0
        let e = row.map { T.exp($0 - top) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }
}

/// Mean softmax cross-entropy over a batch, with label smoothing ε (the target puts 1 − ε on the label
/// and ε/K on every class, as PyTorch's `label_smoothing`). Also returns ∂loss/∂logits.
public struct SoftmaxCrossEntropy<T: EngineScalar> {
    public var labelSmoothing: Double

    public init(labelSmoothing: Double = 0) { self.labelSmoothing = labelSmoothing }

    @inlinable
    public func callAsFunction(_ logits: Tensor<T>, labels: [Int], gradient: Tensor<T>) -> Double {
        let k = logits.channels
        precondition(labels.allSatisfy { (0 ..< k).contains($0) }, "labels do not fit the logits")
        return self(logits, targets: labels.map { l in (0 ..< k).map { $0 == l ? 1 : 0 } }, gradient: gradient)
    }

    /// Soft targets (each row a distribution over the classes: mixed labels), smoothed as above, and
    /// optional per-row weights: the loss is Σ wᵣ CEᵣ / Σ wᵣ, so a row of weight 0 contributes nothing
    /// and the rest keep their scale. All weights 0: loss and gradient 0.
    @inlinable
    public func callAsFunction(_ logits: Tensor<T>, targets: [[Double]], weights: [Double]? = nil, gradient: Tensor<T>) -> Double {
        let k = logits.channels, b = logits.rows
        precondition(targets.count == b && targets.allSatisfy { $0.count == k }, "targets do not fit the logits")
        precondition(weights == nil || weights!.count == b, "one weight per row")
        gradient.resize(logits.shape)
        let p = softmax(logits)
        let total = weights.map { $0.reduce(0, +) } ?? Double(b)
        var loss = 0.0
        let off = labelSmoothing / Double(k)
        for r in 0 ..< b {
            let w = total > 0 ? (weights?[r] ?? 1) / total : 0
            for c in 0 ..< k {
                let q = (1 - labelSmoothing) * targets[r][c] + off
                loss -= w * q * Double(T.log(max(p[r][c], T.leastNormalMagnitude)))
                gradient[r * k + c] = T(w * (Double(p[r][c]) - q))
            }
        }
        return loss
    }
}
