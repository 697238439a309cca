import Engine
import Foundation
import Support

/// The training recipe: DESIGN §4 defaults (Adam 1e-3, weight decay 1e-4, cosine, batch 32, label
/// smoothing 0.2, scale/shift/jitter augmentation).
public struct TrainingOptions: TrainingRecipe {
    public enum OptimizerKind: String, Sendable, Codable, CaseIterable { case adam, adamw, sgd }

    public var epochs = 60
    public var batchSize = 32
    public var learningRate = 1e-3
    public var weightDecay = 1e-4
    public var optimizer = OptimizerKind.adam
    public var labelSmoothing = 0.2
    public var augmentation = Augmentation()
    public var seed: UInt64 = 0

    public init() {}

    public var recipe: String {
        "\(optimizer.rawValue) lr \(learningRate) wd \(weightDecay), cosine over \(epochs) epochs, batch \(batchSize), "
            + "label smoothing \(labelSmoothing), augmentation \(augmentation.summary), seed \(seed)"
    }
}

/// What a supervised epoch reports.
public struct EpochReport: EpochOutcome {
    public var epoch: Int
    public var loss: Double
    public var trainAccuracy: Double
    public var validationAccuracy: Double?
    public var learningRate: Double
    public var seconds: Double
    public var isBest = false

    public var selectionScore: Double? { validationAccuracy }

    public func summary(of epochs: Int) -> String {
        let validation = validationAccuracy.map { String(format: "  val %.2f%%%@", $0 * 100, isBest ? " (best)" : "") } ?? ""
        return String(format: "epoch %d/%d  loss %.4f  train %.2f%%%@  lr %.2e  %.0fs", epoch, epochs, loss, trainAccuracy * 100, validation,
                      learningRate, seconds)
    }
}

/// Supervised training, the step `TrainingLoop` runs for `train`: each epoch shuffled batches (the
/// last incomplete one dropped, as BatchNorm needs more than one cloud), augmentation, forward, loss,
/// backward, optimiser step; then the validation accuracy the model is chosen on.
public final class Trainer: TrainingStep {
    public let model: Model
    public let options: TrainingOptions
    public let data: PreparedSet
    public let validation: PreparedSet?
    let input = Tensor<Float>(shape: [0])
    let lossGradient = Tensor<Float>(shape: [0])

    public init(model: Model, options: TrainingOptions, data: PreparedSet, validation: PreparedSet? = nil) {
        self.model = model
        self.options = options
        self.data = data
        self.validation = validation
    }

    public var recipe: TrainingOptions { options }
    public var cloudsPerEpoch: Int { data.count / options.batchSize * options.batchSize }
    public var state: [Parameter<Float>] { model.network.stateTensors }
    /// The first epoch to reach the best validation accuracy is kept.
    public static var tiesGoToLaterEpochs: Bool { false }
    public static var scoreName: String { "validation accuracy" }

    /// One step on the clouds at `indices`: returns the mean loss and the number classified right.
    func step(_ indices: ArraySlice<Int>, _ run: inout RunState) -> (loss: Double, correct: Int) {
        data.batch(indices, into: input)
        let n = data.pointsPerCloud
        for row in 0 ..< indices.count { options.augmentation.apply(input.pointer + row * n * 3, count: n, using: &run.generator) }
        let labels = indices.map { data.labels[$0] }
        let network = model.network
        let logits = network.forward(input, training: true)
        let loss = SoftmaxCrossEntropy<Float>(labelSmoothing: options.labelSmoothing)(logits, labels: labels, gradient: lossGradient)
        let correct = zip(rowArgmax(logits.buffer, width: logits.channels), labels).filter { $0 == $1 }.count
        _ = network.backward(lossGradient)
        run.optimizer.step(network.parameters)
        return (loss, correct)
    }

    public func runEpoch(_ index: Int, _ run: inout RunState, progress: (Int) -> Void) -> EpochReport {
        let start = Date()
        let b = options.batchSize
        let order = Array(0 ..< data.count).shuffled(using: &run.generator)
        var lossSum = 0.0, correct = 0, seen = 0
        for batch in 0 ..< data.count / b {
            let (loss, right) = step(order[batch * b ..< (batch + 1) * b], &run)
            lossSum += loss * Double(b)
            correct += right
            seen += b
            progress(seen)
        }
        return EpochReport(epoch: index + 1, loss: lossSum / Double(max(seen, 1)), trainAccuracy: Double(correct) / Double(max(seen, 1)),
                           validationAccuracy: validation.map { model.evaluate($0).overallAccuracy },
                           learningRate: run.optimizer.learningRate, seconds: Date().timeIntervalSince(start))
    }
}

extension Trainer {
    /// `train`: continues the checkpoint beside `files.model` when asked, runs the epochs left, and
    /// saves the model of the best validation accuracy (the last epoch's without validation) with
    /// `record` for its training record (its `epochs` and `validationAccuracy` those of the epoch
    /// saved), a checkpoint after every epoch.
    public func run(_ files: RunFiles, record: TrainingRecord, observer: some TrainingObserver) throws(ModelError) -> TrainingResult<EpochReport> {
        let loop = TrainingLoop(self)
        try loop.resuming(files, observer: observer)
        observer.note("train: \(model.metadata.architecture.name), \(data.count) clouds, \(data.classes.count) classes; \(options.recipe)")
        try loop.run(files, observer: observer) { report, saved in
            saved.metadata.training = record
            saved.metadata.training?.epochs = report.epoch
            saved.metadata.training?.validationAccuracy = report.validationAccuracy
        }
        return TrainingResult(log: loop.log)
    }
}
