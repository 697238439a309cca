import Diagnostics
import Engine
import Foundation
import Networks
import PointClouds
import Statistics
import Support
import Testing
import TestSupport

/// Feature statistics against a plain Mahalanobis computation, the stability indicators against a
/// one-cloud-at-a-time re-computation, calibration and the shift test against their definitions.
@Suite struct DiagnosisTests {
    /// Gaussian samples of `classes` classes in `d` dimensions with a shared, correlated covariance.
    static func features(count: Int, d: Int, classes: Int, seed: UInt64) -> (features: [[Float]], labels: [Int]) {
        var rng = SeededGenerator(seed: seed)
        func normal() -> Double {
            let u = Double.random(in: 1e-12 ..< 1, using: &rng), v = Double.random(in: 0 ..< 1, using: &rng)
            return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
        let mix = (0 ..< d).map { i in (0 ..< d).map { j in i == j ? 1.0 + Double(i) : (i > j ? 0.4 : 0) } }
        var features = [[Float]](), labels = [Int]()
        for n in 0 ..< count {
            let y = n % classes
            let z = (0 ..< d).map { _ in normal() }
            features.append((0 ..< d).map { i in Float(Double(3 * y) + (0 ..< d).reduce(0.0) { $0 + mix[i][$1] * z[$1] }) })
            labels.append(y)
        }
        return (features, labels)
    }

    /// Solves A x = b by Gaussian elimination with partial pivoting (the test's own linear algebra).
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double] {
        var m = a, x = b
        let n = b.count
        for col in 0 ..< n {
            let pivot = (col ..< n).max { abs(m[$0][col]) < abs(m[$1][col]) }!
            m.swapAt(col, pivot)
            x.swapAt(col, pivot)
            for row in col + 1 ..< n {
                let f = m[row][col] / m[col][col]
                for k in col ..< n { m[row][k] -= f * m[col][k] }
                x[row] -= f * x[col]
            }
        }
        for row in (0 ..< n).reversed() {
            x[row] = (x[row] - (row + 1 ..< n).reduce(0.0) { $0 + m[row][$1] * x[$1] }) / m[row][row]
        }
        return x
    }

    @Test func fullRankFeatureStatisticsAreTheMahalanobisDistance() throws {
        let (d, classes) = (6, 3)
        let (features, labels) = Self.features(count: 600, d: d, classes: classes, seed: 3)
        // rank d − 1: the one pooled direction is a single eigen-direction, so nothing is approximated.
        let statistics = try FeatureStatistics.fit(features: features, labels: labels, classes: classes, rank: d - 1)
        let means = (0 ..< classes).map { c in
            let members = zip(features, labels).filter { $0.1 == c }.map(\.0)
            return (0 ..< d).map { j in members.reduce(0.0) { $0 + Double($1[j]) } / Double(members.count) }
        }
        var covariance = [[Double]](repeating: [Double](repeating: 0, count: d), count: d)
        for (f, y) in zip(features, labels) {
            for i in 0 ..< d { for j in 0 ..< d { covariance[i][j] += (Double(f[i]) - means[y][i]) * (Double(f[j]) - means[y][j]) } }
        }
        covariance = covariance.map { $0.map { $0 / Double(features.count - classes) } }
        var rng = SeededGenerator(seed: 9)
        for _ in 0 ..< 20 {
            let probe = (0 ..< d).map { _ in Float.random(in: -4 ... 10, using: &rng) }
            let expected = means.map { mean in
                let e = (0 ..< d).map { Double(probe[$0]) - mean[$0] }
                return zip(e, Self.solve(covariance, e)).reduce(0.0) { $0 + $1.0 * $1.1 }
            }.min()!.squareRoot()
            let got = statistics.distance(probe)
            #expect(abs(got - expected) <= 1e-3 * expected, "\(got) vs \(expected)")
        }
    }

    @Test func reducedRankPoolsTheRestAndSurvivesTheModelFile() throws {
        let (features, labels) = Self.features(count: 400, d: 8, classes: 2, seed: 4)
        let statistics = try FeatureStatistics.fit(features: features, labels: labels, classes: 2, rank: 3)
        #expect(statistics.basis.count == 3 && statistics.variances.count == 4)
        // The leading eigenvalues come first, largest first, and the pooled one is their remainder's mean.
        #expect(zip(statistics.variances.prefix(3), statistics.variances.dropFirst().prefix(2)).allSatisfy { $0 >= $1 })
        // Basis rows are orthonormal.
        for a in 0 ..< 3 {
            for b in 0 ..< 3 {
                let dot = zip(statistics.basis[a], statistics.basis[b]).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                #expect(abs(dot - (a == b ? 1 : 0)) < 1e-4)
            }
        }
        var model = Model(metadata: ModelMetadata(architecture: .pointnet(classes: 2, embedding: 8), classes: ["a", "b"]), seed: 1)
        statistics.store(in: &model.attachments)
        let path = TestPaths.scratch().appendingPathComponent("m.safetensors").path
        try model.save(to: path)
        let loaded = try #require(try FeatureStatistics(try Model.load(path).attachments))
        #expect(abs(loaded.distance(features[0]) - statistics.distance(features[0])) < 1e-4 * statistics.distance(features[0]))
    }

    @Test func tooFewCloudsIsAnError() {
        #expect(throws: DiagnosticsError.self) {
            try FeatureStatistics.fit(features: [[1, 2], [3, 4]], labels: [0, 1], classes: 2)
        }
    }

    /// A small random PointNet and clouds of `n` random points.
    static func smallModel() -> Model {
        Model(metadata: ModelMetadata(architecture: .pointnet(classes: 4, embedding: 32), classes: ["a", "b", "c", "d"]), seed: 7)
    }

    static func clouds(_ count: Int, points n: Int, seed: UInt64) -> [PointCloud] {
        var rng = SeededGenerator(seed: seed)
        return (0 ..< count).map { _ in PointCloud(positions: (0 ..< n).map { _ in SIMD3(Float.random(in: -1 ... 1, using: &rng), Float.random(in: -1 ... 1, using: &rng), Float.random(in: -1 ... 1, using: &rng)) }) }
    }

    @Test func stabilityDoesNotDependOnTheBatch() {
        let model = Self.smallModel()
        let clouds = Self.clouds(6, points: 64, seed: 11)
        var options = DiagnosisOptions()
        options.flipTrials = 5
        options.dropRounds = 6
        options.dropStep = 0.1
        options.batchSize = 6
        let together = model.diagnose(clouds, options: options)
        options.batchSize = 1
        let alone = model.diagnose(clouds, options: options)
        for (a, b) in zip(together, alone) {
            #expect(a.indicators.flipRate == b.indicators.flipRate)
            #expect(a.indicators.dropRounds == b.indicators.dropRounds)
            #expect(a.prediction.label == b.prediction.label)
            let rate = a.indicators.flipRate!
            #expect(rate >= 0 && rate <= 1 && (rate * 5).rounded() == rate * 5)
            #expect((1 ... 7).contains(a.indicators.dropRounds!))
        }
    }

    /// Drop rounds re-done by hand for one cloud: drop the step most salient points, re-explain, repeat.
    @Test func dropRoundsFollowTheirDefinition() {
        let model = Self.smallModel()
        var options = DiagnosisOptions()
        options.flipTrials = 0
        options.dropRounds = 8
        options.dropStep = 0.1
        for cloud in Self.clouds(5, points: 50, seed: 21) {
            let got = model.diagnose([cloud], options: options)[0].indicators.dropRounds!
            var points = cloud.positions
            let original = model.saliency([cloud])[0]
            var map = original.values
            var expected = Double(options.dropRounds + 1)
            for round in 1 ... options.dropRounds {
                let order = map.indices.sorted { map[$0] > map[$1] }
                let dropped = Set(order.prefix(5))
                points = points.indices.filter { !dropped.contains($0) }.map { points[$0] }
                let next = model.saliency([PointCloud(positions: points)], labels: [original.label])[0]
                if next.prediction.label != original.label { expected = Double(round); break }
                map = next.values
            }
            #expect(got == expected)
        }
    }

    @Test func skippedStabilityIsNil() {
        var options = DiagnosisOptions()
        options.flipTrials = 0
        options.dropRounds = 0
        let d = Self.smallModel().diagnose(Self.clouds(2, points: 32, seed: 1), options: options)
        #expect(d.allSatisfy { $0.indicators.flipRate == nil && $0.indicators.dropRounds == nil && $0.indicators.mahalanobis == nil })
    }

    /// Indicators whose suspicion is a known number: the fragility model should learn it.
    static func synthetic(_ count: Int, seed: UInt64) -> (diagnoses: [Diagnosis], labels: [Int]) {
        let model = smallModel()
        var options = DiagnosisOptions()
        options.flipTrials = 2
        options.dropRounds = 2
        let base = model.diagnose(clouds(1, points: 32, seed: seed), options: options)[0]
        var rng = SeededGenerator(seed: seed)
        var diagnoses = [Diagnosis](), labels = [Int]()
        for _ in 0 ..< count {
            var d = base
            let wrong = Double.random(in: 0 ..< 1, using: &rng) < 0.3
            d.indicators.mspScore = Double.random(in: 0 ..< 0.5, using: &rng) + (wrong ? 0.35 : 0)
            d.indicators.margin = 1 - d.indicators.mspScore
            d.indicators.skewness = Double.random(in: -1 ... 1, using: &rng)
            diagnoses.append(d)
            labels.append(wrong ? (d.prediction.label + 1) % 4 : d.prediction.label)
        }
        return (diagnoses, labels)
    }

    @Test func calibrationFlagsTheRecallItWasAskedForAndNamesReasons() throws {
        let (clean, cleanLabels) = Self.synthetic(200, seed: 1)
        let (shifted, shiftedLabels) = Self.synthetic(200, seed: 2)
        let calibration = try Calibration.fit(clean: clean, cleanLabels: cleanLabels, shifted: shifted, shiftedLabels: shiftedLabels,
                                              options: .init(), recall: 0.9, data: "synthetic")
        let all = clean + shifted, labels = cleanLabels + shiftedLabels
        let wrong = zip(all, labels).map { $0.prediction.label != $1 }
        let flagged = all.map { calibration.assess($0.indicators).fragile! }
        let caught = zip(flagged, wrong).filter { $0 && $1 }.count
        #expect(Double(caught) / Double(wrong.filter { $0 }.count) >= 0.9)
        #expect(abs(calibration.record.errorRecall - Double(caught) / Double(wrong.filter { $0 }.count)) < 1e-12)
        // msp_score's threshold is the 95th percentile of its clean values (R type 7, by hand).
        let sorted = clean.map(\.indicators.mspScore).sorted()
        let h = 0.95 * Double(sorted.count - 1)
        let p95 = sorted[Int(h)] + (h - h.rounded(.down)) * (sorted[min(Int(h) + 1, sorted.count - 1)] - sorted[Int(h)])
        #expect(abs(calibration.thresholds["msp_score"]! - p95) < 1e-12)
        // The score tracks msp_score, the only informative indicator here.
        let scores = all.map { calibration.assess($0.indicators).fragility! }
        #expect(RankMetrics.auroc(scores: scores, positives: wrong)! > 0.9)
        // A reason is given exactly for the indicators beyond their threshold.
        var probe = clean[0].indicators
        probe.mspScore = 0.99
        probe.margin = 0.01
        let reasons = calibration.assess(probe).reasons
        #expect(reasons.contains { $0.indicator == .mspScore } && reasons.contains { $0.indicator == .margin })
        #expect(reasons.allSatisfy { r in
            let v = r.indicator.value(in: probe)!, t = calibration.thresholds[r.indicator.key]!
            return r.value == v && r.threshold == t && r.below == !r.indicator.suspiciousWhenHigh && (r.below ? v < t : v > t)
        })
    }

    @Test func fragilityNeverCountsAnIndicatorAgainstSuspicion() throws {
        // Skewness made informative the wrong way round (low when wrong): unconstrained, its weight
        // would be negative; the score keeps it at zero and learns its shortfall below the clean
        // median instead.
        var (diagnoses, labels) = Self.synthetic(400, seed: 4)
        var rng = SeededGenerator(seed: 9)
        for i in diagnoses.indices {
            diagnoses[i].indicators.skewness = -diagnoses[i].indicators.mspScore + Double.random(in: -0.1 ... 0.1, using: &rng)
        }
        let clean = Array(diagnoses[..<200]), shifted = Array(diagnoses[200...])
        let calibration = try Calibration.fit(clean: clean, cleanLabels: Array(labels[..<200]), shifted: shifted,
                                              shiftedLabels: Array(labels[200...]), options: .init(), recall: 0.95, data: "synthetic")
        let fragility = calibration.fragility, weights = fragility.model.weights
        #expect(weights.allSatisfy { $0 >= 0 })
        #expect(weights[fragility.indicators.firstIndex(of: .skewness)!] == 0)
        #expect(weights[fragility.indicators.firstIndex(of: .mspScore)!] > 0)
        // The shortfall: skewness only (every other indicator points the declared way), anchored at
        // the clean median (R type 7 of an even count: the mean of the middle two).
        let sorted = clean.map(\.indicators.skewness).sorted()
        let middle: Double = (sorted[99] + sorted[100]) / 2
        #expect(fragility.shortfalls?.map(\.indicator) == [.skewness] && fragility.shortfalls?[0].median == middle)
        #expect(fragility.terms.last == "skewness_low" && weights.count == fragility.terms.count)
        let probe = clean[0].indicators, median = fragility.shortfalls![0].median
        var lower = probe
        lower.skewness = median - 0.5
        #expect(abs(fragility.features(lower)!.last! - 0.5) <= 1e-12)
        let shortfall: Double = max(median - probe.skewness, 0)
        #expect(fragility.features(probe)!.last! == shortfall)
        // Far below the clean 5 % tail (the type-7 quantile of the clean values, kept whole), a reason.
        lower.skewness = sorted[0] - 1
        let p5 = sorted[9] + 0.95 * (sorted[10] - sorted[9])
        let reason = calibration.assess(lower).reasons.first { $0.indicator == .skewness }
        #expect(reason?.below == true && abs(reason!.threshold - p5) <= 1e-12 && reason!.description.contains(" < "))
        #expect(calibration.assess(probe).reasons.allSatisfy { $0.indicator != .skewness || $0.value > calibration.thresholds["skewness"]! || $0.value < p5 })
        let free = try LogisticModel.fit(features: diagnoses.map { Array(fragility.features($0.indicators)!.dropLast()) },
                                         labels: zip(diagnoses, labels).map { $0.prediction.label != $1 })
        #expect(free.weights[fragility.indicators.firstIndex(of: .skewness)!] < 0)
        // Older files have no shortfalls and still score.
        var older = fragility
        older.shortfalls = nil
        older.model = try LogisticModel.fit(features: diagnoses.map { Array(fragility.features($0.indicators)!.dropLast()) },
                                            labels: zip(diagnoses, labels).map { $0.prediction.label != $1 }, nonNegativeWeights: true)
        let decoded = try JSONDecoder().decode(FragilityModel.self, from: JSONEncoder().encode(older))
        #expect(decoded.shortfalls == nil && decoded.score(probe) == older.score(probe))
    }

    @Test func shiftTestNeedsAnEffectAndEnoughObjects() throws {
        var rng = SeededGenerator(seed: 5)
        let reference = (0 ..< 4000).map { _ in Double.random(in: 0 ..< 1, using: &rng) }
        let (clean, cleanLabels) = Self.synthetic(100, seed: 3)
        var calibration = try Calibration.fit(clean: clean, cleanLabels: cleanLabels, shifted: [], shiftedLabels: [], options: .init(),
                                              recall: 0.95, data: "synthetic")
        calibration.references = ["skewness": ReferenceDistribution(sample: reference)]
        let same = (0 ..< 300).map { _ in Double.random(in: 0 ..< 1, using: &rng) }
        let moved = (0 ..< 300).map { _ in Double.random(in: 0.3 ..< 1.3, using: &rng) }
        #expect(ShiftTest([.indicator(.skewness): same], calibration: calibration).shifted == false)
        let test = ShiftTest([.indicator(.skewness): moved], calibration: calibration)
        #expect(test.shifted == true)
        #expect(test.results.first { $0.key == "skewness" }!.delta > 0.33)
        #expect(test.verdict.contains("skewness higher"))
        #expect(ShiftTest([.indicator(.skewness): Array(moved.prefix(10))], calibration: calibration).shifted == nil)
    }
}
