import Engine
import EngineTestSupport
import Foundation
import Support
import Testing

/// Every layer's backward (input and parameters) against central finite differences in Double.
@Suite struct LayerGradientTests {
    static func random(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
        var rng = SeededGenerator(seed: seed)
        return Tensor(shape: shape, values: (0 ..< shape.reduce(1, *)).map { _ in Double.random(in: -1 ... 1, using: &rng) })
    }

    static let tolerance = 1e-3

    @Test(arguments: [true, false])
    func dense(bias: Bool) {
        let layer = Dense<Double>("fc", inputs: 5, outputs: 4, bias: bias, seed: 3)
        let report = GradientCheck().check(layer, input: Self.random([2, 6, 5], seed: 1), training: true)
        #expect(report.worst < Self.tolerance, "\(report)")
        #expect(report.parameters.count == (bias ? 2 : 1))
    }

    @Test(arguments: [true, false])
    func batchNorm(training: Bool) {
        let layer = BatchNorm<Double>("bn", channels: 4)
        var rng = SeededGenerator(seed: 5)
        for c in 0 ..< 4 {  // non-trivial affine and running statistics
            layer.gamma.value[c] = Double.random(in: 0.5 ... 2, using: &rng)
            layer.beta.value[c] = Double.random(in: -1 ... 1, using: &rng)
            layer.runningMean.value[c] = Double.random(in: -0.5 ... 0.5, using: &rng)
            layer.runningVar.value[c] = Double.random(in: 0.5 ... 2, using: &rng)
        }
        let report = GradientCheck().check(layer, input: Self.random([3, 5, 4], seed: 2), training: training)
        #expect(report.worst < Self.tolerance, "\(report)")
    }

    @Test(arguments: [0.0, 0.2])
    func activation(slope: Double) {
        let report = GradientCheck().check(Activation<Double>(leakySlope: slope), input: Self.random([4, 7], seed: 4), training: true)
        #expect(report.worst < Self.tolerance, "\(report)")
    }

    @Test func dropoutWithAFixedMask() {
        let layer = Dropout<Double>(p: 0.5, seed: 9)
        layer.freezeMask = true
        let x = Self.random([6, 8], seed: 6)
        let y = layer.forward(x, training: true)
        let zeroed = (0 ..< y.count).filter { y[$0] == 0 }.count
        #expect(zeroed > 8 && zeroed < 40, "about half dropped")
        #expect((0 ..< y.count).allSatisfy { y[$0] == 0 || abs(y[$0] - 2 * x[$0]) < 1e-12 })
        let report = GradientCheck().check(layer, input: x, training: true)
        #expect(report.worst < Self.tolerance, "\(report)")
        #expect(layer.forward(x, training: false) === x, "identity in inference")
    }

    @Test func maxAndMeanPool() {
        let x = Self.random([3, 9, 5], seed: 7)
        #expect(GradientCheck().check(MaxPool<Double>(), input: x, training: true).worst < Self.tolerance)
        #expect(GradientCheck().check(MaxMeanPool<Double>(), input: x, training: true).worst < Self.tolerance)
        let y = MaxPool<Double>().forward(x, training: false), both = MaxMeanPool<Double>().forward(x, training: false)
        for cloud in 0 ..< 3 {
            for c in 0 ..< 5 {
                let column = (0 ..< 9).map { x[(cloud * 9 + $0) * 5 + c] }
                #expect(y[cloud * 5 + c] == column.max())
                #expect(both[cloud * 10 + c] == column.max())
                #expect(abs(both[cloud * 10 + 5 + c] - column.reduce(0, +) / 9) < 1e-12)
            }
        }
        // 11 channels: the vector lanes and the single ones.
        let wide = Self.random([2, 7, 11], seed: 8)
        #expect(GradientCheck().check(MaxMeanPool<Double>(), input: wide, training: true).worst < Self.tolerance)
    }

    /// A conv (no bias) and BatchNorm pair over 5 → 11 channels (one vector of 8 and 3 single ones),
    /// with γ of both signs (a negative γ turns a max into a min) and non-trivial running statistics.
    static func convAndNorm() -> (Dense<Double>, BatchNorm<Double>) {
        let conv = Dense<Double>("conv", inputs: 5, outputs: 11, bias: false, seed: 11)
        let norm = BatchNorm<Double>("bn", channels: 11)
        var rng = SeededGenerator(seed: 12)
        for c in 0 ..< 11 {
            norm.gamma.value[c] = (c % 3 == 1 ? -1 : 1) * Double.random(in: 0.5 ... 2, using: &rng)
            norm.beta.value[c] = Double.random(in: -0.3 ... 0.3, using: &rng)
            norm.runningMean.value[c] = Double.random(in: -0.2 ... 0.2, using: &rng)
            norm.runningVar.value[c] = Double.random(in: 0.5 ... 2, using: &rng)
        }
        return (conv, norm)
    }

    /// A fused module against the chain of layers it replaces — output, running statistics, ∂input and
    /// every parameter's gradient — and against finite differences.
    static func expectSameAsLayers(_ fused: any Module<Double>, _ layers: [any Module<Double>], fresh: any Module<Double>,
                                   outputs: Int, training: Bool, clouds: Int = 3, points: Int = 10) {
        let x = random([clouds, points, 5], seed: 13), dy = random([clouds, outputs], seed: 14)
        let y = fused.forward(x, training: training).array
        let dx = fused.backward(dy).array
        var h = x
        for layer in layers { h = layer.forward(h, training: training) }
        #expect(GradientCheck.relativeError(y, h.array) < 1e-12)
        var g = dy
        for layer in layers.reversed() { g = layer.backward(g) }
        #expect(GradientCheck.relativeError(dx, g.array) < 1e-10)
        let theirs = layers.flatMap { $0.parameters } + layers.flatMap { $0.buffers }
        for (mine, reference) in zip(fused.parameters + fused.buffers, theirs) {
            #expect(mine.name == reference.name)
            #expect(GradientCheck.relativeError(mine.value.array, reference.value.array) < 1e-12, "\(mine.name) value")
            #expect(GradientCheck.relativeError(mine.grad.array, reference.grad.array) < 1e-10, "\(mine.name) gradient")
        }
        let report = GradientCheck().check(fresh, input: x, training: training)
        #expect(report.worst < tolerance, "\(report)")
        #expect(report.parameters.keys.sorted() == ["bn.bias", "bn.weight", "conv.weight"])
    }

    /// BatchNorm in inference with its activation in one pass: the output, ∂input and the BatchNorm's
    /// gradients are those of the two layers run one after the other.
    @Test(arguments: [0.0, 0.2])
    func normActivationInOnePassEqualsTwo(slope: Double) {
        let (_, fused) = Self.convAndNorm(), (_, separate) = Self.convAndNorm()
        let fusedActivation = Activation<Double>(leakySlope: slope), activation = Activation<Double>(leakySlope: slope)
        let x = Self.random([2, 7, 11], seed: 15), dy = Self.random([2, 7, 11], seed: 16)
        let y = fused.forwardInference(x, then: fusedActivation).array
        let reference = activation.forward(separate.forward(x, training: false), training: false).array
        #expect(y == reference)
        #expect(y.contains { $0 < 0 } == (slope > 0) && y.contains { $0 > 0 }, "both sides of the activation are exercised")
        let dx = fused.backward(fusedActivation.backward(dy)).array
        #expect(dx == separate.backward(activation.backward(dy)).array)
        #expect(fused.gamma.grad.array == separate.gamma.grad.array && fused.beta.grad.array == separate.beta.grad.array)
    }

    /// PointNet's head: conv → BatchNorm → ReLU → max pool. One cloud of 40 points is split between
    /// the cores (on a machine with more than one) and its splits' maxima merged.
    @Test(arguments: [true, false], [(3, 10), (1, 40)])
    func convNormReLUMaxPoolEqualsTheLayersItReplaces(training: Bool, shape: (clouds: Int, points: Int)) {
        let (conv, norm) = Self.convAndNorm(), (refConv, refNorm) = Self.convAndNorm(), (freshConv, freshNorm) = Self.convAndNorm()
        Self.expectSameAsLayers(ConvNormReLUMaxPool(conv: conv, norm: norm), [refConv, refNorm, Activation<Double>(), MaxPool<Double>()],
                                fresh: ConvNormReLUMaxPool(conv: freshConv, norm: freshNorm), outputs: 11, training: training,
                                clouds: shape.clouds, points: shape.points)
    }

    /// DGCNN's head: conv → BatchNorm → LeakyReLU(0.2) → max and mean pool.
    @Test(arguments: [true, false])
    func convNormActivationPoolEqualsTheLayersItReplaces(training: Bool) {
        let (conv, norm) = Self.convAndNorm(), (refConv, refNorm) = Self.convAndNorm(), (freshConv, freshNorm) = Self.convAndNorm()
        Self.expectSameAsLayers(ConvNormActivationPool(conv: conv, norm: norm),
                                [refConv, refNorm, Activation<Double>(leakySlope: 0.2), MaxMeanPool<Double>()],
                                fresh: ConvNormActivationPool(conv: freshConv, norm: freshNorm), outputs: 22, training: training)
    }

    @Test(arguments: [0.0, 0.2])
    func softmaxCrossEntropy(smoothing: Double) {
        let logits = Self.random([4, 6], seed: 8)
        let labels = [0, 5, 2, 2]
        let loss = SoftmaxCrossEntropy<Double>(labelSmoothing: smoothing)
        let grad = Tensor<Double>(shape: [0])
        _ = loss(logits, labels: labels, gradient: grad)
        let analytic = grad.array
        let h = 1e-6
        let numeric = (0 ..< logits.count).map { i -> Double in
            let saved = logits[i]
            logits[i] = saved + h
            let plus = loss(logits, labels: labels, gradient: Tensor(shape: [0]))
            logits[i] = saved - h
            let minus = loss(logits, labels: labels, gradient: Tensor(shape: [0]))
            logits[i] = saved
            return (plus - minus) / (2 * h)
        }
        #expect(GradientCheck.relativeError(analytic, numeric) < Self.tolerance)
        // Against the definition, written out: −Σ q log softmax.
        let row = (0 ..< 6).map { logits[$0] }
        let logSum = log(row.map { exp($0) }.reduce(0, +))
        var expected = 0.0
        for c in 0 ..< 6 {
            let q: Double = c == 0 ? 1 - smoothing + smoothing / 6 : smoothing / 6
            expected -= q * (row[c] - logSum)
        }
        let single = Tensor<Double>(shape: [1, 6], values: row)
        #expect(abs(loss(single, labels: [0], gradient: Tensor(shape: [0])) - expected) < 1e-12)
    }
}

/// dnnl_sgemm in all four transpose combinations against a plain loop in Double.
@Suite struct GemmTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func floatGemmMatchesReference(transA: Bool, transB: Bool) {
        let (m, n, k) = (37, 29, 53)
        var rng = SeededGenerator(seed: 11)
        let a = (0 ..< m * k).map { _ in Float.random(in: -1 ... 1, using: &rng) }
        let b = (0 ..< k * n).map { _ in Float.random(in: -1 ... 1, using: &rng) }
        var c = (0 ..< m * n).map { _ in Float.random(in: -1 ... 1, using: &rng) }
        let c0 = c
        let lda = transA ? m : k, ldb = transB ? k : n
        Float.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb,
                   beta: 2, c: &c, ldc: n)
        for i in 0 ..< m {
            for j in 0 ..< n {
                var s = 0.0
                for p in 0 ..< k {
                    s += Double(transA ? a[p * lda + i] : a[i * lda + p]) * Double(transB ? b[j * ldb + p] : b[p * ldb + j])
                }
                #expect(abs(Double(c[i * n + j]) - (0.5 * s + 2 * Double(c0[i * n + j]))) < 1e-4)
            }
        }
    }
}

/// EdgeConv: neighbours against a brute-force search, the forward against the edge features computed
/// literally (no algebra), and the backward against finite differences in both modes.
@Suite struct EdgeConvTests {
    @Test func neighboursAreTheKNearestIncludingThePointItself() {
        let x = LayerGradientTests.random([2, 15, 4], seed: 21)
        let k = 5
        let found = EdgeConv<Double>.nearestNeighbours(x, k: k)
        for cloud in 0 ..< 2 {
            for i in 0 ..< 15 {
                let d = (0 ..< 15).map { j in (0 ..< 4).reduce(0.0) { s, q in
                    let v = x[(cloud * 15 + i) * 4 + q] - x[(cloud * 15 + j) * 4 + q]
                    return s + v * v } }
                let expected = (0 ..< 15).sorted { d[$0] < d[$1] }.prefix(k).map(Int32.init)
                #expect(Array(found[(cloud * 15 + i) * k ..< (cloud * 15 + i + 1) * k]) == expected)
                #expect(found[(cloud * 15 + i) * k] == Int32(i))
            }
        }
    }

    /// Squared distances from point i of `cloud` to every point, in Double.
    static func distances<T: EngineScalar>(_ x: Tensor<T>, cloud: Int, points n: Int, channels c: Int, from i: Int) -> [Double] {
        (0 ..< n).map { j in (0 ..< c).reduce(0.0) { s, q in
            let v = Double(x[(cloud * n + i) * c + q]) - Double(x[(cloud * n + j) * c + q])
            return s + v * v } }
    }

    /// Rows long enough for the block-minimum bound (n ≥ 64, k ≤ 32), in Float as the networks run:
    /// every row's k neighbours are distinct and at the k smallest distances (float rounding may swap
    /// near-equal ones, so distances are compared, not indices). Clouds of 2 and 4 share the threads
    /// by cloud, one cloud by rows.
    @Test(arguments: [(1, 3), (2, 64), (4, 3)])
    func neighboursOfLongRowsInFloat(clouds: Int, channels c: Int) {
        let n = 300, k = 20
        var rng = SeededGenerator(seed: 31)
        let x = Tensor<Float>(shape: [clouds, n, c], values: (0 ..< clouds * n * c).map { _ in Float.random(in: -1 ... 1, using: &rng) })
        let found = EdgeConv<Float>.nearestNeighbours(x, k: k)
        var wrong = 0
        for cloud in 0 ..< clouds {
            for i in 0 ..< n {
                let d = Self.distances(x, cloud: cloud, points: n, channels: c, from: i)
                let mine = (0 ..< k).map { Int(found[(cloud * n + i) * k + $0]) }
                let expected = d.sorted().prefix(k)
                let close = zip(mine.map { d[$0] }, expected).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, $1) }
                if Set(mine).count != k || !close { wrong += 1 }
            }
        }
        #expect(wrong == 0)
    }

    /// Duplicated points (as in scans resampled with repeats) tie exactly: neighbours come in order of
    /// distance and, among equal ones, of index — in the ranked path (a few hundred points, 50
    /// positions) and the insertion path (every point the same: all 200 keys tie at the bound).
    @Test(arguments: [50, 1])
    func tiesGoToTheLowerIndex(positions: Int) {
        let n = 200, c = 3, k = 20
        let base = LayerGradientTests.random([positions, c], seed: 41)
        let x = Tensor<Double>(shape: [1, n, c], values: (0 ..< n * c).map { base[(($0 / c) % positions) * c + $0 % c] })
        let found = EdgeConv<Double>.nearestNeighbours(x, k: k)
        for i in 0 ..< n {
            let d = Self.distances(x, cloud: 0, points: n, channels: c, from: i)
            let expected = (0 ..< n).sorted { d[$0] != d[$1] ? d[$0] < d[$1] : $0 < $1 }.prefix(k).map(Int32.init)
            #expect(Array(found[i * k ..< (i + 1) * k]) == expected)
        }
    }

    @Test(arguments: [true, false])
    func forwardMatchesTheLiteralDefinition(training: Bool) {
        // 11 channels: one vector of 8 and 3 single ones, with γ < 0 in each part.
        let o = 11
        let layer = EdgeConv<Double>(1, inputs: 3, outputs: o, k: 4, seed: 3)
        var rng = SeededGenerator(seed: 4)
        for c in 0 ..< o {
            layer.norm.gamma.value[c] = (c == 1 || c == 9 ? -1 : 1) * Double.random(in: 0.5 ... 1.5, using: &rng)
            layer.norm.beta.value[c] = Double.random(in: -0.2 ... 0.2, using: &rng)
            layer.norm.runningVar.value[c] = Double.random(in: 0.5 ... 2, using: &rng)
        }
        let x = LayerGradientTests.random([2, 9, 3], seed: 5)
        let y = layer.forward(x, training: training)
        let nb = EdgeConv<Double>.nearestNeighbours(x, k: 4)
        // Edge features [xⱼ − xᵢ, xᵢ] through the full weight, edge by edge.
        var z = [[Double]](), owner = [Int]()
        for i in 0 ..< 18 {
            let base = (i / 9) * 9
            for m in 0 ..< 4 {
                let j = base + Int(nb[i * 4 + m])
                let feature = (0 ..< 3).map { x[j * 3 + $0] - x[i * 3 + $0] } + (0 ..< 3).map { x[i * 3 + $0] }
                z.append((0 ..< o).map { r in (0 ..< 6).reduce(0.0) { $0 + layer.weight.value[r * 6 + $1] * feature[$1] } })
                owner.append(i)
            }
        }
        for c in 0 ..< o {
            let column = z.map { $0[c] }
            let mu: Double, variance: Double
            if training {
                mu = column.reduce(0, +) / Double(column.count)
                variance = column.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(column.count)
            } else {
                mu = layer.norm.runningMean.value[c]
                variance = layer.norm.runningVar.value[c]
            }
            for i in 0 ..< 18 {
                let h = (0 ..< z.count).filter { owner[$0] == i }.map { e -> Double in
                    let v = layer.norm.gamma.value[c] * (z[e][c] - mu) / (variance + 1e-5).squareRoot() + layer.norm.beta.value[c]
                    return v > 0 ? v : 0.2 * v
                }
                #expect(abs(y[i * o + c] - h.max()!) < 1e-10)
            }
        }
    }

    @Test(arguments: [true, false])
    func gradients(training: Bool) {
        let layer = EdgeConv<Double>(2, inputs: 3, outputs: 11, k: 4, seed: 6)
        layer.norm.gamma.value[2] = -0.7
        layer.norm.gamma.value[9] = -1.3
        let report = GradientCheck().check(layer, input: LayerGradientTests.random([2, 10, 3], seed: 7), training: training)
        #expect(report.worst < LayerGradientTests.tolerance, "\(report)")
        #expect(report.parameters.keys.sorted() == ["bn2.bias", "bn2.weight", "conv2.weight"])
    }
}
