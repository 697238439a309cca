import Diagnostics
import Foundation
import Networks
import Output
import PointClouds
import Testing
import TestSupport

/// `evaluate-ood`'s figures against hand-computed ranks, its rows and object, and the pipeline on
/// small sets.
@Suite struct OODEvaluationTests {
    /// Copies of one diagnosis but for msp_score (and margin, 1 − msp_score); no feature statistics,
    /// no verdict. (One diagnosis: two runs of the network need not agree to the last bit.)
    static func examined(_ msp: [[Double]]) -> [[OODEvaluation.Examined]] {
        var options = DiagnosisOptions()
        options.flipTrials = 2
        options.dropRounds = 2
        let base = DiagnosisTests.smallModel().diagnose(DiagnosisTests.clouds(1, points: 32, seed: 1), options: options)[0]
        return msp.map { $0.map { m in
            var d = base
            d.indicators.mspScore = m
            d.indicators.margin = 1 - m
            return (d, nil)
        } }
    }

    @Test func figuresFollowTheRanks() throws {
        let sets = Self.examined([[0.1, 0.2, 0.3, 0.6], [0.25, 0.5, 0.7]]), id = sets[0], ood = sets[1]
        let result = OODEvaluation(id: ("id-set", id), ood: ("ood-set", ood), wrong: [false, false, true, true])
        // Mahalanobis was not computed and there is no fragility score: both left out.
        #expect(result.figures.map(\.key) == Indicator.allCases.filter { $0 != .mahalanobis }.map(\.key))
        let msp = try #require(result.figures.first { $0.key == "msp_score" })
        // OOD above ID in 2 + 3 + 4 of the 12 pairs; positives at ranks 1, 3, 5; all three OOD clouds
        // flagged from 0.25 down, with 0.3 and 0.6 of the ID ones; the two wrong answers score highest.
        #expect(msp.auroc == 0.75 && msp.fpr95 == 0.5 && msp.errorAUROC == 1)
        #expect(abs(msp.aupr! - (1 + 2.0 / 3 + 3.0 / 5) / 3) < 1e-12)
        // margin is suspicious when low: the same ranking.
        #expect(result.figures.first { $0.key == "margin" }.map { $0.auroc == 0.75 && $0.errorAUROC == 1 } == true)
        // A constant score ranks nothing: every pair tied.
        #expect(result.figures.first { $0.key == "skewness" }?.auroc == 0.5)
        #expect(result.accuracy == 0.5)

        let rows = result.rows
        #expect(rows.allSatisfy { $0.fields.map(\.key) == ["indicator", "auroc", "aupr", "fpr95", "error_auroc"] })
        #expect(rows.first { $0["indicator"] == .string("msp_score") }?["aupr"] == .double(0.7556))
        let record = result.record(model: "m.safetensors")
        #expect(record.fields.map(\.key) == ["model", "positive", "id", "ood", "indicators"])
        #expect(record["positive"] == .string("out-of-distribution"))
        #expect(record["id"] == .object(Record(fields: [("data", .string("id-set")), ("clouds", .int(4)), ("accuracy", .double(0.5))])))
        guard case .object(let indicators) = record["indicators"] else { Issue.record("indicators is not an object"); return }
        #expect(indicators.fields.map(\.key) == result.figures.map(\.key))
        #expect(indicators["msp_score"] == .object(Record(fields: Array(rows.first { $0["indicator"] == .string("msp_score") }!.fields.dropFirst()))))
        #expect(result.table.first?.split(separator: " ") == ["INDICATOR", "AUROC", "AUPR", "FPR95", "ERROR_AUROC"])
        #expect(result.table.count == 1 + rows.count)

        // Without labels: no error AUROC; without an OOD set: only the error AUROC.
        let unlabelled = OODEvaluation(id: ("id-set", id), ood: ("ood-set", ood), wrong: nil)
        #expect(unlabelled.rows.allSatisfy { $0.fields.map(\.key) == ["indicator", "auroc", "aupr", "fpr95"] } && unlabelled.accuracy == nil)
        let errorsOnly = OODEvaluation(id: ("id-set", id), ood: nil, wrong: [false, false, true, true])
        #expect(errorsOnly.rows.allSatisfy { $0.fields.map(\.key) == ["indicator", "error_auroc"] })
        #expect(errorsOnly.record(model: "m")["positive"] == .string("wrong prediction") && errorsOnly.record(model: "m")["ood"] == nil)
    }

    @Test func pipelineReadsBothSetsAndWarnsWithoutCalibration() throws {
        let classes = ["chair", "lamp", "table"]
        let model = Model(metadata: ModelMetadata(architecture: .pointnet(classes: 3, embedding: 32), classes: classes,
                                                  preprocessing: .standard(points: 128)), seed: 5)
        let root = TestPaths.scratch()
        for (folder, sample) in [("id/chair", "chair_cad.pcd"), ("id/chair", "chair_scan.pcd"), ("id/lamp", "lamp_cad.ply"),
                                 ("ood/bunny", "bunny.pcd"), ("ood/chair", "chair_scan.pcd")] {
            let dir = root.appendingPathComponent(folder)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: TestPaths.sample(sample), toPath: dir.appendingPathComponent(sample).path)
        }
        let lines = LogLines()
        let result = try OODEvaluation.run(try Diagnostician(model: model), id: root.appendingPathComponent("id").path, labels: true,
                                           ood: root.appendingPathComponent("ood").path, excluding: ["chair"], limit: 2, seed: 3,
                                           console: Console(level: .normal) { lines.append($0) })
        #expect(result.id.clouds == 2 && result.ood?.clouds == 1, "--limit on the ID set, --exclude on the OOD one")
        #expect(!result.figures.contains { $0.key == "fragility" || $0.key == "mahalanobis" })
        #expect(lines.all.first == "pcdiag: warning: the model is not calibrated: no fragility score (pcdiag calibrate)")
    }
}

/// Lines a `Console` printed.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines = [String]()
    var all: [String] { lock.withLock { lines } }
    func append(_ line: String) { lock.withLock { lines.append(line) } }
}
