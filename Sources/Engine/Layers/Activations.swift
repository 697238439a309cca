import Support

/// ReLU, or LeakyReLU with `slope` (0.2 in DGCNN) for negative inputs.
public final class Activation<T: EngineScalar>: Module {
    public let slope: T
    @usableFromInline let output = Tensor<T>(shape: [0])
    @usableFromInline let inputGrad = Tensor<T>(shape: [0])

    public init(leakySlope: T = 0) { slope = leakySlope }

    public var parameters: [Parameter<T>] { [] }

    @inlinable
    public func forward(_ x: Tensor<T>, training: Bool) -> Tensor<T> {
        output.resize(x.shape)
        let xp = x.pointer, yp = output.pointer, a = slope
        parallelRanges(x.count, grain: 1 << 16) { range in
            for i in range { let v = xp[i]; yp[i] = v > 0 ? v : a * v }
        }
        return output
    }

    /// Uses the output's sign, which equals the input's for any slope ≥ 0.
    /// `forward` of s x + t, the scale and shift per channel (x's last dimension), in one pass.
    @inlinable
    public func forwardAffine(_ x: Tensor<T>, scale: [T], shift: [T]) -> Tensor<T> {
        output.resize(x.shape)
        let n = scale.count, rows = x.count / n, xp = x.pointer, yp = output.pointer, a = slope
        scale.withUnsafeBufferPointer { s in
            shift.withUnsafeBufferPointer { t in
                parallelRanges(rows, grain: 512) { range in
                    for r in range {
                        for c in 0 ..< n {
                            let v = s[c] * xp[r * n + c] + t[c]
                            yp[r * n + c] = v > 0 ? v : a * v
                        }
                    }
                }
            }
        }
        return output
    }

    @inlinable
    public func backward(_ dy: Tensor<T>) -> Tensor<T> {
        inputGrad.resize(dy.shape)
        let yp = output.pointer, dp = dy.pointer, gp = inputGrad.pointer, a = slope
        parallelRanges(dy.count, grain: 1 << 16) { range in
            for i in range { gp[i] = yp[i] > 0 ? dp[i] : a * dp[i] }
        }
        return inputGrad
    }
}

/// Inverted dropout: in training, zeroes each value with probability `p` and scales the rest by
/// 1/(1 − p); the identity in inference. Seeded, so runs repeat.
public final class Dropout<T: EngineScalar>: Module {
    public let p: Double
    /// Draws the masks; a resumed training run restores it to continue the same masks.
    public var rng: SeededGenerator
    @usableFromInline var mask: [T] = []
    @usableFromInline var active = false
    /// Reuse the last mask (same shape) instead of drawing a new one: for gradient checks.
    public var freezeMask = false
    @usableFromInline let output = Tensor<T>(shape: [0])
    @usableFromInline let inputGrad = Tensor<T>(shape: [0])

    public init(p: Double, seed: UInt64 = 0) {
        precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1)")
        self.p = p
        rng = SeededGenerator(seed: seed)
    }

    public var parameters: [Parameter<T>] { [] }

    @inlinable
    public func forward(_ x: Tensor<T>, training: Bool) -> Tensor<T> {
        active = training && p > 0
        guard active else { return x }
        let keep = T(1 / (1 - p))
        if !(freezeMask && mask.count == x.count) {
            if mask.count != x.count { mask = [T](repeating: 0, count: x.count) }
            for i in 0 ..< x.count { mask[i] = Double.random(in: 0 ..< 1, using: &rng) < p ? 0 : keep }
        }
        output.resize(x.shape)
        for i in 0 ..< x.count { output[i] = x[i] * mask[i] }
        return output
    }

    @inlinable
    public func backward(_ dy: Tensor<T>) -> Tensor<T> {
        guard active else { return dy }
        inputGrad.resize(dy.shape)
        for i in 0 ..< dy.count { inputGrad[i] = dy[i] * mask[i] }
        return inputGrad
    }
}
