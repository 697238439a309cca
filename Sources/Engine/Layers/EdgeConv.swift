import Support

/// DGCNN's EdgeConv with its BatchNorm and LeakyReLU: for each point i and each of its k nearest
/// neighbours j (in the input's feature space, the point itself included), the edge feature
/// [xⱼ − xᵢ, xᵢ] goes through a 1×1 convolution W = [W₁ W₂] (no bias), BatchNorm over all edges,
/// LeakyReLU(0.2), and a max over the k edges. Input [clouds, points, C] → [clouds, points, out].
///
/// The convolution is linear, so the edge value is z_ij = W₁xⱼ + (W₂ − W₁)xᵢ = aⱼ + bᵢ: two products
/// per point (points × C × out each) instead of one per edge — k times less GEMM work (DESIGN §2).
/// Edge values are never stored. BatchNorm and LeakyReLU are monotone per channel (increasing when
/// γ ≥ 0, decreasing otherwise), so the max over edges is taken at the largest aⱼ or, where γ < 0, the
/// smallest: one gather of an extreme per point and channel, and the winning edge found again in
/// `backward` only when a gradient is asked for. The batch statistics are sums over edges, which expand into
/// per-point sums of aⱼ and aⱼ²; the backward through them expands the same way (see `backward`).
/// The neighbour graph is a constant of the forward pass (no gradient flows through the choice of
/// neighbours, as with PyTorch's topk).
///
/// Parameters keep PyTorch's names: `convN.weight` [out, 2C, 1, 1] and `bnN.*`.
public final class EdgeConv<T: EngineScalar>: Module, ParameterGradientsOptional {
    public let weight: Parameter<T>
    public var computesParameterGradients = true
    public let norm: BatchNorm<T>
    public let inputs: Int, outputs: Int, k: Int
    public let slope: T = 0.2
    @usableFromInline var input: Tensor<T>?
    @usableFromInline var neighbours: [Int32] = []       // [clouds × points × k], index within the cloud
    @usableFromInline let gram = Tensor<T>(shape: [0])     // one cloud's pairwise inner products
    @usableFromInline let a = Tensor<T>(shape: [0])        // X W₁ᵀ
    @usableFromInline let b = Tensor<T>(shape: [0])        // X (W₂ − W₁)ᵀ
    @usableFromInline let direction = Tensor<T>(shape: [0])  // per channel: 1 where γ ≥ 0, −1 where γ < 0
    @usableFromInline let extreme = Tensor<T>(shape: [0])    // the winning aⱼ over i's neighbours, per channel
    @usableFromInline let winner = Tensor<T>(shape: [0])     // which of the k neighbours gave it (backward)
    @usableFromInline let edgeSum = Tensor<T>(shape: [0])      // Σ over i's edges of z (training)
    @usableFromInline let edgeSquares = Tensor<T>(shape: [0])  // Σ over i's edges of z² (training)
    @usableFromInline let output = Tensor<T>(shape: [0])
    @usableFromInline let inputGrad = Tensor<T>(shape: [0])
    @usableFromInline let da = Tensor<T>(shape: [0]), db = Tensor<T>(shape: [0])  // ∂L/∂A, ∂L/∂B
    @usableFromInline let dh = Tensor<T>(shape: [0]), winningZ = Tensor<T>(shape: [0])
    // Per channel: the statistics used by the last forward pass, its BatchNorm as y = s z + t, and
    // the backward's means over all edges of ∂h and ∂h·ẑ.
    @usableFromInline let mean = Tensor<T>(shape: [0]), invStd = Tensor<T>(shape: [0])
    @usableFromInline let scale = Tensor<T>(shape: [0]), shift = Tensor<T>(shape: [0])
    @usableFromInline let m1 = Tensor<T>(shape: [0]), m2 = Tensor<T>(shape: [0])
    @usableFromInline var trainedLast = false

    public init(_ index: Int, inputs: Int, outputs: Int, k: Int = 20, seed: UInt64? = 0) {
        self.inputs = inputs
        self.outputs = outputs
        self.k = k
        var rng = SeededGenerator(seed: (seed ?? 0) ^ UInt64(index) &* 0x9E37_79B9)
        let bound = 1 / Double(2 * inputs).squareRoot()
        weight = Parameter(name: "conv\(index).weight", shape: [outputs, 2 * inputs, 1, 1],
                           values: initialWeights(outputs * 2 * inputs, bound: bound, drawing: seed != nil, using: &rng))
        norm = BatchNorm("bn\(index)", channels: outputs)
    }

    public var parameters: [Parameter<T>] { [weight] + norm.parameters }
    public var buffers: [Parameter<T>] { norm.buffers }

    /// The k nearest neighbours of every point within its cloud, by squared Euclidean distance in
    /// feature space, nearest first; ties go to the lower index. O(points² · C).
    @inlinable
    public static func nearestNeighbours(_ x: Tensor<T>, k: Int) -> [Int32] {
        var result = [Int32]()
        nearestNeighbours(x, k: k, into: &result, gram: Tensor(shape: [0]))
        return result
    }

    /// As `nearestNeighbours(_:k:)`, into reused storage. Per cloud: the Gram matrix by one GEMM, then
    /// each row's k nearest by `NeighbourSelection`. Whole clouds go to the threads when there are
    /// enough of them to share evenly — each thread's GEMM then runs on that thread (libgomp does not
    /// nest teams) and nobody waits at a barrier per cloud; one cloud's rows are shared otherwise.
    @inlinable
    public static func nearestNeighbours(_ x: Tensor<T>, k: Int, into result: inout [Int32], gram: Tensor<T>) {
        let (clouds, n, c) = (x.shape[0], x.shape[1], x.shape[2])
        precondition(k >= 1 && k <= n, "EdgeConv needs at least k = \(k) points per cloud, got \(n)")
        if result.count != clouds * n * k { result = [Int32](repeating: 0, count: clouds * n * k) }
        let workers = Parallelism.workers
        let byCloud = workers > 1 && (clouds % workers == 0 || clouds >= 4 * workers)
        let parts = byCloud ? workers : 1
        gram.resize([parts, n + 1, n])  // per part: the Gram matrix, then a row of squared norms
        let gramBase = gram.pointer
        result.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!
            // The Gram matrix of one cloud into a part's buffer, its diagonal copied into the last row.
            func fillGram(_ cloud: Int, part: Int) -> UnsafeMutablePointer<T> {
                let p = x.pointer + cloud * n * c, g = gramBase + part * (n + 1) * n
                T.gemm(transA: false, transB: true, m: n, n: n, k: c, alpha: 1, a: p, lda: c, b: p, ldb: c, beta: 0, c: g, ldc: n)
                for i in 0 ..< n { g[n * n + i] = g[i * n + i] }
                return g
            }
            if byCloud {
                parallelRanges(parts, grain: 1) { partRange in
                    let selection = NeighbourSelection<T>(points: n, k: k)
                    defer { selection.deallocate() }
                    for part in partRange {
                        for cloud in clouds * part / parts ..< clouds * (part + 1) / parts {
                            let g = fillGram(cloud, part: part)
                            for i in 0 ..< n { selection.findNearest(row: g + i * n, norms: g + n * n, into: outBase + (cloud * n + i) * k) }
                        }
                    }
                }
            } else {
                for cloud in 0 ..< clouds {
                    let g = fillGram(cloud, part: 0)
                    parallelRanges(n, grain: 64) { rows in
                        let selection = NeighbourSelection<T>(points: n, k: k)
                        defer { selection.deallocate() }
                        for i in rows { selection.findNearest(row: g + i * n, norms: g + n * n, into: outBase + (cloud * n + i) * k) }
                    }
                }
            }
        }
    }

    /// W₁ = W[:, :C] and W₂ − W₁, as dense [out, C] matrices.
    @inlinable
    func splitWeight() -> (w1: [T], difference: [T]) {
        let w = weight.value.pointer, c = inputs
        var w1 = [T](repeating: 0, count: outputs * c), wd = w1
        for r in 0 ..< outputs {
            for q in 0 ..< c {
                w1[r * c + q] = w[r * 2 * c + q]
                wd[r * c + q] = w[r * 2 * c + c + q] - w[r * 2 * c + q]
            }
        }
        return (w1, wd)
    }

    @inlinable
    public func forward(_ x: Tensor<T>, training: Bool) -> Tensor<T> {
        precondition(x.shape.count == 3 && x.shape[2] == inputs, "EdgeConv expects [clouds, points, \(inputs)], got \(x.shape)")
        let (clouds, n) = (x.shape[0], x.shape[1])
        let c = inputs, o = outputs, k = k, rows = clouds * n
        input = x
        trainedLast = training
        Self.nearestNeighbours(x, k: k, into: &neighbours, gram: gram)
        let (w1, wd) = splitWeight()
        a.resize([rows, o])
        b.resize([rows, o])
        T.gemm(transA: false, transB: true, m: rows, n: o, k: c, alpha: 1, a: x.pointer, lda: c, b: w1, ldb: c, beta: 0, c: a.pointer, ldc: o)
        T.gemm(transA: false, transB: true, m: rows, n: o, k: c, alpha: 1, a: x.pointer, lda: c, b: wd, ldb: c, beta: 0, c: b.pointer, ldc: o)
        direction.resize([o])
        for ch in 0 ..< o { direction[ch] = norm.gamma.value[ch] >= 0 ? 1 : -1 }
        gatherNeighbours(clouds: clouds, points: n, training: training)
        // BatchNorm statistics over every edge (training), or the running ones (inference); then
        // y = LeakyReLU(s z + t) at the winning edge, s = γ/σ, t = β − s μ.
        let (sum, squares) = training ? (channelMoments(edgeSum).0, channelMoments(edgeSquares).0) : ([], [])
        norm.statistics(training: training, sum: sum, squares: squares, count: Double(rows * k),
                        mean: mean, invStd: invStd, scale: scale, shift: shift)
        output.resize([clouds, n, o])
        let s = scale.pointer, t = shift.pointer
        let bp = b.pointer, ep = extreme.pointer, yp = output.pointer, slope = slope
        parallelRanges(rows, grain: 256) { range in
            for i in range {
                for ch in 0 ..< o {
                    let at = i * o + ch
                    let h = s[ch] * (bp[at] + ep[at]) + t[ch]
                    yp[at] = h > 0 ? h : slope * h
                }
            }
        }
        return output
    }

    /// Per point: the extreme of aⱼ over its neighbours (d · max d aⱼ, d the channel's direction), and
    /// in training the point's share of the edge sums: Σₘ z = Σₘ aⱼ + k bᵢ and Σₘ z² = Σₘ aⱼ² +
    /// 2 bᵢ Σₘ aⱼ + k bᵢ². Eight channels at a time in vector registers, the k neighbour rows streaming
    /// past them.
    @inlinable
    func gatherNeighbours(clouds: Int, points n: Int, training: Bool) {
        typealias V = SIMD8<T>
        let o = outputs, k = k, rows = clouds * n, vectorEnd = o - o % V.scalarCount
        extreme.resize([rows, o])
        if training { for t in [edgeSum, edgeSquares] { t.resize([rows, o]) } }
        let ap = a.pointer, bp = b.pointer, dp = direction.pointer, ep = extreme.pointer, kk = T(k)
        let sp = edgeSum.pointer, qp = edgeSquares.pointer
        forEachPoint(clouds: clouds, points: n) { i, cloudBase, nearest in
            let here = i * o
            var ch = 0
            while ch < vectorEnd {
                let d = V.load(dp + ch)
                var best = -V(repeating: .infinity), s1 = V(), s2 = V()
                for m in 0 ..< k {
                    let v = V.load(ap + (cloudBase + Int(nearest[m])) * o + ch)
                    best = maximum(d * v, best)
                    if training {
                        s1 += v
                        s2 += v * v
                    }
                }
                (d * best).store(ep + here + ch)
                if training {
                    let bi = V.load(bp + here + ch)
                    (s1 + kk * bi).store(sp + here + ch)
                    (s2 + 2 * bi * s1 + kk * bi * bi).store(qp + here + ch)
                }
                ch += V.scalarCount
            }
            // The channels that do not fill a vector (none in DGCNN's layers).
            while ch < o {
                var best = -T.infinity, s1: T = 0, s2: T = 0
                for m in 0 ..< k {
                    let v = ap[(cloudBase + Int(nearest[m])) * o + ch]
                    best = max(best, dp[ch] * v)
                    s1 += v
                    s2 += v * v
                }
                ep[here + ch] = dp[ch] * best
                if training {
                    let bi = bp[here + ch]
                    sp[here + ch] = s1 + kk * bi
                    qp[here + ch] = s2 + 2 * bi * s1 + kk * bi * bi
                }
                ch += 1
            }
        }
    }

    /// Which of its k neighbours gave each point its extreme, per channel: the first one, as a max over
    /// edges computed edge by edge would pick.
    @inlinable
    func findWinners(clouds: Int, points n: Int) {
        typealias V = SIMD8<T>
        let o = outputs, k = k, rows = clouds * n, vectorEnd = o - o % V.scalarCount
        winner.resize([rows, o])
        let ap = a.pointer, ep = extreme.pointer, wp = winner.pointer
        forEachPoint(clouds: clouds, points: n) { i, cloudBase, nearest in
            let here = i * o
            var ch = 0
            while ch < vectorEnd {
                let e = V.load(ep + here + ch)
                var at = V(), index = V(repeating: T(k - 1))
                // Last to first, so that the first equal neighbour is the one that stays.
                for m in stride(from: k - 1, through: 0, by: -1) {
                    let v = V.load(ap + (cloudBase + Int(nearest[m])) * o + ch)
                    at = select(equal(v, e), index, at)
                    index -= 1
                }
                at.store(wp + here + ch)
                ch += V.scalarCount
            }
            while ch < o {
                let m = (0 ..< k).first { ap[(cloudBase + Int(nearest[$0])) * o + ch] == ep[here + ch] } ?? 0
                wp[here + ch] = T(m)
                ch += 1
            }
        }
    }

    /// Runs `body` on every point row of the batch, in parallel, with the first row of the point's
    /// cloud and its k neighbours (indices within the cloud): what both passes over the neighbours need.
    @inlinable
    func forEachPoint(clouds: Int, points n: Int, _ body: (_ row: Int, _ cloudBase: Int, _ nearest: UnsafePointer<Int32>) -> Void) {
        let k = k
        neighbours.withUnsafeBufferPointer { nb in
            let nbp = nb.baseAddress!
            parallelRanges(clouds * n, grain: 64) { range in
                for i in range { body(i, (i / n) * n, nbp + i * k) }
            }
        }
    }

    /// With s = γ/σ and ẑ = (z − μ)/σ, ∂L/∂z on edge (i, m) is s·(∂hᵢ·[m won] − m₁ − ẑᵢₘ m₂) in training
    /// (m₁, m₂ the means over all edges of ∂h and ∂h·ẑ; both zero in inference). Summed over i's edges
    /// that gives ∂L/∂bᵢ; summed over the edges that end at j, ∂L/∂aⱼ — both in closed form from the
    /// per-point sums of the forward pass and, for aⱼ, j's in-degree and the sum of the bᵢ pointing at
    /// it. Only the winning edges need a scatter.
    @inlinable
    public func backward(_ dy: Tensor<T>) -> Tensor<T> {
        guard let x = input else { preconditionFailure("EdgeConv.backward before forward") }
        let (clouds, n) = (x.shape[0], x.shape[1])
        let c = inputs, o = outputs, k = k, rows = clouds * n, training = trainedLast, slope = slope
        findWinners(clouds: clouds, points: n)
        dh.resize([rows, o])
        winningZ.resize([rows, o])
        let dyp = dy.pointer, bp = b.pointer, ep = extreme.pointer, dhp = dh.pointer, wz = winningZ.pointer
        let mu = mean.pointer, inv = invStd.pointer, s = scale.pointer, t = shift.pointer
        // ∂L/∂h at each point's winning edge, and the winning edge's normalised value ẑ.
        parallelRanges(rows, grain: 256) { range in
            for i in range {
                for ch in 0 ..< o {
                    let at = i * o + ch
                    let z = bp[at] + ep[at]
                    let h = s[ch] * z + t[ch]
                    dhp[at] = dyp[at] * (h > 0 ? 1 : slope)
                    wz[at] = (z - mu[ch]) * inv[ch]
                }
            }
        }
        let (dBeta, dGamma) = channelMoments(dh, weightedBy: winningZ)
        for ch in 0 ..< o {
            norm.beta.grad[ch] = T(dBeta[ch])
            norm.gamma.grad[ch] = T(dGamma[ch])
        }
        let edges = Double(rows * k)
        m1.resize([o])
        m2.resize([o])
        for ch in 0 ..< o {
            m1[ch] = training ? T(dBeta[ch] / edges) : 0
            m2[ch] = training ? T(dGamma[ch] / edges) : 0
        }
        let m1 = m1.pointer, m2 = m2.pointer
        da.resize([rows, o])
        db.resize([rows, o])
        da.fill(0)
        let ap = a.pointer, dap = da.pointer, dbp = db.pointer, sp = edgeSum.pointer, kk = T(k)
        let wp = winner.pointer
        neighbours.withUnsafeBufferPointer { nb in
            let nbp = nb.baseAddress!
            // Scatters stay within a cloud: clouds go to different cores.
            parallelRanges(clouds, grain: 1) { cloudRange in
                let degree = UnsafeMutablePointer<T>.allocate(capacity: n)
                let pointing = UnsafeMutablePointer<T>.allocate(capacity: n * o)  // Σ bᵢ over edges i → j
                defer { degree.deallocate(); pointing.deallocate() }
                for cloud in cloudRange {
                    let first = cloud * n
                    for i in first ..< first + n {
                        for ch in 0 ..< o {
                            let m = wp[i * o + ch].index
                            let j = first + Int(nbp[i * k + m])
                            dap[j * o + ch] += s[ch] * dhp[i * o + ch]
                        }
                    }
                    guard training else {
                        for i in first ..< first + n { for ch in 0 ..< o { dbp[i * o + ch] = s[ch] * dhp[i * o + ch] } }
                        continue
                    }
                    degree.update(repeating: 0, count: n)
                    pointing.update(repeating: 0, count: n * o)
                    for i in first ..< first + n {
                        let bi = bp + i * o
                        for m in 0 ..< k {
                            let j = Int(nbp[i * k + m])
                            degree[j] += 1
                            let row = pointing + j * o
                            for ch in 0 ..< o { row[ch] += bi[ch] }
                        }
                        let si = sp + i * o
                        for ch in 0 ..< o {
                            let edgeZ = (si[ch] - kk * mu[ch]) * inv[ch]   // Σₘ ẑᵢₘ
                            dbp[i * o + ch] = s[ch] * (dhp[i * o + ch] - kk * m1[ch] - m2[ch] * edgeZ)
                        }
                    }
                    for j in 0 ..< n {
                        let aj = ap + (first + j) * o, row = pointing + j * o, dj = degree[j]
                        for ch in 0 ..< o {
                            let incomingZ = (dj * (aj[ch] - mu[ch]) + row[ch]) * inv[ch]  // Σ ẑ over edges → j
                            dap[(first + j) * o + ch] -= s[ch] * (dj * m1[ch] + m2[ch] * incomingZ)
                        }
                    }
                }
            }
        }
        // A = X W₁ᵀ, B = X (W₂ − W₁)ᵀ: ∂W₁ = ∂Aᵀ X − ∂Bᵀ X, ∂W₂ = ∂Bᵀ X, ∂X = ∂A W₁ + ∂B (W₂ − W₁).
        if computesParameterGradients {
            var gA = [T](repeating: 0, count: o * c), gB = gA
            T.gemm(transA: true, transB: false, m: o, n: c, k: rows, alpha: 1, a: da.pointer, lda: o, b: x.pointer, ldb: c, beta: 0, c: &gA, ldc: c)
            T.gemm(transA: true, transB: false, m: o, n: c, k: rows, alpha: 1, a: db.pointer, lda: o, b: x.pointer, ldb: c, beta: 0, c: &gB, ldc: c)
            let gw = weight.grad.pointer
            for r in 0 ..< o {
                for q in 0 ..< c {
                    gw[r * 2 * c + q] = gA[r * c + q] - gB[r * c + q]
                    gw[r * 2 * c + c + q] = gB[r * c + q]
                }
            }
        }
        let (w1, wd) = splitWeight()
        inputGrad.resize(x.shape)
        T.gemm(transA: false, transB: false, m: rows, n: c, k: o, alpha: 1, a: da.pointer, lda: o, b: w1, ldb: c, beta: 0, c: inputGrad.pointer, ldc: c)
        T.gemm(transA: false, transB: false, m: rows, n: c, k: o, alpha: 1, a: db.pointer, lda: o, b: wd, ldb: c, beta: 1, c: inputGrad.pointer, ldc: c)
        return inputGrad
    }
}
