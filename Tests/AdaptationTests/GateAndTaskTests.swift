import Adaptation
import Support
import Testing

@Suite struct GateTests {
    @Test func skewnessGateKeepsTheLowestShare() {
        var history = [Double](), rng = SeededGenerator(seed: 1)
        let skew = [3.0, -1, 0.5, 7, -2, 0.5]
        let keep = Gate(kind: .skewness, keepRatio: 0.5).select(count: 6, skewness: skew, history: &history, using: &rng)
        #expect(keep == [false, true, true, false, true, false], "the three lowest; the tie at 0.5 goes to the earlier sample")
        let all = Gate(kind: .none).select(count: 6, skewness: nil, history: &history, using: &rng)
        #expect(all.allSatisfy { $0 })
    }

    @Test func randomGateKeepsTheSameNumberDifferently() {
        var history = [Double](), a = SeededGenerator(seed: 1), b = SeededGenerator(seed: 2)
        let gate = Gate(kind: .random, keepRatio: 0.25)
        let first = gate.select(count: 32, skewness: nil, history: &history, using: &a)
        let second = gate.select(count: 32, skewness: nil, history: &history, using: &b)
        #expect(first.filter { $0 }.count == 8 && second.filter { $0 }.count == 8)
        #expect(first != second)
        #expect(!gate.measures && Gate(kind: .skewness).measures)
    }

    @Test func runningThresholdRemembersEarlierBatches() {
        var history = [Double](), rng = SeededGenerator(seed: 1)
        let gate = Gate(kind: .skewness, keepRatio: 0.5, threshold: .running)
        _ = gate.select(count: 4, skewness: [0, 1, 2, 3], history: &history, using: &rng)
        // A batch of only high values: against the window's median (≤ 3) it keeps fewer than half.
        let keep = gate.select(count: 4, skewness: [3, 10, 11, 12], history: &history, using: &rng)
        #expect(keep == [true, false, false, false])
        #expect(history.count == 8)
    }
}

@Suite struct TaskTests {
    @Test func deformationReplacesOneFullCellByNoiseAtItsCentre() {
        var rng = SeededGenerator(seed: 4)
        let n = 2000
        var points = (0 ..< 3 * n).map { _ in Float.random(in: -0.99 ... 0.99, using: &rng) }
        let before = points
        let replaced = points.withUnsafeMutableBufferPointer { RegionDeformation().apply($0.baseAddress!, count: n, using: &rng) }
        #expect(replaced.count >= 40)
        func cell(_ v: Float) -> Int { min(Int((v + 1) / 2 * 3), 2) }
        let cells = Set(replaced.map { i in (0 ..< 3).map { cell(before[3 * i + $0]) } })
        #expect(cells.count == 1, "all replaced points came from one cell")
        let centre = cells.first!.map { -1 + (Float($0) + 0.5) * 2 / 3 }
        let sigma = Float(0.001).squareRoot()
        var sumSquares: Float = 0
        for i in replaced { for a in 0 ..< 3 { sumSquares += (points[3 * i + a] - centre[a]) * (points[3 * i + a] - centre[a]) } }
        let variance = sumSquares / Float(3 * replaced.count)
        #expect(abs(variance - sigma * sigma) < 0.35 * sigma * sigma, "noise of variance 0.001 around the centre, got \(variance)")
        let kept = Set(0 ..< n).subtracting(replaced)
        #expect(kept.allSatisfy { i in (0 ..< 3).allSatisfy { points[3 * i + $0] == before[3 * i + $0] } })
    }

    @Test func quarterTurnsAboutX() {
        var p: [Float] = [0.5, 1, 2]
        p.withUnsafeMutableBufferPointer { QuarterTurn.apply($0.baseAddress!, count: 1, turns: 1) }
        #expect(p == [0.5, -2, 1])
        p.withUnsafeMutableBufferPointer { QuarterTurn.apply($0.baseAddress!, count: 1, turns: 3) }
        #expect(p == [0.5, 1, 2], "one turn and three turns make a full one")
        p.withUnsafeMutableBufferPointer { QuarterTurn.apply($0.baseAddress!, count: 1, turns: 2) }
        #expect(p == [0.5, -1, -2])
    }

    @Test func mixupTakesItsShareFromEachCloud() {
        let n = 100
        let a: [Float] = (0 ..< n).flatMap { i in [Float(i), 0, 0] }, b: [Float] = (0 ..< n).flatMap { i in [0, Float(i) + 1, 5] }
        let (mixed, share) = PointCloudMixup.mix(a[...], b[...], lambda: 0.304, seed: 3)
        #expect(mixed.count == 3 * n)
        #expect(share == 0.3)
        let points = stride(from: 0, to: mixed.count, by: 3).map { SIMD3(mixed[$0], mixed[$0 + 1], mixed[$0 + 2]) }
        let fromA = points.filter { $0.y == 0 && $0.z == 0 }, fromB = points.filter { $0.z == 5 }
        #expect(fromA.count == 30 && fromB.count == 70)
        #expect(Set(fromA.map { $0.x }).count == 30, "distinct points of a")
        // Farthest point sampling on a line keeps both ends.
        #expect(fromA.contains { $0.x == 0 } && fromA.contains { $0.x == 99 })
    }
}
