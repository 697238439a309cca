import Foundation
import Networks
import Testing
@testable import Adaptation

/// The target guard: its figures on hand-made predictions, its verdict on hand-made logs, and a run
/// made to go wrong on purpose.
@Suite struct TargetGuardTests {
    /// A prediction of `label` of `classes` with the given margin over the other logits.
    static func prediction(_ label: Int, of classes: Int = 3, margin: Float = 2) -> Prediction {
        Prediction(logits: (0 ..< classes).map { $0 == label ? margin : 0 })
    }

    /// A source model's answers: 30 target clouds, ten per class, the first five of each confident.
    static let source: [Prediction] = (0 ..< 30).map { prediction($0 % 3, margin: $0 < 15 ? 4 : 1) }
    static let reference = SelfTraining.select(source, share: 0.5)

    @Test func theSourceModelAgreesWithItselfAndIsBalanced() {
        let s = TargetStatistics(Self.source, reference: Self.reference)
        #expect(s.agreement == 1)
        #expect(abs(s.balance - 1) < 1e-12, "ten of each of three classes")
        #expect(abs(s.topShare - 1.0 / 3) < 1e-12)
        #expect(Self.reference.compactMap { $0 }.count == 15, "⌈0.5 · 10⌉ of each predicted class")
        #expect(Self.reference.prefix(15).allSatisfy { $0 != nil }, "the most confident ones")
    }

    @Test func aCollapsedDistributionFails() {
        // Everything predicted as class 0: a third of the confident clouds still agree, balance 0.
        let collapsed = (0 ..< 30).map { _ in Self.prediction(0) }
        let s = TargetStatistics(collapsed, reference: Self.reference)
        #expect(abs(s.agreement - 1.0 / 3) < 1e-12)
        #expect(s.balance == 0 && s.topShare == 1)
        let source = TargetStatistics(Self.source, reference: Self.reference)
        let failures = TargetGuard().failures(s, source: source)
        #expect(failures.count == 2, "\(failures)")
        #expect(failures.contains { $0.contains("collapsing") })
        // A partial collapse: 20 of 30 as class 0 (balance 0.79), the confident clouds all kept.
        let partial = (0 ..< 30).map { i in Self.prediction(i < 15 || i % 3 == 0 ? i % 3 : 0) }
        let p = TargetStatistics(partial, reference: Self.reference)
        #expect(p.agreement == 1 && abs(p.topShare - 20.0 / 30) < 1e-12)
        #expect(TargetGuard().failures(p, source: source).count == 1, "the balance alone catches it")
        #expect(TargetGuard(maximumBalanceDrop: 0.25).failures(p, source: source).isEmpty, "within a looser threshold")
    }

    @Test func aHealthyChangePasses() {
        // The uncertain half changes its mind on a few clouds; the confident half keeps its answers.
        let healthy = (0 ..< 30).map { i in Self.prediction(i >= 15 && i % 5 == 0 ? (i + 1) % 3 : i % 3) }
        let s = TargetStatistics(healthy, reference: Self.reference)
        #expect(s.agreement == 1)
        #expect(s.balance > 0.98)
        #expect(TargetGuard().failures(s, source: TargetStatistics(Self.source, reference: Self.reference)).isEmpty)
        // Losing a third of the confident answers fails on agreement alone, whatever the balance.
        let rewritten = (0 ..< 30).map { i in Self.prediction(i < 15 && i % 3 == 0 ? 1 : i < 15 && i % 3 == 1 ? 2 : i < 15 ? 0 : i % 3) }
        let r = TargetStatistics(rewritten, reference: Self.reference)
        #expect(r.agreement == 0 && abs(r.balance - 1) < 1e-12)
        #expect(TargetGuard().failures(r, source: TargetStatistics(Self.source, reference: Self.reference)).count == 1)
    }

    static func epoch(_ n: Int, validation: Double, fails: Bool, guardOn: Bool = true, best: Bool) -> AdaptationEpoch {
        let s = TargetStatistics(agreement: fails ? 0.5 : 0.95, balance: 0.9, topShare: 0.4, meanConfidence: 0.8)
        return AdaptationEpoch(epoch: n, learningRate: 1e-4, seconds: 0, measurerSeconds: 0, losses: .init(), sourceTrainAccuracy: 0.9,
                               sourceValidationAccuracy: validation, isBest: best,
                               targetGuard: GuardCheck(statistics: s, failures: fails ? ["agrees too little"] : [], vetoed: fails && guardOn))
    }

    @Test func theSummarySaysWhatWasRolledBack() {
        let source = TargetStatistics(agreement: 1, balance: 0.9, topShare: 0.4, meanConfidence: 0.7)
        // Epoch 2 is best on source validation but fails: epoch 1 is kept.
        let log = [Self.epoch(1, validation: 0.90, fails: false, best: true), Self.epoch(2, validation: 0.95, fails: true, best: false)]
        #expect(log.map(\.isEligible) == [true, false])
        let s = GuardSummary(guard: TargetGuard(), source: source, sourceValidationAccuracy: 0.93, sourceTargetAccuracy: nil, log: log)
        #expect(s.unguardedEpoch == 2 && s.selectedEpoch == 1 && s.rolledBack && s.failed == [2])
        #expect(s.reason?.contains("epoch 2") == true && s.reason?.contains("wrote epoch 1") == true)
        // Every epoch fails: the source model.
        let none = [Self.epoch(1, validation: 0.9, fails: true, best: false)]
        let n = GuardSummary(guard: TargetGuard(), source: source, sourceValidationAccuracy: 0.93, sourceTargetAccuracy: nil, log: none)
        #expect(n.selectedEpoch == 0 && n.rolledBack && n.reason?.contains("source model") == true)
        // Guard off: the same failure is reported, nothing is rolled back.
        let off = [Self.epoch(1, validation: 0.9, fails: true, guardOn: false, best: true)]
        #expect(off[0].isEligible)
        let o = GuardSummary(guard: TargetGuard(enabled: false), source: source, sourceValidationAccuracy: 0.93, sourceTargetAccuracy: nil, log: off)
        #expect(o.selectedEpoch == 1 && !o.rolledBack && o.failed == [1] && o.reason == nil)
    }

    /// A source model trained on the synthetic shapes, then adapted with a learning rate a thousand
    /// times the default: the run must end with a model no worse on the target than the source,
    /// rolled back and reported. Target labels are given to the adapter for reporting and read here
    /// to check; the guard never sees them (`targetLabelsOnlyReport` shows they change nothing).
    @Test func aRunMadeToGoWrongIsRolledBack() throws {
        let model = AdapterTests.model()
        var pretraining = AdapterTests.options(.none)
        (pretraining.epochs, pretraining.learningRate, pretraining.reconstructionWeight, pretraining.rotationWeight, pretraining.mixup) = (10, 1e-2, 0, 0, false)
        pretraining.targetGuard.enabled = false
        let pretrain = TrainingLoop(AdapterTests.adapter(model, pretraining))
        for _ in 0 ..< 10 { pretrain.runEpoch() }

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("guard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var destructive = AdapterTests.options(.none)
        destructive.epochs = 3
        destructive.learningRate = 1
        destructive.targetGuard.enabled = true
        let adapter = AdapterTests.adapter(model, destructive, targetLabels: true)
        let files = RunFiles(model: dir.appendingPathComponent("m.safetensors").path, resume: false)
        let outcome = try adapter.run(files, sourceModel: "src", sourceData: "s", targetData: "t", command: nil, observer: SilentObserver())

        let g = outcome.targetGuard
        let sourceAccuracy = try #require(g.sourceTargetAccuracy)
        #expect(!g.failed.isEmpty, "the destructive recipe fails the guard: \(outcome.log.map { $0.summary(of: 3) })")
        #expect(g.rolledBack && g.reason != nil)
        let written = try Model.load(files.model)
        let truth = adapter.target.labels
        let accuracy = Double(zip(written.predict(adapter.target).map(\.label), truth).filter { $0 == $1 }.count) / Double(truth.count)
        #expect(accuracy >= sourceAccuracy, "written \(accuracy), source \(sourceAccuracy)")
        let record = try #require(try AdaptationRecord(written.attachments, path: files.model))
        #expect(record.epoch == g.selectedEpoch && record.targetGuard == g, "the record says what was written and why")
        if g.selectedEpoch == 0 {
            #expect(AdapterTests.weights(written) == adapter.sourceState.flatMap(\.value.array), "the unadapted source weights")
        }
        let unguarded = outcome.log.first { $0.epoch == g.unguardedEpoch }
        #expect(unguarded.map { $0.targetAccuracy! < sourceAccuracy } ?? false,
                "the epoch source validation would have chosen was worse on the target: \(String(describing: unguarded?.targetAccuracy)) vs \(sourceAccuracy)")
    }
}
