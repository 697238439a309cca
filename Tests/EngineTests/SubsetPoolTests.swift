import Engine
import EngineTestSupport
import Support
import Testing

/// PointNet's head on subsets of points (`ConvNormReLUMaxPool.forward(subsets:values:)` and
/// `backwardSubsets`): against the head run on each subset's points gathered into a cloud of their
/// own, and against finite differences.
@Suite struct SubsetPoolTests {
    /// Subsets of 2 clouds of 10 points: whole clouds, thinned ones, single points; the second cloud
    /// repeats points, so ties go to the first of the kept copies.
    static let subsets = [
        PointSubset(cloud: 0, points: Array(0 ..< 10)), PointSubset(cloud: 1, points: Array(0 ..< 10)),
        PointSubset(cloud: 0, points: [1, 2, 5, 7, 9]), PointSubset(cloud: 1, points: [0, 3, 4, 8]),
        PointSubset(cloud: 1, points: [6]), PointSubset(cloud: 0, points: [0, 9]),
    ]

    static func input() -> Tensor<Double> {
        let x = LayerGradientTests.random([2, 10, 5], seed: 31)
        for (copy, of) in [(3, 0), (8, 4), (9, 4)] { for j in 0 ..< 5 { x[(10 + copy) * 5 + j] = x[(10 + of) * 5 + j] } }
        return x
    }

    /// The subsets' points as clouds of their own, one subset at a time.
    static func gathered(_ x: Tensor<Double>, _ subset: PointSubset) -> Tensor<Double> {
        Tensor(shape: [1, subset.points.count, 5], values: subset.points.flatMap { p in (0 ..< 5).map { x[(subset.cloud * 10 + p) * 5 + $0] } })
    }

    /// With 2 candidates per channel some subsets keep none of a channel's, and that channel is scanned.
    @Test(arguments: [32, 2])
    func subsetsEqualTheirPointsRunAsClouds(candidates: Int) {
        let (conv, norm) = LayerGradientTests.convAndNorm(), (refConv, refNorm) = LayerGradientTests.convAndNorm()
        let head = ConvNormReLUMaxPool(conv: conv, norm: norm), reference = ConvNormReLUMaxPool(conv: refConv, norm: refNorm)
        head.computesParameterGradients = false
        head.candidates = candidates
        reference.computesParameterGradients = false
        let x = Self.input(), values = Tensor<Double>(shape: [0])
        head.pointValues(x, into: values)
        let y = head.forward(subsets: Self.subsets, values: values)
        #expect(y.shape == [Self.subsets.count, 11])
        let dy = LayerGradientTests.random([Self.subsets.count, 11], seed: 32)
        let (rows, gradient) = head.backwardSubsets(dy)
        var expectedRows = [Int](), expectedGradient = [Double]()
        for (s, subset) in Self.subsets.enumerated() {
            let out = reference.forward(Self.gathered(x, subset), training: false)
            #expect(GradientCheck.relativeError((0 ..< 11).map { y[s * 11 + $0] }, out.array) < 1e-14, "subset \(s)")
            let dx = reference.backward(Tensor(shape: [1, 11], values: (0 ..< 11).map { dy[s * 11 + $0] }))
            for (q, p) in subset.points.enumerated() where (0 ..< 5).contains(where: { dx[q * 5 + $0] != 0 }) {
                expectedRows.append(s * 10 + p)
                expectedGradient += (0 ..< 5).map { dx[q * 5 + $0] }
            }
        }
        #expect(rows == expectedRows)
        #expect(GradientCheck.relativeError(gradient.array, expectedGradient) < 1e-14)
        #expect(rows.count < Self.subsets.reduce(0) { $0 + $1.points.count }, "points that win nothing get no row")
    }

    /// x → Z → pooled subsets as one module, ∂L/∂x the sum of the subsets' gradients: for the check.
    final class SubsetHead: Module {
        let head: ConvNormReLUMaxPool<Double>
        let values = Tensor<Double>(shape: [0]), inputGrad = Tensor<Double>(shape: [0])
        var shape: [Int] = []

        init() {
            let (conv, norm) = LayerGradientTests.convAndNorm()
            head = ConvNormReLUMaxPool(conv: conv, norm: norm)
            head.computesParameterGradients = false
        }

        var parameters: [Parameter<Double>] { [] }

        func forward(_ x: Tensor<Double>, training: Bool) -> Tensor<Double> {
            shape = x.shape
            head.pointValues(x, into: values)
            return head.forward(subsets: SubsetPoolTests.subsets, values: values)
        }

        func backward(_ dy: Tensor<Double>) -> Tensor<Double> {
            let (rows, gradient) = head.backwardSubsets(dy)
            inputGrad.resize(shape)
            inputGrad.fill(0)
            for (r, row) in rows.enumerated() {
                let (s, p) = (row / 10, row % 10), at = (SubsetPoolTests.subsets[s].cloud * 10 + p) * 5
                for j in 0 ..< 5 { inputGrad[at + j] += gradient[r * 5 + j] }
            }
            return inputGrad
        }
    }

    @Test func gradientByFiniteDifferences() {
        let report = GradientCheck(entriesPerTensor: 100).check(SubsetHead(), input: LayerGradientTests.random([2, 10, 5], seed: 33), training: false)
        #expect(report.worst < LayerGradientTests.tolerance, "\(report)")
    }
}
