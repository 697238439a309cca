import Support

/// DGCNN's EdgeConv with its BatchNorm and LeakyReLU: for each point i and each of its k nearest
/// neighbours j (in the input's feature space, the point itself included), the edge feature
/// [xⱼ − xᵢ, xᵢ] goes through a 1×1 convolution W = [W₁ W₂] (no bias), BatchNorm over all edges,
/// LeakyReLU(0.2), and a max over the k edges. Input [clouds, points, C] → [clouds, points, out].
///
/// The convolution is linear, so W [xⱼ − xᵢ, xᵢ] = W₁xⱼ + (W₂ − W₁)xᵢ: two products per point
/// (points × C × out each) instead of one per edge — k times less GEMM work (DESIGN §2). Edge values
/// are recomputed from those products where needed, never stored. The neighbour graph is a constant
/// of the forward pass (no gradient flows through the choice of neighbours, as with PyTorch's topk).
///
/// Parameters keep PyTorch's names: `convN.weight` [out, 2C, 1, 1] and `bnN.*`.
public final class EdgeConv<T: EngineScalar>: Module {
    public let weight: Parameter<T>
    public let norm: BatchNorm<T>
    public let inputs: Int, outputs: Int, k: Int
    public let slope: T = 0.2
    @usableFromInline var input: Tensor<T>?
    @usableFromInline var neighbours: [Int32] = []       // [clouds × points × k], index within the cloud
    @usableFromInline let a = Tensor<T>(shape: [0])        // X W₁ᵀ
    @usableFromInline let b = Tensor<T>(shape: [0])        // X (W₂ − W₁)ᵀ
    @usableFromInline let output = Tensor<T>(shape: [0])
    @usableFromInline let inputGrad = Tensor<T>(shape: [0])
    @usableFromInline let da = Tensor<T>(shape: [0]), db = Tensor<T>(shape: [0])  // ∂L/∂A, ∂L/∂B
    @usableFromInline var winners: [Int32] = []          // which of the k edges won, per point and channel
    @usableFromInline var mean: [T] = [], invStd: [T] = []
    @usableFromInline var trainedLast = false

    public init(_ index: Int, inputs: Int, outputs: Int, k: Int = 20, seed: UInt64 = 0) {
        self.inputs = inputs
        self.outputs = outputs
        self.k = k
        var rng = SeededGenerator(seed: seed ^ UInt64(index) &* 0x9E37_79B9)
        let bound = 1 / Double(2 * inputs).squareRoot()
        weight = Parameter(name: "conv\(index).weight", shape: [outputs, 2 * inputs, 1, 1],
                           values: (0 ..< outputs * 2 * inputs).map { _ in T(Double.random(in: -bound ... bound, using: &rng)) })
        norm = BatchNorm("bn\(index)", channels: outputs)
    }

    public var parameters: [Parameter<T>] { [weight] + norm.parameters }
    public var buffers: [Parameter<T>] { norm.buffers }

    /// The k nearest neighbours of every point within its cloud, by squared Euclidean distance in
    /// feature space (pairwise distances by GEMM, then a partial selection per row). O(points² · C).
    @inlinable
    public static func nearestNeighbours(_ x: Tensor<T>, k: Int) -> [Int32] {
        let (clouds, n, c) = (x.shape[0], x.shape[1], x.shape[2])
        precondition(k <= n, "EdgeConv needs at least k = \(k) points per cloud, got \(n)")
        var result = [Int32](repeating: 0, count: clouds * n * k)
        result.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!
            parallelRanges(clouds, grain: 1, workers: 1) { range in
                let gram = UnsafeMutablePointer<T>.allocate(capacity: n * n)
                let norms = UnsafeMutablePointer<T>.allocate(capacity: n)
                var row = [(T, Int32)](repeating: (0, 0), count: n)
                defer { gram.deallocate(); norms.deallocate() }
                for cloud in range {
                    let p = x.pointer + cloud * n * c
                    T.gemm(transA: false, transB: true, m: n, n: n, k: c, alpha: 1, a: p, lda: c, b: p, ldb: c, beta: 0, c: gram, ldc: n)
                    for i in 0 ..< n { norms[i] = gram[i * n + i] }
                    for i in 0 ..< n {
                        for j in 0 ..< n { row[j] = (norms[i] + norms[j] - 2 * gram[i * n + j], Int32(j)) }
                        // Distances tie only for coincident points; index order breaks them, so runs repeat.
                        partialSort(&row, k)
                        for m in 0 ..< k { outBase[(cloud * n + i) * k + m] = row[m].1 }
                    }
                }
            }
        }
        return result
    }

    @inlinable
    public func forward(_ x: Tensor<T>, training: Bool) -> Tensor<T> {
        precondition(x.shape.count == 3 && x.shape[2] == inputs, "EdgeConv expects [clouds, points, \(inputs)], got \(x.shape)")
        let (clouds, n) = (x.shape[0], x.shape[1])
        input = x
        trainedLast = training
        neighbours = Self.nearestNeighbours(x, k: k)
        // W₁ = W[:, :C], W₂ − W₁ as a dense [out, C] matrix.
        let w = weight.value.pointer, c = inputs, o = outputs
        var w1 = [T](repeating: 0, count: o * c), wd = w1
        for r in 0 ..< o { for q in 0 ..< c { w1[r * c + q] = w[r * 2 * c + q]; wd[r * c + q] = w[r * 2 * c + c + q] - w[r * 2 * c + q] } }
        a.resize([clouds * n, o])
        b.resize([clouds * n, o])
        T.gemm(transA: false, transB: true, m: clouds * n, n: o, k: c, alpha: 1, a: x.pointer, lda: c, b: w1, ldb: c, beta: 0, c: a.pointer, ldc: o)
        T.gemm(transA: false, transB: true, m: clouds * n, n: o, k: c, alpha: 1, a: x.pointer, lda: c, b: wd, ldb: c, beta: 0, c: b.pointer, ldc: o)
        // BatchNorm statistics over every edge (training), or the running ones (inference).
        if training {
            var sum = [Double](repeating: 0, count: o), squares = sum
            for i in 0 ..< clouds * n {
                let cloudBase = (i / n) * n
                for m in 0 ..< k {
                    let j = cloudBase + Int(neighbours[i * k + m])
                    for ch in 0 ..< o {
                        let z = Double(a[j * o + ch] + b[i * o + ch])
                        sum[ch] += z
                        squares[ch] += z * z
                    }
                }
            }
            let edges = Double(clouds * n * k)
            mean = (0 ..< o).map { T(sum[$0] / edges) }
            let variance = (0 ..< o).map { max(0, squares[$0] / edges - (sum[$0] / edges) * (sum[$0] / edges)) }
            invStd = variance.map { T(1 / ($0 + norm.epsilon).squareRoot()) }
            for ch in 0 ..< o {
                norm.runningMean.value[ch] = T((1 - norm.momentum) * Double(norm.runningMean.value[ch]) + norm.momentum * sum[ch] / edges)
                norm.runningVar.value[ch] = T((1 - norm.momentum) * Double(norm.runningVar.value[ch]) + norm.momentum * variance[ch] * edges / (edges - 1))
            }
        } else {
            mean = norm.runningMean.value.array
            invStd = norm.runningVar.value.array.map { T(1 / (Double($0) + norm.epsilon).squareRoot()) }
        }
        // y = LeakyReLU(γ (z − μ)/σ + β), max over the k edges, remembering which edge won.
        output.resize([clouds, n, o])
        if winners.count != clouds * n * o { winners = [Int32](repeating: 0, count: clouds * n * o) }
        let g = norm.gamma.value, be = norm.beta.value
        for i in 0 ..< clouds * n {
            let cloudBase = (i / n) * n
            for ch in 0 ..< o {
                var best = -T.infinity, bestEdge: Int32 = 0
                for m in 0 ..< k {
                    let j = cloudBase + Int(neighbours[i * k + m])
                    let h = g[ch] * (a[j * o + ch] + b[i * o + ch] - mean[ch]) * invStd[ch] + be[ch]
                    let y = h > 0 ? h : slope * h
                    if y > best { best = y; bestEdge = Int32(m) }
                }
                output[i * o + ch] = best
                winners[i * o + ch] = bestEdge
            }
        }
        return output
    }

    @inlinable
    public func backward(_ dy: Tensor<T>) -> Tensor<T> {
        guard let x = input else { preconditionFailure("EdgeConv.backward before forward") }
        let (clouds, n) = (x.shape[0], x.shape[1])
        let c = inputs, o = outputs, rows = clouds * n
        let g = norm.gamma.value, be = norm.beta.value
        // ∂L/∂h at the winning edge of each (point, channel); zero on the others.
        var dh = [T](repeating: 0, count: rows * o)
        var dGamma = [Double](repeating: 0, count: o), dBeta = dGamma
        for i in 0 ..< rows {
            let cloudBase = (i / n) * n
            for ch in 0 ..< o {
                let j = cloudBase + Int(neighbours[i * k + Int(winners[i * o + ch])])
                let zh = (a[j * o + ch] + b[i * o + ch] - mean[ch]) * invStd[ch]
                let h = g[ch] * zh + be[ch]
                let d = dy[i * o + ch] * (h > 0 ? 1 : slope)
                dh[i * o + ch] = d
                dBeta[ch] += Double(d)
                dGamma[ch] += Double(d) * Double(zh)
            }
        }
        for ch in 0 ..< o {
            norm.beta.grad[ch] = T(dBeta[ch])
            norm.gamma.grad[ch] = T(dGamma[ch])
        }
        // ∂L/∂z per edge: γ/σ · ∂h in inference; in training the batch statistics couple every edge:
        // γ/σ · (∂h − mean(∂h) − ẑ · mean(∂h · ẑ)), the means over all edges.
        let edges = T(rows * k)
        let m1 = (0 ..< o).map { trainedLast ? T(dBeta[$0]) / edges : 0 }
        let m2 = (0 ..< o).map { trainedLast ? T(dGamma[$0]) / edges : 0 }
        da.resize([rows, o])
        db.resize([rows, o])
        da.fill(0)
        db.fill(0)
        for i in 0 ..< rows {
            let cloudBase = (i / n) * n
            for m in 0 ..< k {
                let j = cloudBase + Int(neighbours[i * k + m])
                for ch in 0 ..< o {
                    let sparse = Int(winners[i * o + ch]) == m ? dh[i * o + ch] : 0
                    var dz = sparse
                    if trainedLast {
                        let zh = (a[j * o + ch] + b[i * o + ch] - mean[ch]) * invStd[ch]
                        dz = sparse - m1[ch] - zh * m2[ch]
                    }
                    dz *= g[ch] * invStd[ch]
                    da[j * o + ch] += dz
                    db[i * o + ch] += dz
                }
            }
        }
        // A = X W₁ᵀ, B = X (W₂ − W₁)ᵀ: ∂W₁ = ∂Aᵀ X − ∂Bᵀ X, ∂W₂ = ∂Bᵀ X, ∂X = ∂A W₁ + ∂B (W₂ − W₁).
        var gA = [T](repeating: 0, count: o * c), gB = gA
        T.gemm(transA: true, transB: false, m: o, n: c, k: rows, alpha: 1, a: da.pointer, lda: o, b: x.pointer, ldb: c, beta: 0, c: &gA, ldc: c)
        T.gemm(transA: true, transB: false, m: o, n: c, k: rows, alpha: 1, a: db.pointer, lda: o, b: x.pointer, ldb: c, beta: 0, c: &gB, ldc: c)
        let w = weight.value.pointer, gw = weight.grad.pointer
        var w1 = [T](repeating: 0, count: o * c), wd = w1
        for r in 0 ..< o {
            for q in 0 ..< c {
                gw[r * 2 * c + q] = gA[r * c + q] - gB[r * c + q]
                gw[r * 2 * c + c + q] = gB[r * c + q]
                w1[r * c + q] = w[r * 2 * c + q]
                wd[r * c + q] = w[r * 2 * c + c + q] - w[r * 2 * c + q]
            }
        }
        inputGrad.resize(x.shape)
        T.gemm(transA: false, transB: false, m: rows, n: c, k: o, alpha: 1, a: da.pointer, lda: o, b: w1, ldb: c, beta: 0, c: inputGrad.pointer, ldc: c)
        T.gemm(transA: false, transB: false, m: rows, n: c, k: o, alpha: 1, a: db.pointer, lda: o, b: wd, ldb: c, beta: 1, c: inputGrad.pointer, ldc: c)
        return inputGrad
    }
}

/// Puts the `k` smallest (distance, index) pairs, in increasing order, at the front of `row`:
/// quickselect, then a sort of the k. Pairs compare by distance, then index.
@inlinable
func partialSort<T: EngineScalar>(_ row: inout [(T, Int32)], _ k: Int) {
    func less(_ x: (T, Int32), _ y: (T, Int32)) -> Bool { x.0 < y.0 || (x.0 == y.0 && x.1 < y.1) }
    var lo = 0, hi = row.count - 1
    while lo < hi {
        let pivot = row[(lo + hi) / 2]
        var i = lo, j = hi
        while i <= j {
            while less(row[i], pivot) { i += 1 }
            while less(pivot, row[j]) { j -= 1 }
            if i <= j { row.swapAt(i, j); i += 1; j -= 1 }
        }
        if k - 1 <= j { hi = j } else if k - 1 >= i { lo = i } else { break }
    }
    row[0 ..< k].sort(by: less)
}
