import Support

/// Max over the points of each cloud: [clouds, points, C] → [clouds, C].
///
/// The gradient goes to one point per cloud and channel (the first maximum), as in PyTorch.
public final class MaxPool<T: EngineScalar>: Module {
    /// The pooled values of the last forward pass.
    public let output = Tensor<T>(shape: [0])
    @usableFromInline let inputGrad = Tensor<T>(shape: [0])
    @usableFromInline var argmax: [Int32] = []
    @usableFromInline var inputShape: [Int] = []

    public init() {}
    public var parameters: [Parameter<T>] { [] }

    /// Which point won, per cloud and channel ([clouds × C], point index within the cloud).
    public var winners: [Int32] { argmax }

    @inlinable
    public func forward(_ x: Tensor<T>, training: Bool) -> Tensor<T> {
        precondition(x.shape.count == 3, "MaxPool expects [clouds, points, channels], got \(x.shape)")
        let (b, n, c) = (x.shape[0], x.shape[1], x.shape[2])
        inputShape = x.shape
        output.resize([b, c])
        if argmax.count != b * c { argmax = [Int32](repeating: 0, count: b * c) }
        let xp = x.pointer, yp = output.pointer
        argmax.withUnsafeMutableBufferPointer { am in
            let amp = am.baseAddress!
            parallelRanges(b, grain: 1) { clouds in
                for cloud in clouds {
                    let base = xp + cloud * n * c
                    for ch in 0 ..< c { yp[cloud * c + ch] = base[ch]; amp[cloud * c + ch] = 0 }
                    for p in 1 ..< max(n, 1) {
                        let row = base + p * c
                        for ch in 0 ..< c where row[ch] > yp[cloud * c + ch] {
                            yp[cloud * c + ch] = row[ch]
                            amp[cloud * c + ch] = Int32(p)
                        }
                    }
                }
            }
        }
        return output
    }

    @inlinable
    public func backward(_ dy: Tensor<T>) -> Tensor<T> {
        inputGrad.resize(inputShape)
        inputGrad.fill(0)
        let (b, n, c) = (inputShape[0], inputShape[1], inputShape[2])
        for cloud in 0 ..< b {
            for ch in 0 ..< c {
                inputGrad[(cloud * n + Int(argmax[cloud * c + ch])) * c + ch] = dy[cloud * c + ch]
            }
        }
        return inputGrad
    }
}

/// Mean over the points of each cloud: [clouds, points, C] → [clouds, C].
public final class MeanPool<T: EngineScalar>: Module {
    @usableFromInline let output = Tensor<T>(shape: [0])
    @usableFromInline let inputGrad = Tensor<T>(shape: [0])
    @usableFromInline var inputShape: [Int] = []

    public init() {}
    public var parameters: [Parameter<T>] { [] }

    @inlinable
    public func forward(_ x: Tensor<T>, training: Bool) -> Tensor<T> {
        precondition(x.shape.count == 3, "MeanPool expects [clouds, points, channels], got \(x.shape)")
        let (b, n, c) = (x.shape[0], x.shape[1], x.shape[2])
        inputShape = x.shape
        output.resize([b, c])
        output.fill(0)
        let scale = 1 / T(n)
        for cloud in 0 ..< b {
            for p in 0 ..< n { for ch in 0 ..< c { output[cloud * c + ch] += x[(cloud * n + p) * c + ch] } }
            for ch in 0 ..< c { output[cloud * c + ch] *= scale }
        }
        return output
    }

    @inlinable
    public func backward(_ dy: Tensor<T>) -> Tensor<T> {
        inputGrad.resize(inputShape)
        let (b, n, c) = (inputShape[0], inputShape[1], inputShape[2])
        let scale = 1 / T(n)
        for cloud in 0 ..< b { for p in 0 ..< n { for ch in 0 ..< c { inputGrad[(cloud * n + p) * c + ch] = dy[cloud * c + ch] * scale } } }
        return inputGrad
    }
}
