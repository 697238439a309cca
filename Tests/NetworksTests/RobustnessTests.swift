import Networks
import Output
import PointClouds
import Testing
import TestSupport

/// Corruption error as Ren et al. define it, against a hand computation; the rows and table made
/// from it; the pipeline against itself.
@Suite struct RobustnessTests {
    static let j1 = Corruption(.jitter, severity: 1), j2 = Corruption(.jitter, severity: 2), o1 = Corruption(.occlusion, severity: 1)
    static let model = Robustness(clean: 0.9, accuracy: [(j1, 0.8), (j2, 0.6), (o1, 0.5)])
    static let reference = Robustness(clean: 0.95, accuracy: [(j1, 0.9), (j2, 0.7), (o1, 0.75)])

    @Test func corruptionErrorIsTheRatioOfSummedErrors() {
        let errors = Self.model.corruptionErrors(against: Self.reference)
        #expect(errors.map(\.kind) == [.jitter, .occlusion])
        // jitter: (0.2 + 0.4) / (0.1 + 0.3) = 1.5; occlusion: 0.5 / 0.25 = 2.
        #expect(abs(errors[0].ce! - 1.5) < 1e-12 && abs(errors[1].ce! - 2) < 1e-12)
        #expect(abs(Self.model.meanCorruptionError(against: Self.reference)! - 1.75) < 1e-12)
        // A kind the reference never got wrong has no CE, and then no mCE.
        let perfect = Robustness(clean: 1, accuracy: [(Self.j1, 1), (Self.j2, 1), (Self.o1, 0.5)])
        #expect(Self.model.corruptionErrors(against: perfect)[0].ce == nil)
        #expect(Self.model.meanCorruptionError(against: perfect) == nil)
    }

    @Test func rowsRecordAndTableCarryTheFigures() throws {
        // Alone: the clean row, then one per corruption and severity.
        let alone = Self.model.rows(against: nil)
        #expect(alone.map { $0.fields.map(\.key) } == Array(repeating: ["kind", "severity", "accuracy"], count: 4))
        #expect(alone.map { $0["kind"]!.text + "-" + $0["severity"]!.text } == ["none-0", "jitter-1", "jitter-2", "occlusion-1"])
        #expect(alone.map { $0["accuracy"] } == [0.9, 0.8, 0.6, 0.5].map(Value.double))

        let rows = Self.model.rows(against: Self.reference)
        #expect(rows.allSatisfy { $0.fields.map(\.key) == ["kind", "severity", "accuracy", "reference_accuracy", "ce"] })
        #expect(rows.map { $0["reference_accuracy"] } == [0.95, 0.9, 0.7, 0.75].map(Value.double))
        #expect(rows[0]["ce"] == .null && rows[3]["ce"] == .double(2))
        #expect(abs(try #require(rows[1]["ce"].flatMap { if case .double(let d) = $0 { d } else { nil } }) - 1.5) < 1e-12)

        let record = Self.model.record(model: "m", data: "d", reference: ("ref", Self.reference))
        #expect(record.fields.map(\.key) == ["model", "data", "clean_accuracy", "accuracy", "reference", "reference_clean_accuracy", "ce", "mce"])
        #expect(record["accuracy"] == .object(Record(fields: [("jitter-1", .double(0.8)), ("jitter-2", .double(0.6)), ("occlusion-1", .double(0.5))])))
        #expect(Self.model.record(model: "m", data: "d", reference: nil).fields.map(\.key) == ["model", "data", "clean_accuracy", "accuracy"])

        // A severity not measured for a kind shows as "–"; the mean is over those measured.
        let table = Robustness(clean: 0.9, accuracy: [(Self.j1, 0.8), (Self.j2, 0.6), (Self.o1, 0.5)]).table(against: ("ref", Self.reference))
        #expect(table[0].split(separator: " ") == ["KIND", "S1", "S2", "MEAN", "CE"])
        #expect(table[2].split(separator: " ") == ["jitter", "80.00", "60.00", "70.00", "%", "1.500"])
        #expect(table[3].split(separator: " ") == ["occlusion", "50.00", "–", "50.00", "%", "2.000"])
        #expect(table.last == "mCE 1.750 (reference ref, clean accuracy 95.00 %)")
    }

    @Test func againstItselfEveryCorruptionErrorIsOne() throws {
        let root = try EvaluationTests.tree(EvaluationTests.samples)
        let corruptions = [Corruption(.jitter, severity: 5), Corruption(.dropoutLocal, severity: 5)]
        let (model, reference) = try Robustness.measure(EvaluationTests.model(), reference: EvaluationTests.model(), data: root.path,
                                                        corruptions: corruptions, seed: 2, limit: 3, console: .silent)
        // The same corrupted clouds for both: the same figures, so each defined CE is exactly 1.
        #expect(model == reference)
        #expect(model.accuracy.map(\.corruption) == corruptions)
        for (_, ce) in model.corruptionErrors(against: try #require(reference)) { #expect(ce == nil || ce == 1) }
        // On three clouds every accuracy is a multiple of a third.
        #expect(([model.clean] + model.accuracy.map(\.accuracy)).allSatisfy { abs(($0 * 3).rounded() - $0 * 3) < 1e-9 })
    }
}
