import Diagnostics
import Foundation
import Networks
import Testing

@Suite struct PenaltySearchTests {
    /// The synthetic calibration of scripts/penalty-search-reference.py, built from the same closed-form
    /// hash: 240 clean clouds, then a shifted copy of each, of kind a, b or c (i mod 3); each kind's
    /// errors show in msp_score and in an indicator of their own (energy, entropy, low kurtosis).
    static func synthetic() -> (diagnoses: [Diagnosis], labels: [Int], clean: [Bool], kinds: [String]) {
        func u(_ i: Int, _ j: Int) -> Double {
            let v = abs(sin(Double(i) * 12.9898 + Double(j) * 78.233)) * 43758.5453
            return v - v.rounded(.down)
        }
        let base = DiagnosisTests.synthetic(1, seed: 1).diagnoses[0]
        let clean = 240, errorRate = [0.3, 0.4, 0.5]
        var diagnoses = [Diagnosis](), labels = [Int](), isClean = [Bool](), kinds = [String]()
        for r in 0 ..< 2 * clean {
            let shifted = r >= clean, k = (shifted ? r - clean : r) % 3
            let wrong = u(r, 0) < (shifted ? errorRate[k] : 0.04)
            var d = base
            let msp = 0.5 * u(r, 1) + (wrong ? 0.4 : 0)
            d.indicators.mspScore = msp
            d.indicators.margin = 1 - msp - 0.2 * u(r, 2)
            d.indicators.energy = -4 + u(r, 3) + (wrong && k == 0 ? 0.5 : 0)
            d.indicators.entropy = 0.5 + u(r, 4) + (wrong && k == 1 ? 0.4 : 0)
            d.indicators.skewness = 2 * u(r, 5) - 1 + (shifted ? 0.8 : 0)
            d.indicators.kurtosis = 5 + 10 * u(r, 6) - (wrong && k == 2 ? 4 : 0)
            d.indicators.gini = 0.8 + 0.1 * u(r, 7)
            d.indicators.top10Mass = 0.6 + 0.2 * u(r, 8)
            d.indicators.mahalanobis = 20 + 10 * u(r, 9) + (shifted ? (k == 0 ? 15 : 3) : 0)
            d.indicators.flipRate = (4 * u(r, 10)).rounded(.down) / 8
            d.indicators.dropRounds = 1 + (10 * u(r, 11)).rounded(.down) - (wrong ? 3 : 0)
            diagnoses.append(d)
            labels.append(wrong ? (d.prediction.label + 1) % 4 : d.prediction.label)
            isClean.append(!shifted)
            kinds.append(["a", "b", "c"][k])
        }
        return (diagnoses, labels, isClean, kinds)
    }

    static func wrong(_ diagnoses: [Diagnosis], _ labels: [Int]) -> [Bool] {
        zip(diagnoses, labels).map { $0.prediction.label != $1 }
    }

    @Test func heldOutAUROCsMatchAnIndependentNumpyImplementation() throws {
        let (diagnoses, labels, clean, kinds) = Self.synthetic()
        let search = try #require(PenaltySearch.run(diagnoses.map(\.indicators), wrong: Self.wrong(diagnoses, labels), clean: clean,
                                                    groups: kinds, using: Indicator.allCases))
        // scripts/penalty-search-reference.py (numpy: its own Newton solver, AUROC and shortfall medians).
        let reference = [0.9758211955, 0.9757435457, 0.9758383075, 0.9768764907, 0.9772781390, 0.9769011902, 0.9761017681]
        #expect(search.penalties == PenaltySearch.grid && search.folds == ["a", "b", "c"])
        for (mine, theirs) in zip(search.heldOutAUROC, reference) {
            #expect(abs(try #require(mine) - theirs) < 1e-6)
        }
        #expect(search.chosen == 0.1)  // an interior best: neither end of the grid
    }

    @Test func calibrationFitsWithTheChosenPenaltyAndFallsBackWithoutKinds() throws {
        let (diagnoses, labels, clean, kinds) = Self.synthetic()
        let half = diagnoses.count / 2, wrong = Self.wrong(diagnoses, labels)
        func calibrate(_ shifts: [String]) throws -> Calibration {
            try Calibration.fit(clean: Array(diagnoses[..<half]), cleanLabels: Array(labels[..<half]), shifted: Array(diagnoses[half...]),
                                shiftedLabels: Array(labels[half...]), options: .init(), recall: 0.95, data: "synthetic", shifts: shifts)
        }
        let searched = try calibrate(kinds[half...].map { $0 + ":2" })
        #expect(searched.record.penaltySearch?.chosen == 0.1)
        #expect(searched.record.corruptions == ["a:2", "b:2", "c:2"])
        let direct = try FragilityModel.fit(diagnoses.map(\.indicators), wrong: wrong, clean: clean, using: Indicator.allCases, l2: 0.1)
        #expect(searched.fragility == direct)
        // One kind of shift cannot be held out against another: the fixed fallback penalty.
        let single = try calibrate(kinds[half...].map { _ in "a:2" })
        #expect(single.record.penaltySearch == nil)
        let fallback = try FragilityModel.fit(diagnoses.map(\.indicators), wrong: wrong, clean: clean, using: Indicator.allCases,
                                              l2: PenaltySearch.fallback)
        #expect(single.fragility == fallback && fallback != direct)
    }

    @Test func aKindWithTooFewErrorsIsNotAFold() throws {
        let (diagnoses, original, clean, kinds) = Self.synthetic()
        var labels = original
        // Kind c answered right everywhere but twice.
        var left = 2
        for i in diagnoses.indices where kinds[i] == "c" && diagnoses[i].prediction.label != labels[i] {
            if left > 0 { left -= 1 } else { labels[i] = diagnoses[i].prediction.label }
        }
        let search = try #require(PenaltySearch.run(diagnoses.map(\.indicators), wrong: Self.wrong(diagnoses, labels), clean: clean,
                                                    groups: kinds, using: Indicator.allCases))
        #expect(search.folds == ["a", "b"])
        // With one foldable kind left, no search.
        for i in diagnoses.indices where kinds[i] == "b" { labels[i] = diagnoses[i].prediction.label }
        #expect(PenaltySearch.run(diagnoses.map(\.indicators), wrong: Self.wrong(diagnoses, labels), clean: clean, groups: kinds,
                                  using: Indicator.allCases) == nil)
    }
}
