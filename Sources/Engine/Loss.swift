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
        let k = logits.channels, b = logits.rows
        precondition(labels.count == b && labels.allSatisfy { (0 ..< k).contains($0) }, "labels do not fit the logits")
        gradient.resize(logits.shape)
        let p = softmax(logits)
        var loss = 0.0
        let off = labelSmoothing / Double(k), on = 1 - labelSmoothing + off
        for r in 0 ..< b {
            for c in 0 ..< k {
                let q = c == labels[r] ? on : off
                loss -= q * Double(T.log(max(p[r][c], T.leastNormalMagnitude)))
                gradient[r * k + c] = T((Double(p[r][c]) - q) / Double(b))
            }
        }
        return loss / Double(b)
    }
}
