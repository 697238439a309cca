import Support

/// Batch normalisation over every row, per channel (PyTorch `BatchNorm1d`/`2d` on channel-last data).
///
/// Training: normalise with the batch's biased variance and update the running statistics with the
/// unbiased one (momentum 0.1, eps 1e-5, as PyTorch). Inference: the running statistics — an affine map
/// per channel, and the mode in which saliency's input gradient is taken.
public final class BatchNorm<T: EngineScalar>: Module {
    public let gamma: Parameter<T>, beta: Parameter<T>
    public let runningMean: Parameter<T>, runningVar: Parameter<T>
    public let channels: Int
    public var momentum: Double = 0.1
    public var epsilon: Double = 1e-5
    @usableFromInline let output = Tensor<T>(shape: [0])
    @usableFromInline let normalized = Tensor<T>(shape: [0])
    @usableFromInline let inputGrad = Tensor<T>(shape: [0])
    @usableFromInline var invStd: [T] = []
    @usableFromInline var trainedLast = false
    @usableFromInline var input: Tensor<T>?

    public init(_ name: String, channels: Int) {
        self.channels = channels
        gamma = Parameter(name: name + ".weight", shape: [channels], values: Array(repeating: 1, count: channels))
        beta = Parameter(name: name + ".bias", shape: [channels])
        runningMean = Parameter(name: name + ".running_mean", shape: [channels])
        runningVar = Parameter(name: name + ".running_var", shape: [channels], values: Array(repeating: 1, count: channels))
    }

    public var parameters: [Parameter<T>] { [gamma, beta] }
    public var buffers: [Parameter<T>] { [runningMean, runningVar] }

    /// The inference-mode map y = scale · x + shift, per channel.
    @inlinable
    public var inferenceAffine: (scale: [T], shift: [T]) {
        var scale = [T](repeating: 0, count: channels), shift = scale
        for c in 0 ..< channels {
            let s = gamma.value[c] / T((Double(runningVar.value[c]) + epsilon).squareRoot())
            scale[c] = s
            shift[c] = beta.value[c] - s * runningMean.value[c]
        }
        return (scale, shift)
    }

    /// The statistics a fused layer normalises with, per channel into `mean` and `invStd` (resized):
    /// in training the batch's, from Σx and Σx² over `count` values, with the running statistics
    /// updated as `forward` does; in inference the running ones. Also `scale` = γ/σ and `shift` =
    /// β − γμ/σ when given, the normalisation as one affine map.
    @inlinable
    public func statistics(training: Bool, sum: [Double], squares: [Double], count: Double,
                           mean: Tensor<T>, invStd: Tensor<T>, scale: Tensor<T>? = nil, shift: Tensor<T>? = nil) {
        for t in [mean, invStd] + [scale, shift].compactMap({ $0 }) { t.resize([channels]) }
        for c in 0 ..< channels {
            if training {
                let m = sum[c] / count, variance = max(0, squares[c] / count - m * m)
                mean[c] = T(m)
                invStd[c] = T(1 / (variance + epsilon).squareRoot())
                runningMean.value[c] = T((1 - momentum) * Double(runningMean.value[c]) + momentum * m)
                runningVar.value[c] = T((1 - momentum) * Double(runningVar.value[c]) + momentum * variance * count / (count - 1))
            } else {
                mean[c] = runningMean.value[c]
                invStd[c] = T(1 / (Double(runningVar.value[c]) + epsilon).squareRoot())
            }
            scale?[c] = gamma.value[c] * invStd[c]
            shift?[c] = beta.value[c] - gamma.value[c] * invStd[c] * mean[c]
        }
    }

    /// Inference with the activation that follows in the same pass: act(s x + t) is written as
    /// `activation`'s output, and both backwards then work as after the two forwards. One pass over the
    /// activations instead of two (PointNet's point layers, where one cloud's latency counts).
    @inlinable
    public func forwardInference(_ x: Tensor<T>, then activation: Activation<T>) -> Tensor<T> {
        precondition(x.channels == channels, "BatchNorm expects \(channels) channels, got \(x.shape)")
        trainedLast = false
        input = x
        let (scale, shift) = inferenceAffine
        return activation.forwardAffine(x, scale: scale, shift: shift)
    }

    @inlinable
    public func forward(_ x: Tensor<T>, training: Bool) -> Tensor<T> {
        precondition(x.channels == channels, "BatchNorm expects \(channels) channels, got \(x.shape)")
        output.resize(x.shape)
        trainedLast = training
        let n = channels, rows = x.rows, xp = x.pointer, yp = output.pointer
        if !training {
            input = x
            let (scale, shift) = inferenceAffine
            scale.withUnsafeBufferPointer { s in
                shift.withUnsafeBufferPointer { b in
                    parallelRanges(rows, grain: 512) { range in
                        for r in range { for c in 0 ..< n { yp[r * n + c] = s[c] * xp[r * n + c] + b[c] } }
                    }
                }
            }
            return output
        }
        precondition(rows > 1, "BatchNorm in training needs more than one value per channel")
        input = nil
        let (sum, sumSquares) = channelMoments(x)
        normalized.resize(x.shape)
        var mean = [T](repeating: 0, count: n), inv = mean
        for c in 0 ..< n {
            let m = sum[c] / Double(rows)
            let variance = max(0, sumSquares[c] / Double(rows) - m * m)
            mean[c] = T(m)
            inv[c] = T(1 / (variance + epsilon).squareRoot())
            runningMean.value[c] = T((1 - momentum) * Double(runningMean.value[c]) + momentum * m)
            runningVar.value[c] = T((1 - momentum) * Double(runningVar.value[c]) + momentum * variance * Double(rows) / Double(rows - 1))
        }
        invStd = inv
        let hp = normalized.pointer, g = gamma.value.pointer, b = beta.value.pointer
        mean.withUnsafeBufferPointer { m in
            inv.withUnsafeBufferPointer { s in
                parallelRanges(rows, grain: 512) { range in
                    for r in range {
                        for c in 0 ..< n {
                            let h = (xp[r * n + c] - m[c]) * s[c]
                            hp[r * n + c] = h
                            yp[r * n + c] = g[c] * h + b[c]
                        }
                    }
                }
            }
        }
        return output
    }

    @inlinable
    public func backward(_ dy: Tensor<T>) -> Tensor<T> {
        let n = channels, rows = dy.rows, dp = dy.pointer
        inputGrad.resize(dy.shape)
        let gp = inputGrad.pointer, g = gamma.value.pointer
        if !trainedLast {
            // y = γ (x − μ_run) / σ_run + β, an affine map per channel: ∂x = s ∂y, ∂β = Σ ∂y,
            // ∂γ = Σ ∂y (x − μ_run) / σ_run = (Σ ∂y x − μ_run Σ ∂y) / σ_run.
            guard let x = input else { preconditionFailure("BatchNorm.backward before forward") }
            let (scale, _) = inferenceAffine
            scale.withUnsafeBufferPointer { s in
                parallelRanges(rows, grain: 512) { range in
                    for r in range { for c in 0 ..< n { gp[r * n + c] = dp[r * n + c] * s[c] } }
                }
            }
            let (dBeta, dyx) = channelMoments(dy, weightedBy: x)
            for c in 0 ..< n {
                beta.grad[c] = T(dBeta[c])
                gamma.grad[c] = T((dyx[c] - Double(runningMean.value[c]) * dBeta[c]) / (Double(runningVar.value[c]) + epsilon).squareRoot())
            }
            return inputGrad
        }
        // dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂))
        let hp = normalized.pointer
        let (dBeta, dGamma) = channelMoments(dy, weightedBy: normalized)
        for c in 0 ..< n {
            beta.grad[c] = T(dBeta[c])
            gamma.grad[c] = T(dGamma[c])
        }
        let meanDy = dBeta.map { T($0 / Double(rows)) }, meanDyH = dGamma.map { T($0 / Double(rows)) }
        let inv = invStd
        meanDy.withUnsafeBufferPointer { md in
            meanDyH.withUnsafeBufferPointer { mh in
                inv.withUnsafeBufferPointer { s in
                    parallelRanges(rows, grain: 512) { range in
                        for r in range {
                            for c in 0 ..< n {
                                let i = r * n + c
                                gp[i] = g[c] * s[c] * (dp[i] - md[c] - hp[i] * mh[c])
                            }
                        }
                    }
                }
            }
        }
        return inputGrad
    }
}

/// Per-channel Σx and Σx² (or, with `weightedBy: w`, Σx and Σx·w) over all rows, split across cores.
/// Blocks of 64 rows are summed in `T` (a loop over channels the compiler vectorises), blocks are
/// added in Double: accurate over a million rows without a Double conversion per value.
@inlinable
func channelMoments<T: EngineScalar>(_ x: Tensor<T>, weightedBy w: Tensor<T>? = nil) -> ([Double], [Double]) {
    let n = x.channels, rows = x.rows, xp = x.pointer, wp = (w ?? x).pointer
    let parts = max(1, min(Parallelism.workers, rows / 512))
    let partial = UnsafeMutableBufferPointer<Double>.allocate(capacity: parts * 2 * n)
    partial.initialize(repeating: 0)
    defer { partial.deallocate() }
    let partialBase = partial.baseAddress!
    parallelRanges(parts, grain: 1) { partRange in
        let s1 = UnsafeMutablePointer<T>.allocate(capacity: n), s2 = UnsafeMutablePointer<T>.allocate(capacity: n)
        defer { s1.deallocate(); s2.deallocate() }
        for part in partRange {
            let acc = partialBase + part * 2 * n
            var r = rows * part / parts
            let end = rows * (part + 1) / parts
            while r < end {
                let blockEnd = min(r + 64, end)
                s1.initialize(repeating: 0, count: n)
                s2.initialize(repeating: 0, count: n)
                while r < blockEnd {
                    let xr = xp + r * n, wr = wp + r * n
                    for c in 0 ..< n {
                        s1[c] += xr[c]
                        s2[c] += xr[c] * wr[c]
                    }
                    r += 1
                }
                for c in 0 ..< n {
                    acc[c] += Double(s1[c])
                    acc[n + c] += Double(s2[c])
                }
            }
        }
    }
    return channelTotals(UnsafeBufferPointer(partial), parts: parts, channels: n)
}

/// The two per-channel totals of partial sums laid out [parts][2][n] (each part: Σ₁ of every
/// channel, then Σ₂), added part by part in Double.
@inlinable
func channelTotals(_ partial: UnsafeBufferPointer<Double>, parts: Int, channels n: Int) -> ([Double], [Double]) {
    var first = [Double](repeating: 0, count: n), second = first
    for part in 0 ..< parts {
        for c in 0 ..< n {
            first[c] += partial[part * 2 * n + c]
            second[c] += partial[part * 2 * n + n + c]
        }
    }
    return (first, second)
}
