import Diagnostics
import Foundation
import Networks
import Output
import PointClouds
import Support
import Testing

/// `calibrate`'s check of its data before any work, and the summary it prints against the fitted
/// calibration.
@Suite struct CalibrateTests {
    /// `count` random clouds as a prepared set for `DiagnosisTests.smallModel()` (four classes).
    static func set(_ count: Int) -> PreparedSet {
        let clouds = DiagnosisTests.clouds(count, points: 32, seed: 2)
        return PreparedSet(classes: ["a", "b", "c", "d"], paths: (0 ..< count).map { "c\($0).pcd" }, labels: (0 ..< count).map { $0 % 4 },
                           points: clouds.flatMap { $0.positions.flatMap { [$0.x, $0.y, $0.z] } }, pointsPerCloud: 32)
    }

    @Test func tooFewCloudsFailBeforeAnyNetworkPass() {
        let model = DiagnosisTests.smallModel()
        #expect(CalibrationPlan.minimumClouds(classes: 4) == 5)
        var passes = 0
        #expect(throws: DiagnosticsError.calibration("a calibration needs at least 5 usable labelled clouds (more than the model's 4 classes); the set has 4")) {
            try model.calibrated(on: Self.set(4), data: "few", plan: CalibrationPlan(limit: 10)) { passes += $0 }
        }
        #expect(passes == 0, "no cloud went through the network")
        // Enough clouds get past the check (and through the feature pass) whatever the fit then says.
        _ = try? model.calibrated(on: Self.set(5), data: "enough", plan: CalibrationPlan(limit: 10)) { passes += $0 }
        #expect(passes >= 5)
    }

    @Test func summaryRowsAreTheCalibrationsTermsAndThresholds() throws {
        // top10_mass made informative the wrong way round, so that the score takes its shortfall: the
        // longest term name, "top10_mass_low".
        var (diagnoses, labels) = DiagnosisTests.synthetic(400, seed: 4)
        var rng = SeededGenerator(seed: 9)
        for i in diagnoses.indices {
            diagnoses[i].indicators.top10Mass = -diagnoses[i].indicators.mspScore + Double.random(in: -0.1 ... 0.1, using: &rng)
        }
        let c = try Calibration.fit(clean: Array(diagnoses[..<200]), cleanLabels: Array(labels[..<200]), shifted: Array(diagnoses[200...]),
                                    shiftedLabels: Array(labels[200...]), options: .init(), recall: 0.95, data: "synthetic")
        #expect(c.fragility.terms.contains("top10_mass_low"))

        let rows = c.termRecords
        #expect(rows.allSatisfy { $0.fields.map(\.key) == ["indicator", "side", "threshold", "weight"] })
        #expect(rows.map { $0["indicator"]!.text } == Indicator.allCases.filter { c.thresholds[$0.key] != nil }.map(\.key)
            + c.fragility.shortfalls!.map { $0.indicator.key + "_low" } + ["fragility"])
        for (term, weight) in zip(c.fragility.terms, c.fragility.model.weights) {
            #expect(rows.first { $0["indicator"]!.text == term }?["weight"] == .double(weight), "\(term)")
        }
        for indicator in Indicator.allCases {
            guard let threshold = c.thresholds[indicator.key] else { continue }
            let row = try #require(rows.first { $0["indicator"]!.text == indicator.key })
            #expect(row["threshold"] == .double(threshold) && row["side"] == .string(indicator.suspiciousWhenHigh ? ">" : "<"))
        }
        let median = c.fragility.shortfalls!.first { $0.indicator == .top10Mass }!.median
        #expect(rows.first { $0["indicator"]!.text == "top10_mass_low" }?["threshold"] == .double(median))
        #expect(rows.last == Record(fields: [("indicator", .string("fragility")), ("side", .string(">=")),
                                             ("threshold", .double(c.fragilityThreshold)), ("weight", .null)]))

        let summary = c.summaryRecord
        #expect(summary["fragility_threshold"] == .double(c.fragilityThreshold) && summary["errors"] == .int(c.record.errors))
        #expect(summary["l2"] == .double(PenaltySearch.fallback) && summary["held_out_auroc"] == .null, "no kinds of shift given: no search")
        // The table names every term whole, the side marks in one column.
        let termLines = c.summaryTable.suffix(rows.count - 1)
        #expect(termLines.contains { $0.hasPrefix("top10_mass_low ") })
        let sides = termLines.map { line in line.firstIndex { $0 == "<" || $0 == ">" }.map { line.distance(from: line.startIndex, to: $0) } }
        #expect(Set(sides).count == 1 && sides[0] != nil)
    }
}
