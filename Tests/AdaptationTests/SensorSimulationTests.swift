import Adaptation
import Foundation
import Networks
import PointClouds
import Support
import Testing

@Suite struct SensorSimulationTests {
    /// `n` points spread evenly over the unit sphere (a Fibonacci lattice).
    static func sphere(_ n: Int) -> [Float] {
        (0 ..< n).flatMap { i -> [Float] in
            let z = 1 - 2 * (Float(i) + 0.5) / Float(n), r = (1 - z * z).squareRoot(), phi = Float(i) * 2.399963
            return [r * cos(phi), r * sin(phi), z]
        }
    }

    @Test func drawsFollowTheProbabilityAndSeverities() {
        var rng = SeededGenerator(seed: 1)
        let half = SensorSimulation(probability: 0.5, severities: 2 ... 4)
        let draws = (0 ..< 2000).map { _ in half.draw(using: &rng) }
        let taken = draws.compactMap { $0 }
        #expect(abs(Double(taken.count) / 2000 - 0.5) < 0.05)
        #expect(taken.allSatisfy { $0.corruption.kind == .occlusion && (2 ... 4).contains($0.corruption.severity) })
        #expect(Set(taken.map(\.corruption.severity)) == [2, 3, 4])
        #expect((0 ..< 100).allSatisfy { _ in SensorSimulation(probability: 0).draw(using: &rng) == nil })
        #expect((0 ..< 100).allSatisfy { _ in SensorSimulation(probability: 1).draw(using: &rng) != nil })
    }

    @Test func aViewIsTheOcclusionPreparedAsAScan() throws {
        let n = 512
        var points = Self.sphere(n)
        let original = PointCloud(positions: (0 ..< n).map { SIMD3(points[3 * $0], points[3 * $0 + 1], points[3 * $0 + 2]) })
        let preprocessing = Preprocessing.standard(points: n, seed: 3)
        let corruption = Corruption(.occlusion, severity: 3)
        let replaced = points.withUnsafeMutableBufferPointer {
            SensorSimulation.replace($0.baseAddress!, count: n, with: (corruption, 7), preprocessing: preprocessing)
        }
        #expect(replaced)
        let expected = try preprocessing.apply(to: corruption.apply(to: original, seed: 7)).cloud.positions
        #expect(points == expected.flatMap { [$0.x, $0.y, $0.z] })
        // One side of a sphere: from 2.5 radii a cap of less than half the points, the rest repeats.
        let distinct = Set(expected.map { [$0.x, $0.y, $0.z] })
        #expect(distinct.count < n / 2 && distinct.count > n / 5, "\(distinct.count) distinct points")
        let radius = expected.map { ($0 * $0).sum().squareRoot() }.max()!
        #expect(abs(radius - 1) < 1e-5, "rescaled to the unit sphere")
    }

    @Test func validationViewsAreFixedPerCloudAndKeepLabels() {
        let n = 256, count = 6
        let points = (0 ..< count).flatMap { _ in Self.sphere(n) }
        let set = PreparedSet(classes: ["a", "b"], paths: (0 ..< count).map { "c\($0)" }, labels: (0 ..< count).map { $0 % 2 },
                              points: points, pointsPerCloud: n)
        let simulation = SensorSimulation(probability: 0.1)
        let views = simulation.views(of: set, preprocessing: .standard(points: n), seed: 9)
        #expect(views.labels == set.labels && views.paths == set.paths)
        let rows = (0 ..< count).map { Array(views.points[$0 * n * 3 ..< ($0 + 1) * n * 3]) }
        #expect(rows.allSatisfy { $0 != Self.sphere(n) }, "every cloud is a view, whatever the training probability")
        #expect(Set(rows).count == count, "each cloud seen from its own viewpoint")
        #expect(simulation.views(of: set, preprocessing: .standard(points: n), seed: 9).points == views.points)
        #expect(simulation.views(of: set, preprocessing: .standard(points: n), seed: 10).points != views.points)
    }

    @Test func adaptingWithViewsChoosesOnBothValidations() throws {
        var o = AdapterTests.options(.none)
        o.reconstructionWeight = 0
        o.rotationWeight = 0
        let plain = TrainingLoop(AdapterTests.adapter(AdapterTests.model(), o)).runEpoch()
        o.sensorSimulation = SensorSimulation(probability: 1)
        let viewed = AdapterTests.model()
        let e = TrainingLoop(AdapterTests.adapter(viewed, o)).runEpoch()
        #expect(plain.sourceViewValidationAccuracy == nil)
        let views = try #require(e.sourceViewValidationAccuracy)
        #expect((0 ... 1).contains(views))
        #expect(e.losses.classification != plain.losses.classification, "the classification pass saw views")
        #expect(o.recipe.contains("single views"))
    }
}
