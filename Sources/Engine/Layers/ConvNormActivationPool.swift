import Support

/// DGCNN's last point layer in one module: 1×1 convolution (no bias) → BatchNorm → LeakyReLU → max
/// and mean over points, side by side. Input X [clouds, points, C] → [clouds, 2E] (the maxima first).
///
/// Only Z = X Wᵀ is stored. The forward reads it once more for the pooled values (once before that
/// for the batch statistics in training); the backward makes ∂L/∂Z in one pass — every point gets
/// its share of the mean's gradient, the winner of each max also the max's — plus, in training, a
/// second for the batch statistics' coupling, then two GEMMs (∂X = ∂Z W, ∂W = ∂Zᵀ X). So the
/// normalised and activated [points, E] tensors and their gradients are never written to memory.
/// Parameters are `conv`'s and `norm`'s, which keep their state-dict names.
public final class ConvNormActivationPool<T: EngineScalar>: Module, ParameterGradientsOptional {
    public let conv: Dense<T>
    public let norm: BatchNorm<T>
    public let slope: T
    @usableFromInline var input: Tensor<T>?
    @usableFromInline var trainedLast = false
    @usableFromInline let z = Tensor<T>(shape: [0]), dz = Tensor<T>(shape: [0])
    @usableFromInline let output = Tensor<T>(shape: [0])
    @usableFromInline let winners = Tensor<T>(shape: [0])   // [clouds, E]: the point of each maximum
    @usableFromInline let mean = Tensor<T>(shape: [0]), invStd = Tensor<T>(shape: [0])
    @usableFromInline let scale = Tensor<T>(shape: [0]), shift = Tensor<T>(shape: [0])
    @usableFromInline let inputGrad = Tensor<T>(shape: [0])

    /// The convolution's switch: its weight gradient is this module's to compute.
    public var computesParameterGradients: Bool {
        get { conv.computesParameterGradients }
        set { conv.computesParameterGradients = newValue }
    }

    public init(conv: Dense<T>, norm: BatchNorm<T>, slope: T = 0.2) {
        precondition(conv.bias == nil && conv.outputs == norm.channels, "a bias-free convolution into the BatchNorm's channels")
        self.conv = conv
        self.norm = norm
        self.slope = slope
    }

    public var parameters: [Parameter<T>] { conv.parameters + norm.parameters }
    public var buffers: [Parameter<T>] { norm.buffers }

    @inlinable
    public func forward(_ x: Tensor<T>, training: Bool) -> Tensor<T> {
        typealias V = SIMD8<T>
        let (c, e) = (conv.inputs, conv.outputs)
        precondition(x.shape.count == 3 && x.shape[2] == c && x.shape[1] >= 1, "expects [clouds, points, \(c)], got \(x.shape)")
        let (clouds, n) = (x.shape[0], x.shape[1])
        precondition(!training || clouds * n > 1, "BatchNorm in training needs more than one value per channel")
        input = x
        trainedLast = training
        z.resize([clouds * n, e])
        T.gemm(transA: false, transB: true, m: clouds * n, n: e, k: c, alpha: 1, a: x.pointer, lda: c,
               b: conv.weight.value.pointer, ldb: c, beta: 0, c: z.pointer, ldc: e)
        let (sum, squares) = training ? channelMoments(z) : ([], [])
        norm.statistics(training: training, sum: sum, squares: squares, count: Double(clouds * n),
                        mean: mean, invStd: invStd, scale: scale, shift: shift)
        // y = LeakyReLU(s z + t); per cloud and channel its max (and where) and its mean.
        output.resize([clouds, 2 * e])
        winners.resize([clouds, e])
        let zp = z.pointer, yp = output.pointer, wp = winners.pointer, sp = scale.pointer, tp = shift.pointer
        let a = slope, inverseCount = 1 / T(n), vectorEnd = e - e % V.scalarCount
        parallelRanges(clouds, grain: 1) { range in
            for cloud in range {
                let best = yp + cloud * 2 * e, sum = best + e, at = wp + cloud * e
                best.update(repeating: -T.infinity, count: e)
                sum.update(repeating: 0, count: e)
                at.update(repeating: 0, count: e)
                var pointValue: T = 0  // p as T, counted: the generic Int → T conversion is a call
                for p in 0 ..< n {
                    let row = zp + (cloud * n + p) * e, point = V(repeating: pointValue)
                    pointValue += 1
                    var ch = 0
                    while ch < vectorEnd {
                        let h = V.load(sp + ch) * V.load(row + ch) + V.load(tp + ch)
                        let y = select(greater(h, V()), h, a * h), better = greater(y, V.load(best + ch))
                        select(better, y, V.load(best + ch)).store(best + ch)
                        select(better, point, V.load(at + ch)).store(at + ch)
                        (V.load(sum + ch) + y).store(sum + ch)
                        ch += V.scalarCount
                    }
                    while ch < e {
                        let h = sp[ch] * row[ch] + tp[ch], y = h > 0 ? h : a * h
                        if y > best[ch] { best[ch] = y; at[ch] = T(p) }
                        sum[ch] += y
                        ch += 1
                    }
                }
                for ch in 0 ..< e { sum[ch] *= inverseCount }
            }
        }
        return output
    }

    /// ∂h = LeakyReLU′(h) (∂mean / n + [winner] ∂max) per point and channel; ∂Z = s ∂h in inference,
    /// s (∂h − m₁ − ẑ m₂) in training (m₁, m₂ the means of ∂h and ∂h·ẑ over all points).
    @inlinable
    public func backward(_ dy: Tensor<T>) -> Tensor<T> {
        typealias V = SIMD8<T>
        guard let x = input else { preconditionFailure("ConvNormActivationPool.backward before forward") }
        let (clouds, n) = (x.shape[0], x.shape[1])
        let (c, e, rows, training) = (conv.inputs, conv.outputs, clouds * n, trainedLast)
        dz.resize([clouds * n, e])
        let parts = max(1, min(Parallelism.workers, clouds))
        var partial = [Double](repeating: 0, count: parts * 2 * e)   // per part: Σ ∂h, Σ ∂h ẑ
        let zp = z.pointer, dzp = dz.pointer, dyp = dy.pointer, wp = winners.pointer
        let sp = scale.pointer, tp = shift.pointer, mp = mean.pointer, ip = invStd.pointer
        let a = slope, inverseCount = 1 / T(n), vectorEnd = e - e % V.scalarCount
        partial.withUnsafeMutableBufferPointer { partialBuffer in
            let partialBase = partialBuffer.baseAddress!
            parallelRanges(parts, grain: 1) { partRange in
                let s1 = UnsafeMutablePointer<T>.allocate(capacity: e), s2 = UnsafeMutablePointer<T>.allocate(capacity: e)
                defer { s1.deallocate(); s2.deallocate() }
                for part in partRange {
                    let acc = partialBase + part * 2 * e
                    for cloud in clouds * part / parts ..< clouds * (part + 1) / parts {
                        let dMax = dyp + cloud * 2 * e, dMean = dMax + e, at = wp + cloud * e
                        s1.update(repeating: 0, count: e)
                        s2.update(repeating: 0, count: e)
                        var pointValue: T = 0
                        for p in 0 ..< n {
                            let row = zp + (cloud * n + p) * e, out = dzp + (cloud * n + p) * e, point = V(repeating: pointValue)
                            pointValue += 1
                            var ch = 0
                            while ch < vectorEnd {
                                let zv = V.load(row + ch), s = V.load(sp + ch)
                                let h = s * zv + V.load(tp + ch)
                                let fromMax = select(equal(V.load(at + ch), point), V.load(dMax + ch), V())
                                let dh = (V.load(dMean + ch) * inverseCount + fromMax) * select(greater(h, V()), V(repeating: 1), V(repeating: a))
                                let zh = (zv - V.load(mp + ch)) * V.load(ip + ch)
                                (training ? dh : s * dh).store(out + ch)
                                (V.load(s1 + ch) + dh).store(s1 + ch)
                                (V.load(s2 + ch) + dh * zh).store(s2 + ch)
                                ch += V.scalarCount
                            }
                            while ch < e {
                                let h = sp[ch] * row[ch] + tp[ch]
                                let dh = (dMean[ch] * inverseCount + (Int(at[ch]) == p ? dMax[ch] : 0)) * (h > 0 ? 1 : a)
                                out[ch] = training ? dh : sp[ch] * dh
                                s1[ch] += dh
                                s2[ch] += dh * (row[ch] - mp[ch]) * ip[ch]
                                ch += 1
                            }
                        }
                        for ch in 0 ..< e { acc[ch] += Double(s1[ch]); acc[e + ch] += Double(s2[ch]) }
                    }
                }
            }
        }
        let (dBeta, dGamma) = partial.withUnsafeBufferPointer { channelTotals($0, parts: parts, channels: e) }
        for ch in 0 ..< e {
            norm.beta.grad[ch] = T(dBeta[ch])
            norm.gamma.grad[ch] = T(dGamma[ch])
        }
        if training {
            let m1 = Tensor<T>(shape: [e], values: (0 ..< e).map { norm.beta.grad[$0] / T(rows) })
            let m2 = Tensor<T>(shape: [e], values: (0 ..< e).map { norm.gamma.grad[$0] / T(rows) })
            withExtendedLifetime((m1, m2)) {
                let m1p = m1.pointer, m2p = m2.pointer
                parallelRanges(rows, grain: 256) { range in
                    for r in range {
                        for ch in 0 ..< e {
                            let zh = (zp[r * e + ch] - mp[ch]) * ip[ch]
                            dzp[r * e + ch] = sp[ch] * (dzp[r * e + ch] - m1p[ch] - zh * m2p[ch])
                        }
                    }
                }
            }
        }
        if computesParameterGradients {
            T.gemm(transA: true, transB: false, m: e, n: c, k: rows, alpha: 1, a: dzp, lda: e, b: x.pointer, ldb: c,
                   beta: 0, c: conv.weight.grad.pointer, ldc: c)
        }
        inputGrad.resize(x.shape)
        T.gemm(transA: false, transB: false, m: rows, n: c, k: e, alpha: 1, a: dzp, lda: e, b: conv.weight.value.pointer, ldb: c,
               beta: 0, c: inputGrad.pointer, ldc: c)
        return inputGrad
    }
}
