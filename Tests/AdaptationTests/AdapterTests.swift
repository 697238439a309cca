import Adaptation
import Foundation
import Networks
import PointClouds
import Support
import Testing

/// The adaptation loop on a small synthetic problem: spheres vs flat discs (source) and the same shapes
/// seen from one side with noise (target).
@Suite struct AdapterTests {
    static let n = 64

    static func shapes(count: Int, seed: UInt64, oneSided: Bool) -> PreparedSet {
        var rng = SeededGenerator(seed: seed)
        var points = [Float](), labels = [Int]()
        for i in 0 ..< count {
            let label = i % 2
            labels.append(label)
            for _ in 0 ..< n {
                var v = rng.gaussian3()
                if label == 1 { v.z *= 0.05 }
                v /= max((v * v).sum().squareRoot(), 1e-3)
                if oneSided { v.x = abs(v.x); v += 0.03 * rng.gaussian3() }
                points += [v.x, v.y, v.z]
            }
        }
        return PreparedSet(classes: ["sphere", "disc"], paths: (0 ..< count).map { "cloud\($0)" }, labels: labels, points: points, pointsPerCloud: n)
    }

    static func model(_ architecture: Architecture = .pointnet(classes: 2, embedding: 32, dropout: 0), seed: UInt64 = 3) -> Model {
        Model(metadata: ModelMetadata(architecture: architecture, classes: ["sphere", "disc"], preprocessing: .standard(points: n)), seed: seed)
    }

    static func options(_ gate: Gate.Kind = .skewness) -> AdaptationOptions {
        var o = AdaptationOptions()
        o.epochs = 2
        o.batchSize = 8
        o.learningRate = 1e-3
        o.gate = Gate(kind: gate, keepRatio: 0.5)
        // These models start untrained: their answers on the target are no reference to guard
        // (TargetGuardTests guards a trained one).
        o.targetGuard.enabled = false
        return o
    }

    static func adapter(_ model: Model, _ options: AdaptationOptions, targetLabels: Bool = false) -> Adapter {
        let target = shapes(count: 16, seed: 2, oneSided: true)
        return Adapter(model: model, options: options, source: shapes(count: 24, seed: 1, oneSided: false),
                       validation: shapes(count: 8, seed: 5, oneSided: false), target: target,
                       targetLabels: targetLabels ? target.labels : nil)
    }

    static func weights(_ model: Model) -> [Float] { model.network.stateTensors.flatMap(\.value.array) }

    /// Every value of a run: the network's and the heads' tensors with their optimiser moments.
    static func tensors(_ adapter: Adapter) -> [[Float]] { adapter.state.flatMap { [$0.value.array] + $0.state.map(\.array) } }

    /// The reports without their timings, which no two runs share.
    static func untimed(_ log: [AdaptationEpoch]) -> [AdaptationEpoch] {
        log.map { var e = $0; e.seconds = 0; e.measurerSeconds = 0; return e }
    }

    @Test func anEpochLogsWhatTheGateDid() {
        let model = Self.model()
        let before = Self.weights(model)
        let e = TrainingLoop(Self.adapter(model, Self.options(), targetLabels: true)).runEpoch()
        #expect(Self.weights(model) != before)
        #expect(e.epoch == 1 && e.isBest)
        #expect(e.gate?.keptFraction == 0.5)
        let kept = e.gate!.meanSkewnessKept!, dropped = e.gate!.meanSkewnessDropped!
        #expect(kept <= dropped, "the skewness gate keeps the lower half")
        #expect(e.measurerSeconds > 0)
        #expect(e.losses.reconstruction > 0 && e.losses.rotation > 0 && e.losses.classification > 0)
        #expect(e.agreement?.reference == "target-oracle")
        #expect(e.targetAccuracy != nil)
        #expect((-1 ... 1).contains(e.agreement!.lowSkewness) && (-1 ... 1).contains(e.agreement!.highSkewness))
    }

    @Test func targetLabelsOnlyReport() {
        let (m1, m2) = (Self.model(), Self.model())
        var o = Self.options()
        o.selfTraining = SelfTraining(fromEpoch: 2, startShare: 0.5, endShare: 0.5)
        let (a1, a2) = (TrainingLoop(Self.adapter(m1, o, targetLabels: true)), TrainingLoop(Self.adapter(m2, o)))
        for _ in 0 ..< 2 {
            _ = a1.runEpoch()
            _ = a2.runEpoch()
        }
        #expect(Self.weights(m1) == Self.weights(m2), "the same weights with and without target labels")
        #expect(a1.log.last?.pseudoLabels?.accuracy != nil && a2.log.last?.pseudoLabels?.accuracy == nil)
        #expect(a1.log.first?.pseudoLabels == nil, "no pseudo-labels before the epoch self-training starts")
        #expect(a2.log.last?.agreement?.reference == "source")
    }

    /// Stopped after one epoch of three and resumed: every report and every value as the run straight
    /// through. DGCNN with batch statistics (dropout active) and the running gate threshold (its
    /// window carried over) as well as the default PointNet recipe.
    @Test(arguments: [false, true])
    func resumingGivesTheUninterruptedRun(dgcnn: Bool) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("adapt-\(UUID().uuidString).ckpt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let architecture: Architecture = dgcnn ? .dgcnn(classes: 2, k: 8, embedding: 32, dropout: 0.5) : .pointnet(classes: 2, embedding: 32, dropout: 0)
        var o = Self.options()
        o.epochs = 3
        // The guard on, its reference measured with the source weights the checkpoint carries: the
        // resumed run starts from another model (seed 99) and must still judge every epoch the same.
        o.targetGuard.enabled = true
        if dgcnn {
            o.batchStatistics = true
            o.gate.threshold = .running
            o.gate.window = 20
        }
        let straightAdapter = Self.adapter(Self.model(architecture), o, targetLabels: true)
        let straight = TrainingLoop(straightAdapter)
        for _ in 0 ..< 3 { straight.runEpoch() }

        let first = TrainingLoop(Self.adapter(Self.model(architecture), o, targetLabels: true))
        first.runEpoch()
        try first.checkpoint(to: path)
        let resumedAdapter = Self.adapter(Self.model(architecture, seed: 99), o, targetLabels: true)
        let resumed = TrainingLoop(resumedAdapter)
        try resumed.resume(from: path)
        #expect(resumed.epoch == 1 && resumed.log.count == 1)
        resumed.runEpoch()
        resumed.runEpoch()
        #expect(Self.untimed(resumed.log) == Self.untimed(straight.log))
        #expect(resumed.log.allSatisfy { $0.targetGuard != nil })
        #expect(Self.tensors(resumedAdapter) == Self.tensors(straightAdapter))

        var other = o
        other.gate.kind = .random
        #expect(throws: ModelError.self) { try TrainingLoop(Self.adapter(Self.model(architecture), other)).resume(from: path) }
    }

    @Test(arguments: [Gate.Kind.none, .random])
    func unmeasuredGatesSkipTheMeasurer(gate: Gate.Kind) {
        let e = TrainingLoop(Self.adapter(Self.model(), Self.options(gate))).runEpoch()
        #expect(e.measurerSeconds == 0)
        #expect(e.gate?.meanSkewnessKept == nil)
        #expect(e.gate?.keptFraction == (gate == .none ? 1 : 0.5))
    }

    @Test func sourceOnlyHasNoSelfSupervision() {
        var o = Self.options(.none)
        o.reconstructionWeight = 0
        o.rotationWeight = 0
        let e = TrainingLoop(Self.adapter(Self.model(), o)).runEpoch()
        #expect(e.gate == nil && e.agreement == nil)
        #expect(e.losses.reconstruction == 0 && e.losses.rotation == 0)
    }

    @Test func selfTrainingShareGrowsLinearly() {
        let st = SelfTraining(fromEpoch: 3, startShare: 0.2, endShare: 0.6)
        #expect(st.share(epoch: 2, of: 7) == nil)
        #expect(st.share(epoch: 3, of: 7) == 0.2)
        #expect(abs(st.share(epoch: 5, of: 7)! - 0.4) < 1e-12)
        #expect(abs(st.share(epoch: 7, of: 7)! - 0.6) < 1e-12)
    }

    @Test func pseudoLabelsAreTheMostConfidentShareOfEachPredictedClass() {
        // Five clouds predicted as class 0 (logit margins 1…5), two as class 1.
        let predictions = [1.0, 5, 2, 4, 3].map { Prediction(logits: [Float($0), 0]) } + [2.0, 1].map { Prediction(logits: [0, Float($0)]) }
        let labels = SelfTraining.select(predictions, share: 0.4)
        // ⌈0.4 · 5⌉ = 2 of class 0 (margins 5 and 4), ⌈0.4 · 2⌉ = 1 of class 1 (margin 2): the smaller class is not crowded out.
        #expect(labels == [nil, 0, nil, 0, nil, 1, nil])
        #expect(SelfTraining.select(predictions, share: 1).allSatisfy { $0 != nil })
    }
}
