import Adaptation
import Engine
import EngineTestSupport
import Support
import Testing

/// The reconstruction loss and the heads against hand values and finite differences.
@Suite struct ChamferAndHeadTests {
    @Test func chamferMatchesAHandValue() {
        // P = {0}; Q = {(1,0,0), (0,2,0)}: P→Q nearest is 1; Q→P: 1 and 4, mean 2.5.
        let (d, g) = chamferDistance(predicted: [SIMD3<Double>(0, 0, 0)], truth: [SIMD3(1, 0, 0), SIMD3(0, 2, 0)])
        #expect(abs(d - 3.5) < 1e-12)
        // ∂/∂p: 2(p − q₁) from the first term + (2(p − q₁) + 2(p − q₂)) / 2 from the second.
        #expect(g[0] == SIMD3(-2, 0, 0) + SIMD3(-1, -2, 0))
    }

    @Test func chamferGradientMatchesFiniteDifferences() {
        var rng = SeededGenerator(seed: 3)
        func cloud(_ n: Int) -> [SIMD3<Double>] { (0 ..< n).map { _ in SIMD3((0 ..< 3).map { _ in Double.random(in: -1 ... 1, using: &rng) }) } }
        let p = cloud(17), q = cloud(23)
        let analytic = chamferDistance(predicted: p, truth: q).gradient
        var numeric = [Double](), flat = [Double]()
        let h = 1e-6
        for i in p.indices {
            for axis in 0 ..< 3 {
                var plus = p, minus = p
                plus[i][axis] += h
                minus[i][axis] -= h
                numeric.append((chamferDistance(predicted: plus, truth: q).distance - chamferDistance(predicted: minus, truth: q).distance) / (2 * h))
                flat.append(analytic[i][axis])
            }
        }
        #expect(GradientCheck.relativeError(flat, numeric) < 1e-6)
    }

    @Test(arguments: [[6, 5, 4], [7, 9, 8, 3]])
    func mlpHeadGradients(widths: [Int]) {
        let head = MLPHead<Double>("ssl.test", widths: widths, seed: 4)
        var rng = SeededGenerator(seed: 5)
        let x = Tensor<Double>(shape: [3, 4, widths[0]], values: (0 ..< 12 * widths[0]).map { _ in Double.random(in: -1 ... 1, using: &rng) })
        let report = GradientCheck().check(head, input: x, training: true)
        #expect(report.worst < 1e-4, "\(report)")
        #expect(report.parameters.count == 3 * (widths.count - 1) - 1, "each layer's weight, each BatchNorm's scale and shift, the last bias")
    }

    /// The split layer against the concatenation it replaces, built here by hand and fed to `Dense`.
    @Test func pointGlobalDenseEqualsDenseOverTheConcatenation() {
        let (b, n, c, g, h) = (3, 5, 4, 6, 7)
        var rng = SeededGenerator(seed: 6)
        func random(_ shape: [Int]) -> Tensor<Double> {
            Tensor(shape: shape, values: (0 ..< shape.reduce(1, *)).map { _ in Double.random(in: -1 ... 1, using: &rng) })
        }
        let points = random([b, n, c]), global = random([b, g]), dy = random([b, n, h])
        let split = PointGlobalDense<Double>("x", pointChannels: c, globalChannels: g, outputs: h, seed: 7)
        let dense = Dense<Double>("x", inputs: c + g, outputs: h, bias: false, seed: 7)
        #expect(split.weight.value.array == dense.weight.value.array)
        let joined = Tensor<Double>(shape: [b, n, c + g])
        for cloud in 0 ..< b {
            for j in 0 ..< n {
                for i in 0 ..< c { joined[(cloud * n + j) * (c + g) + i] = points[(cloud * n + j) * c + i] }
                for i in 0 ..< g { joined[(cloud * n + j) * (c + g) + c + i] = global[cloud * g + i] }
            }
        }
        let expected = dense.forward(joined, training: true).array
        let got = split.forward(points: points, global: global).array
        #expect(GradientCheck.relativeError(got, expected) < 1e-12)
        let dJoined = dense.backward(dy)
        split.backward(dy)
        #expect(GradientCheck.relativeError(split.weight.grad.array, dense.weight.grad.array) < 1e-12)
        var dPoints = [Double](), dGlobal = [Double](repeating: 0, count: b * g)
        for cloud in 0 ..< b {
            for j in 0 ..< n {
                for i in 0 ..< c { dPoints.append(dJoined[(cloud * n + j) * (c + g) + i]) }
                for i in 0 ..< g { dGlobal[cloud * g + i] += dJoined[(cloud * n + j) * (c + g) + c + i] }
            }
        }
        #expect(GradientCheck.relativeError(split.pointGrad.array, dPoints) < 1e-12)
        #expect(GradientCheck.relativeError(split.globalGrad.array, dGlobal) < 1e-12)
    }
}
