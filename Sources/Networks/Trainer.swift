import Engine
import Foundation
import Support

/// The training recipe: DESIGN §4 defaults (Adam 1e-3, weight decay 1e-4, cosine, batch 32, label
/// smoothing 0.2, scale/shift/jitter augmentation).
public struct TrainingOptions: Sendable, Equatable, Codable {
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

/// What a finished epoch reports.
public struct EpochReport: Sendable {
    public var epoch: Int
    public var loss: Double
    public var trainAccuracy: Double
    public var validationAccuracy: Double?
    public var learningRate: Double
    public var seconds: Double
    public var isBest: Bool
}

/// Trains a model's network on a prepared set: shuffled batches (the last incomplete one dropped, as
/// BatchNorm needs more than one cloud), augmentation, forward, loss, backward, optimiser step; one
/// cosine learning-rate step per epoch.
public final class Trainer {
    public let model: Model
    public let options: TrainingOptions
    public private(set) var epoch = 0
    public private(set) var bestAccuracy: Double?
    var adam: Adam<Float>
    var sgd: SGD<Float>
    var rng: SeededGenerator
    let schedule: CosineSchedule
    let input = Tensor<Float>(shape: [0])
    let lossGradient = Tensor<Float>(shape: [0])

    public init(model: Model, options: TrainingOptions) {
        self.model = model
        self.options = options
        adam = options.optimizer == .adamw ? .adamW(learningRate: options.learningRate, weightDecay: options.weightDecay)
            : Adam(learningRate: options.learningRate, weightDecay: options.weightDecay)
        sgd = SGD(learningRate: options.learningRate, momentum: 0.9, weightDecay: options.weightDecay)
        rng = SeededGenerator(seed: options.seed)
        schedule = CosineSchedule(base: options.learningRate, minimum: options.learningRate / 100, epochs: options.epochs)
    }

    /// Writes everything needed to resume (`Checkpoint`): weights, optimiser moments, epoch, step
    /// count, best validation accuracy and generator state. Atomic.
    public func checkpoint(to path: String) throws(ModelError) {
        try Checkpoint.write(to: path, state: model.network.stateTensors, metadata: [
            "epoch": String(epoch), "steps": String(adam.steps), "rng": String(rng.state),
            "best": bestAccuracy.map { String($0) } ?? "", "options": String(decoding: (try? JSONEncoder().encode(options)) ?? Data(), as: UTF8.self),
        ])
    }

    /// Restores a checkpoint written by `checkpoint(to:)` for the same architecture.
    public func resume(from path: String) throws(ModelError) {
        let metadata = try Checkpoint.read(path, into: model.network.stateTensors)
        guard let e = metadata["epoch"].flatMap(Int.init), let steps = metadata["steps"].flatMap(Int.init),
              let state = metadata["rng"].flatMap(UInt64.init) else {
            throw .invalid(path: path, reason: "not a pcdiag training checkpoint")
        }
        epoch = e
        adam.resume(atStep: steps)
        rng = SeededGenerator(seed: state)
        bestAccuracy = metadata["best"].flatMap(Double.init)
    }

    /// One step on the clouds at `indices`: returns the mean loss and the number classified right.
    public func step(_ data: PreparedSet, _ indices: ArraySlice<Int>) -> (loss: Double, correct: Int) {
        data.batch(indices, into: input)
        let n = data.pointsPerCloud
        for row in 0 ..< indices.count { options.augmentation.apply(input.pointer + row * n * 3, count: n, using: &rng) }
        let labels = indices.map { data.labels[$0] }
        let network = model.network
        let logits = network.forward(input, training: true)
        let loss = SoftmaxCrossEntropy<Float>(labelSmoothing: options.labelSmoothing)(logits, labels: labels, gradient: lossGradient)
        let k = logits.channels
        let correct = labels.indices.filter { r in (0 ..< k).max { logits[r * k + $0] < logits[r * k + $1] } == labels[r] }.count
        _ = network.backward(lossGradient)
        if options.optimizer == .sgd { sgd.step(network.parameters) } else { adam.step(network.parameters) }
        return (loss, correct)
    }

    /// Runs one epoch; `progress` gets (clouds done, running loss, running accuracy) after each batch.
    public func runEpoch(_ train: PreparedSet, validation: PreparedSet?,
                         progress: (Int, Double, Double) -> Void = { _, _, _ in }) -> EpochReport {
        let start = Date()
        let rate = schedule.rate(epoch: epoch)
        adam.learningRate = rate
        sgd.learningRate = rate
        let order = Array(0 ..< train.count).shuffled(using: &rng)
        var lossSum = 0.0, correct = 0, seen = 0
        let batches = train.count / options.batchSize
        for b in 0 ..< batches {
            let (loss, right) = step(train, order[b * options.batchSize ..< (b + 1) * options.batchSize])
            lossSum += loss * Double(options.batchSize)
            correct += right
            seen += options.batchSize
            progress(seen, lossSum / Double(seen), Double(correct) / Double(seen))
        }
        let accuracy = validation.map { model.evaluate($0).overallAccuracy }
        epoch += 1
        var isBest = false
        if let accuracy, accuracy > (bestAccuracy ?? -1) {
            bestAccuracy = accuracy
            isBest = true
        }
        return EpochReport(epoch: epoch, loss: lossSum / Double(max(seen, 1)), trainAccuracy: Double(correct) / Double(max(seen, 1)),
                           validationAccuracy: accuracy, learningRate: rate, seconds: Date().timeIntervalSince(start), isBest: isBest)
    }
}
