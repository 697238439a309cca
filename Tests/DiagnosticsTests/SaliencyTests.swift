import Diagnostics
import Engine
import EngineTestSupport
import Foundation
import Networks
import PointClouds
import Support
import Testing
import TestSupport

/// Saliency maps against the reference PyTorch implementation's maps, and against their definition
/// by finite differences: sᵢ = −rᵢ^α · d/dε L(c + (1 + ε)(xᵢ − c)) at ε = 0.
@Suite struct SaliencyTests {
    struct Case: Decodable {
        var path: String
        var predicted: Int
        var saliency: [Double]
        var skewness: Double
    }

    struct Reference: Decodable { var cases: [Case] }

    @Test(.enabled(if: TestPaths.hasSharedData, "needs ../shared/data"))
    func mapsAndSkewnessMatchTheReference() throws {
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: TestPaths.shared("reference/pointnet-reference.json"))))
        let model = try Model.load(TestPaths.shared("reference/pointnet-reference.safetensors"))
        let clouds = try reference.cases.map { try PointCloud(contentsOf: TestPaths.shared($0.path)) }
        let maps = model.saliency(clouds)
        #expect(maps.count == 16)
        for (c, map) in zip(reference.cases, maps) {
            #expect(map.label == c.predicted, "\(c.path)")
            let ours = map.values.map(Double.init)
            #expect(GradientCheck.relativeError(ours, c.saliency) <= 1e-2, "\(c.path)")
            #expect(abs(map.skewness - c.skewness) <= 1e-2 * abs(c.skewness), "\(c.path): \(map.skewness) vs \(c.skewness)")
        }
    }

    @Test(arguments: [1.0, 2.5])
    func definitionByFiniteDifferences(alpha: Double) {
        let network = PointNet<Double>(classes: 4, embedding: 32, seed: 5)
        var rng = SeededGenerator(seed: 6)
        let n = 24
        let points = Tensor<Double>(shape: [1, n, 3], values: (0 ..< n * 3).map { _ in Double.random(in: -1 ... 1, using: &rng) })
        let out = network.saliencyMaps(points, labels: [2], alpha: alpha)
        #expect(out.labels == [2])
        let centre = (0 ..< 3).map { axis in (0 ..< n).map { points[$0 * 3 + axis] }.sorted()[(n - 1) / 2] }
        func loss(_ x: Tensor<Double>) -> Double {
            let logits = network.forward(x, training: false)
            let row = (0 ..< 4).map { logits[$0] }, top = row.max()!
            return -(row[2] - top - Foundation.log(row.map { Foundation.exp($0 - top) }.reduce(0, +)))
        }
        let h = 1e-6
        var numeric = [Double]()
        for i in 0 ..< n {
            var loss2 = [Double]()
            for sign in [1.0, -1.0] {
                let moved = Tensor<Double>(shape: [1, n, 3], values: points.array)
                for axis in 0 ..< 3 { moved[i * 3 + axis] = centre[axis] + (1 + sign * h) * (points[i * 3 + axis] - centre[axis]) }
                loss2.append(loss(moved))
            }
            let r = (0 ..< 3).reduce(0.0) { $0 + (points[i * 3 + $1] - centre[$1]) * (points[i * 3 + $1] - centre[$1]) }.squareRoot()
            numeric.append(-Foundation.pow(r, alpha) * (loss2[0] - loss2[1]) / (2 * h))
        }
        #expect(GradientCheck.relativeError(out.maps[0], numeric) < 1e-5)
        #expect(numeric.contains { abs($0) > 1e-6 }, "a map that is not all zero")
    }

    @Test func skewnessIsThePopulationSkewness() {
        // Independent values: a right-skewed sample, its skewness computed by hand from the definition.
        let values: [Float] = [0, 0, 0, 1, 5]
        let mean = 1.2, deviations = values.map { Double($0) - mean }
        let m2 = deviations.map { $0 * $0 }.reduce(0, +) / 5, m3 = deviations.map { $0 * $0 * $0 }.reduce(0, +) / 5
        let map = SaliencyMap(values: values, label: 0, prediction: Prediction(logits: [1, 0]))
        #expect(abs(map.skewness - m3 / (m2 * m2.squareRoot())) < 1e-12)
        #expect(map.skewness > 1)
        #expect(SaliencyMap(values: [3, 3, 3], label: 0, prediction: Prediction(logits: [1, 0])).skewness == 0)
        let shiftedScaled = SaliencyMap(values: values.map { 4 * $0 - 7 }, label: 0, prediction: Prediction(logits: [1, 0]))
        #expect(abs(shiftedScaled.skewness - map.skewness) < 1e-9)
    }
}

/// The colormap: black to white, luminance rising all the way (what makes it readable in greyscale),
/// and percentile clipping that keeps outliers from washing out the rest.

/// The per-object indicators against hand computations from their definitions.
@Suite struct IndicatorTests {
    static let prediction = Prediction(logits: [2, 0.5, -1])

    @Test func softmaxScores() {
        let p = [2.0, 0.5, -1].map { Foundation.exp($0) }, z = p.reduce(0, +)
        let q = p.map { $0 / z }
        let map = SaliencyMap(values: [1, 2, 3, 4], label: 0, prediction: Self.prediction)
        let x = Indicators(map: map, points: (0 ..< 4).map { SIMD3<Float>(Float($0), 0, 0) })
        #expect(abs(x.mspScore - (1 - q[0])) < 1e-6)
        #expect(abs(x.margin - (q[0] - q[1])) < 1e-6)
        #expect(abs(x.entropy + q.map { $0 * Foundation.log($0) }.reduce(0, +)) < 1e-6)
        #expect(abs(x.energy + Foundation.log(z)) < 1e-6)
    }

    @Test func concentrationOverDistinctPoints() {
        // Ten distinct points, |s| = 1…10: Gini by the mean-difference definition, top 10 % = the largest.
        let values = (1 ... 10).map { Float($0) * ($0 % 2 == 0 ? 1 : -1) }
        let points = (0 ..< 10).map { SIMD3<Float>(Float($0), 1, 2) }
        let x = Indicators(map: SaliencyMap(values: values, label: 0, prediction: Self.prediction), points: points)
        let m = (1 ... 10).map(Double.init)
        let meanDifference = m.flatMap { a in m.map { abs(a - $0) } }.reduce(0, +) / 100
        #expect(abs(x.gini - meanDifference / (2 * 5.5)) < 1e-12)
        #expect(abs(x.top10Mass - 10.0 / 55) < 1e-12)
        // The same cloud with point 9 repeated four times, its gradient on one copy: nothing changes.
        let repeated = points + Array(repeating: points[9], count: 3)
        let y = Indicators(map: SaliencyMap(values: values + [0, 0, 0], label: 0, prediction: Self.prediction), points: repeated)
        #expect(y.gini == x.gini && y.top10Mass == x.top10Mass && abs(y.skewness - x.skewness) < 1e-9)
    }
}
