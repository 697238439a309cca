import Support

/// PointNet's last point layer in one module: 1×1 convolution (no bias) → BatchNorm → ReLU → max over
/// points, in training and in inference. Input X [clouds, points, C] → [clouds, E].
///
/// The layer's E = 1024 channels make it most of PointNet's cost, and all but one point per cloud and
/// channel lose the max pool, so the module never materialises even Z = X Wᵀ:
/// - forward: Z in blocks of points small enough to stay in the core's cache, each block's GEMM
///   followed by one pass over it for each cloud's winning point per channel (the max of Z where
///   γ ≥ 0, the min where γ < 0: BatchNorm and ReLU are monotone per channel) and, in training, the
///   batch statistics;
/// - backward in inference (saliency): ∂L/∂Z has one entry per cloud and channel — a scatter.
/// - backward in training: the batch statistics make ∂L/∂Z dense, but with s = γ/σ, m₁ and m₂ the
///   means of ∂h and ∂h·ẑ, Xc = X − x̄ and S the sparse part,
///     ∂Z = s ∘ (S − m₁ − Ẑ ∘ m₂),   Ẑ = Xc Wᵀ diag(1/σ),
///   so ∂X = (s∘S) W − 1 (s∘m₁)ᵀ W − Xc M with M = Wᵀ diag(s m₂/σ) W  [C × C], and
///      ∂W = (s∘S)ᵀ X − (s∘m₁)(1ᵀX) − diag(s m₂/σ) W XcᵀXc:
///   C × C products replace the points × E × C ones (8× less work for PointNet's 128 → 1024).
/// Parameters are `conv`'s and `norm`'s, which keep their state-dict names.
public final class ConvNormReLUMaxPool<T: EngineScalar>: Module, ParameterGradientsOptional {
    public let conv: Dense<T>
    public let norm: BatchNorm<T>
    /// The pooled values of the last forward pass.
    public let output = Tensor<T>(shape: [0])
    @usableFromInline var input: Tensor<T>?
    @usableFromInline var trainedLast = false
    @usableFromInline let blocks = Tensor<T>(shape: [0])     // a block of Z = X Wᵀ per core
    @usableFromInline let extreme = Tensor<T>(shape: [0])    // [clouds, E]: the winning z
    @usableFromInline let winner = Tensor<T>(shape: [0])     // [clouds, E]: its point within the cloud
    @usableFromInline let mean = Tensor<T>(shape: [0]), invStd = Tensor<T>(shape: [0])
    @usableFromInline let inputGrad = Tensor<T>(shape: [0]), centred = Tensor<T>(shape: [0])

    /// The convolution's switch: its weight gradient is this module's to compute.
    public var computesParameterGradients: Bool {
        get { conv.computesParameterGradients }
        set { conv.computesParameterGradients = newValue }
    }

    public init(conv: Dense<T>, norm: BatchNorm<T>) {
        precondition(conv.bias == nil && conv.outputs == norm.channels, "a bias-free convolution into the BatchNorm's channels")
        self.conv = conv
        self.norm = norm
    }

    public var parameters: [Parameter<T>] { conv.parameters + norm.parameters }
    public var buffers: [Parameter<T>] { norm.buffers }

    @inlinable
    public func forward(_ x: Tensor<T>, training: Bool) -> Tensor<T> {
        let (c, e) = (conv.inputs, conv.outputs)
        precondition(x.shape.count == 3 && x.shape[2] == c, "expects [clouds, points, \(c)], got \(x.shape)")
        let (clouds, n) = (x.shape[0], x.shape[1])
        precondition(n >= 1 && (!training || clouds * n > 1), "BatchNorm in training needs more than one value per channel")
        input = x
        trainedLast = training
        let (sum, squares) = poolAndSum(x, sums: training)
        norm.statistics(training: training, sum: sum, squares: squares, count: Double(clouds * n), mean: mean, invStd: invStd)
        output.resize([clouds, e])
        for b in 0 ..< clouds {
            for ch in 0 ..< e {
                let h = norm.gamma.value[ch] * (extreme[b * e + ch] - mean[ch]) * invStd[ch] + norm.beta.value[ch]
                output[b * e + ch] = max(0, h)
            }
        }
        return output
    }

    /// Z block by block, each block's GEMM followed by a pass over it: per cloud and channel the extreme
    /// d · max d z (d = ±1, the sign of γ) and its point, and with `sums` the per-channel Σz and Σz².
    /// Clouds go to different cores (a GEMM inside the parallel loop runs on its core alone); with fewer
    /// clouds than cores each cloud's points are split between them too, and the splits' extremes
    /// merged (one cloud's latency: otherwise a core idles through every block's pass). Eight channels
    /// at a time in vector registers, the running extremes of a cloud stay in L1.
    @inlinable
    func poolAndSum(_ x: Tensor<T>, sums: Bool) -> (sum: [Double], squares: [Double]) {
        typealias V = SIMD8<T>
        let (clouds, n) = (x.shape[0], x.shape[1])
        let c = conv.inputs, e = conv.outputs, vectorEnd = e - e % V.scalarCount
        let blockRows = min(n, max(16, (256 * 1024) / e))  // 1 MB of Z per block at E = 1024
        let workers = Parallelism.workers
        let splits = clouds >= workers ? 1 : max(1, min(workers / clouds, n / 16))
        let tasks = clouds * splits  // task t: cloud t / splits, its points' split t % splits
        extreme.resize([tasks, e])
        winner.resize([tasks, e])
        let direction = (0 ..< e).map { norm.gamma.value[$0] >= 0 ? T(1) : -1 }
        let parts = max(1, min(workers, tasks))
        var partial = [Double](repeating: 0, count: parts * 2 * e)
        blocks.resize([parts, blockRows, e])
        let xp = x.pointer, w = conv.weight.value.pointer, ep = extreme.pointer, wp = winner.pointer
        direction.withUnsafeBufferPointer { dBuffer in
            partial.withUnsafeMutableBufferPointer { partialBuffer in
                let dp = dBuffer.baseAddress!, partialBase = partialBuffer.baseAddress!
                parallelRanges(parts, grain: 1) { partRange in
                    let s1 = UnsafeMutablePointer<T>.allocate(capacity: e), s2 = UnsafeMutablePointer<T>.allocate(capacity: e)
                    defer { s1.deallocate(); s2.deallocate() }
                    for part in partRange {
                        let acc = partialBase + part * 2 * e, zp = self.blocks.pointer + part * blockRows * e
                        for task in tasks * part / parts ..< tasks * (part + 1) / parts {
                            let b = task / splits, split = task % splits
                            let best = ep + task * e, at = wp + task * e
                            best.update(repeating: -T.infinity, count: e)
                            at.update(repeating: 0, count: e)
                            let last = n * (split + 1) / splits
                            for start in stride(from: n * split / splits, to: last, by: blockRows) {
                                let end = min(start + blockRows, last)
                                T.gemm(transA: false, transB: true, m: end - start, n: e, k: c, alpha: 1, a: xp + (b * n + start) * c,
                                       lda: c, b: w, ldb: c, beta: 0, c: zp, ldc: e)
                                // Σz, Σz² in T over the block, then in Double.
                                if sums { s1.update(repeating: 0, count: e); s2.update(repeating: 0, count: e) }
                                var pointValue = T(start)  // p as T, counted: the generic Int → T conversion is a call
                                for p in start ..< end {
                                    let row = zp + (p - start) * e, point = V(repeating: pointValue)
                                    pointValue += 1
                                    var ch = 0
                                    while ch < vectorEnd {
                                        let v = V.load(row + ch), d = V.load(dp + ch), dv = d * v
                                        let better = dv .> V.load(best + ch)
                                        select(better, dv, V.load(best + ch)).store(best + ch)
                                        select(better, point, V.load(at + ch)).store(at + ch)
                                        if sums {
                                            (V.load(s1 + ch) + v).store(s1 + ch)
                                            (V.load(s2 + ch) + v * v).store(s2 + ch)
                                        }
                                        ch += V.scalarCount
                                    }
                                    while ch < e {
                                        let v = row[ch], dv = dp[ch] * v
                                        if dv > best[ch] { best[ch] = dv; at[ch] = T(p) }
                                        if sums { s1[ch] += v; s2[ch] += v * v }
                                        ch += 1
                                    }
                                }
                                if sums { for ch in 0 ..< e { acc[ch] += Double(s1[ch]); acc[e + ch] += Double(s2[ch]) } }
                            }
                        }
                    }
                }
            }
        }
        // Each cloud's splits in point order: a later split wins only when strictly better, so the
        // first maximum stays the winner. Then back from d · z to z.
        for b in 0 ..< clouds {
            let best = ep + b * e, at = wp + b * e, first = b * splits
            if first != b {
                best.update(from: ep + first * e, count: e)
                at.update(from: wp + first * e, count: e)
            }
            for task in first + 1 ..< first + splits {
                for ch in 0 ..< e where ep[task * e + ch] > best[ch] {
                    best[ch] = ep[task * e + ch]
                    at[ch] = wp[task * e + ch]
                }
            }
            for ch in 0 ..< e { best[ch] *= direction[ch] }
        }
        extreme.resize([clouds, e])
        winner.resize([clouds, e])
        return partial.withUnsafeBufferPointer { channelTotals($0, parts: parts, channels: e) }
    }

    @inlinable
    public func backward(_ dy: Tensor<T>) -> Tensor<T> {
        guard let x = input else { preconditionFailure("ConvNormReLUMaxPool.backward before forward") }
        let (clouds, n) = (x.shape[0], x.shape[1])
        let (c, e, rows) = (conv.inputs, conv.outputs, clouds * n)
        let w = conv.weight.value.pointer, xp = x.pointer
        // ∂h at each cloud's winning point (ReLU passes where the output is positive), and ∂γ, ∂β.
        var dh = [T](repeating: 0, count: clouds * e)
        var dGamma = [Double](repeating: 0, count: e), dBeta = dGamma
        for b in 0 ..< clouds {
            for ch in 0 ..< e where output[b * e + ch] > 0 {
                let d = dy[b * e + ch]
                dh[b * e + ch] = d
                dBeta[ch] += Double(d)
                dGamma[ch] += Double(d) * Double((extreme[b * e + ch] - mean[ch]) * invStd[ch])
            }
        }
        for ch in 0 ..< e {
            norm.beta.grad[ch] = T(dBeta[ch])
            norm.gamma.grad[ch] = T(dGamma[ch])
        }
        let scale = (0 ..< e).map { norm.gamma.value[$0] * invStd[$0] }
        let gw = conv.weight.grad.pointer
        inputGrad.resize(x.shape)
        if trainedLast {
            // The dense part: ∂X = −Xc M − 1 uᵀ, ∂W = −(s∘m₁)(1ᵀX) − diag(q) W XcᵀXc, u = Wᵀ(s∘m₁).
            let m1 = (0 ..< e).map { scale[$0] * T(dBeta[$0] / Double(rows)) }
            let q = (0 ..< e).map { scale[$0] * T(dGamma[$0] / Double(rows)) * invStd[$0] }
            let columnMean = channelMoments(x).0.map { T($0 / Double(rows)) }
            centred.resize([rows, c])
            let cp = centred.pointer
            columnMean.withUnsafeBufferPointer { mu in
                parallelRanges(rows, grain: 512) { range in
                    for r in range { for j in 0 ..< c { cp[r * c + j] = xp[r * c + j] - mu[j] } }
                }
            }
            var qw = [T](repeating: 0, count: e * c), m = [T](repeating: 0, count: c * c), gram = m
            for ch in 0 ..< e { for j in 0 ..< c { qw[ch * c + j] = q[ch] * w[ch * c + j] } }
            T.gemm(transA: true, transB: false, m: c, n: c, k: e, alpha: 1, a: w, lda: c, b: qw, ldb: c, beta: 0, c: &m, ldc: c)
            T.gemm(transA: false, transB: false, m: rows, n: c, k: c, alpha: -1, a: cp, lda: c, b: m, ldb: c, beta: 0, c: inputGrad.pointer, ldc: c)
            var u = [T](repeating: 0, count: c)
            for ch in 0 ..< e { for j in 0 ..< c { u[j] += m1[ch] * w[ch * c + j] } }
            let gp = inputGrad.pointer
            u.withUnsafeBufferPointer { u in
                parallelRanges(rows, grain: 512) { range in
                    for r in range { for j in 0 ..< c { gp[r * c + j] -= u[j] } }
                }
            }
            T.gemm(transA: true, transB: false, m: c, n: c, k: rows, alpha: 1, a: cp, lda: c, b: cp, ldb: c, beta: 0, c: &gram, ldc: c)
            T.gemm(transA: false, transB: false, m: e, n: c, k: c, alpha: -1, a: qw, lda: c, b: gram, ldb: c, beta: 0, c: gw, ldc: c)
            for ch in 0 ..< e {
                for j in 0 ..< c { gw[ch * c + j] -= m1[ch] * T(Double(columnMean[j]) * Double(rows)) }
            }
        } else {
            inputGrad.fill(0)
            if computesParameterGradients { conv.weight.grad.fill(0) }
        }
        // The sparse part: each cloud's winning point per channel, ∂Z = s ∂h there.
        let gp = inputGrad.pointer
        for b in 0 ..< clouds {
            for ch in 0 ..< e where dh[b * e + ch] != 0 {
                let coefficient = scale[ch] * dh[b * e + ch], row = (b * n + Int(winner[b * e + ch])) * c
                for j in 0 ..< c { gp[row + j] += coefficient * w[ch * c + j] }
                if computesParameterGradients { for j in 0 ..< c { gw[ch * c + j] += coefficient * xp[row + j] } }
            }
        }
        return inputGrad
    }
}
