import Engine
import Foundation
import Networks
import Support

/// Multi-task unsupervised domain adaptation of a trained model (DESIGN §3), the step
/// `TrainingLoop` runs for `adapt`: each step sums the gradients of separate passes — source
/// classification (PCM-mixed), DefRec reconstruction and rotation prediction on target clouds (each
/// sample admitted by the gate), pseudo-labelled target clouds when self-training — and takes one
/// Adam step. BatchNorm keeps the source model's statistics unless `batchStatistics` is set (then
/// passes are separate so it sees one domain at a time, as in the reference implementations).
/// Target labels, when given, are only reported.
public final class Adapter: TrainingStep {
    public let model: Model
    public let options: AdaptationOptions
    public let source: PreparedSet
    public let validation: PreparedSet
    /// The validation clouds as simulated single views, when the recipe simulates views: the model is
    /// then chosen on the mean of both accuracies.
    public let validationViews: PreparedSet?
    /// Target clouds; their `labels` are placeholders unless `targetLabels` is set.
    public let target: PreparedSet
    public let targetLabels: [Int]?
    let reconstruction: ReconstructionHead<Float>?
    let rotation: MLPHead<Float>?
    let gradientSums: [Tensor<Float>]
    /// The source model's weights and statistics, for the guard: its answers on the target are the
    /// reference, and it is what a run writes when no epoch passes. In the checkpoint, so a resumed
    /// run has them whatever model it was built from.
    let sourceState: [Parameter<Float>]
    /// The guard's reference, measured with `sourceState` on first use.
    var reference: GuardReference?
    let input = Tensor<Float>(shape: [0]), lossGradient = Tensor<Float>(shape: [0])
    let outputGradient = Tensor<Float>(shape: [0])

    public init(model: Model, options: AdaptationOptions, source: PreparedSet, validation: PreparedSet, target: PreparedSet,
                targetLabels: [Int]? = nil) {
        precondition(targetLabels == nil || targetLabels!.count == target.count, "one target label per target cloud")
        self.model = model
        self.options = options
        self.source = source
        self.validation = validation
        validationViews = options.sensorSimulation?.views(of: validation, preprocessing: model.metadata.preprocessing, seed: options.seed)
        self.target = target
        self.targetLabels = targetLabels
        let arch = model.metadata.architecture
        let (c, g) = (arch.pointFeatureChannels, arch.globalFeatureChannels)
        reconstruction = options.reconstructionWeight > 0
            ? ReconstructionHead(pointChannels: c, globalChannels: g, seed: options.seed) : nil
        rotation = options.rotationWeight > 0 ? MLPHead("ssl.rotation", widths: [g, 256, 4], seed: options.seed) : nil
        let headParameters = (reconstruction?.parameters ?? []) + (rotation?.parameters ?? [])
        gradientSums = (model.network.parameters + headParameters).map { Tensor(shape: $0.value.shape) }
        sourceState = model.network.stateTensors.map { Parameter(name: "guard.source." + $0.name, shape: $0.value.shape, values: $0.value.array) }
    }

    public var recipe: AdaptationOptions { options }
    public var cloudsPerEpoch: Int { source.count / options.batchSize * options.batchSize }
    /// Everything the optimiser updates: the network and the heads.
    var trainable: [Parameter<Float>] { model.network.parameters + (reconstruction?.parameters ?? []) + (rotation?.parameters ?? []) }
    /// Everything a checkpoint holds.
    public var state: [Parameter<Float>] {
        model.network.stateTensors + (reconstruction.map { $0.parameters + $0.buffers } ?? []) + (rotation.map { $0.parameters + $0.buffers } ?? [])
            + sourceState
    }
    /// At equal source accuracy a later epoch is further adapted.
    public static var tiesGoToLaterEpochs: Bool { true }
    public static var scoreName: String { "source validation accuracy" }
    var selfSupervised: Bool { reconstruction != nil || rotation != nil }

    /// What an epoch's steps add up.
    struct Tally {
        var losses = AdaptationEpoch.Losses()
        var steps = 0, correct = 0, seen = 0, kept = 0, gated = 0
        var skewKept = 0.0, skewDropped = 0.0, nKept = 0, nDropped = 0
        var measurerSeconds = 0.0
    }

    /// One step: every pass over a source batch and a target batch, then one optimiser step on the sum.
    func step(source sourceIndices: ArraySlice<Int>, target targetIndices: ArraySlice<Int>, pseudo: [Int?]?, _ run: inout RunState,
              into tally: inout Tally) {
        let (loss, correct) = classificationPass(sourceIndices, using: &run.generator)
        tally.losses.classification += loss
        tally.correct += correct
        tally.seen += sourceIndices.count
        if selfSupervised {
            selfSupervisedPasses(target, targetIndices, &run, into: &tally)
            if options.selfSupervisedOnSource { selfSupervisedPasses(source, sourceIndices, &run, into: &tally) }
        }
        if let pseudo, let weight = options.selfTraining?.weight {
            tally.losses.pseudo += pseudoLabelPass(targetIndices, labels: targetIndices.map { pseudo[$0] }, weight: weight, using: &run.generator)
        }
        tally.steps += 1
        applySums()
        run.optimizer.step(trainable)
    }

    public func runEpoch(_ index: Int, _ run: inout RunState, progress: (Int) -> Void) -> AdaptationEpoch {
        let start = Date()
        let b = options.batchSize
        var pseudo: [Int?]? = nil
        var pseudoReport: AdaptationEpoch.PseudoLabels? = nil
        if let st = options.selfTraining, let share = st.share(epoch: index + 1, of: options.epochs) {
            let labels = SelfTraining.select(model.predict(target), share: share)
            pseudo = labels
            let chosen = labels.indices.filter { labels[$0] != nil }
            pseudoReport = .init(share: share, fraction: Double(chosen.count) / Double(max(target.count, 1)),
                                 accuracy: targetLabels.flatMap { truth in
                                     chosen.isEmpty ? nil : Double(chosen.filter { labels[$0] == truth[$0] }.count) / Double(chosen.count)
                                 })
        }
        let order = Array(0 ..< source.count).shuffled(using: &run.generator)
        var targetOrder = [Int]()
        var tally = Tally()
        for s in 0 ..< source.count / b {
            if targetOrder.count < b { targetOrder += Array(0 ..< target.count).shuffled(using: &run.generator) }
            let targetBatch = targetOrder.prefix(b)
            targetOrder.removeFirst(min(b, targetOrder.count))
            step(source: order[s * b ..< (s + 1) * b], target: targetBatch, pseudo: pseudo, &run, into: &tally)
            progress((s + 1) * b)
        }
        let validationAccuracy = model.evaluate(validation).overallAccuracy
        let viewAccuracy = validationViews.map { model.evaluate($0).overallAccuracy }
        let reference = guardReference()
        let predictions = model.predict(target)
        let targetAccuracy = targetLabels.map { accuracy(of: predictions, against: $0) }
        let statistics = TargetStatistics(predictions, reference: reference.confident)
        let failures = options.targetGuard.failures(statistics, source: reference.statistics)
        let check = GuardCheck(statistics: statistics, failures: failures, vetoed: options.targetGuard.enabled && !failures.isEmpty)
        let agreement = selfSupervised ? probeAgreement() : nil
        let steps = Double(max(tally.steps, 1))
        var losses = tally.losses
        losses.classification /= steps
        losses.reconstruction /= steps
        losses.rotation /= steps
        losses.pseudo /= steps
        let gate = selfSupervised
            ? AdaptationEpoch.GateStatistics(keptFraction: Double(tally.kept) / Double(max(tally.gated, 1)),
                                             meanSkewnessKept: tally.nKept > 0 ? tally.skewKept / Double(tally.nKept) : nil,
                                             meanSkewnessDropped: tally.nDropped > 0 ? tally.skewDropped / Double(tally.nDropped) : nil)
            : nil
        return AdaptationEpoch(epoch: index + 1, learningRate: run.optimizer.learningRate, seconds: Date().timeIntervalSince(start),
                               measurerSeconds: tally.measurerSeconds, losses: losses,
                               sourceTrainAccuracy: Double(tally.correct) / Double(max(tally.seen, 1)),
                               sourceValidationAccuracy: validationAccuracy, sourceViewValidationAccuracy: viewAccuracy, isBest: false,
                               gate: gate, agreement: agreement, pseudoLabels: pseudoReport, targetAccuracy: targetAccuracy,
                               targetGuard: check)
    }

    func accuracy(of predictions: [Prediction], against truth: [Int]) -> Double {
        Evaluation(classes: target.classes, truth: truth, predicted: predictions.map(\.label)).overallAccuracy
    }

    /// Runs `body` with the source model's weights and statistics in the network, then puts the
    /// current ones back.
    func withSourceWeights<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        let tensors = model.network.stateTensors
        let current = tensors.map(\.value.array)
        for (p, s) in zip(tensors, sourceState) { p.value.copy(from: s.value) }
        defer { for (p, values) in zip(tensors, current) { for i in values.indices { p.value[i] = values[i] } } }
        return try body()
    }

    /// The source model's answers on the target, measured once (deterministically, from `sourceState`).
    func guardReference() -> GuardReference {
        if let reference { return reference }
        let measured = withSourceWeights { () -> GuardReference in
            let predictions = model.predict(target)
            return GuardReference(confident: SelfTraining.select(predictions, share: options.targetGuard.confidentShare),
                                  predictions: predictions, validationAccuracy: model.evaluate(validation).overallAccuracy,
                                  targetAccuracy: targetLabels.map { accuracy(of: predictions, against: $0) })
        }
        reference = measured
        return measured
    }
}

/// The source model on the target and the source validation set: what the guard compares with.
struct GuardReference {
    /// The source model's label of each target cloud it is confident about (nil for the others).
    var confident: [Int?]
    var statistics: TargetStatistics
    var validationAccuracy: Double
    var targetAccuracy: Double?

    init(confident: [Int?], predictions: [Prediction], validationAccuracy: Double, targetAccuracy: Double?) {
        self.confident = confident
        statistics = TargetStatistics(predictions, reference: confident)
        self.validationAccuracy = validationAccuracy
        self.targetAccuracy = targetAccuracy
    }
}
