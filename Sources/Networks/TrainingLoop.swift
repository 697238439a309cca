import Engine
import Foundation
import Support

/// What a run tells its caller as it goes: log lines, and each epoch's progress.
public protocol TrainingObserver {
    /// A log line: the run's setup, a resumption, each epoch's summary, an early stop.
    func note(_ line: String)
    /// Something the user must not miss (a guard that failed).
    func warning(_ line: String)
    /// Epoch `epoch` (1-based) of `epochs` starts, over `clouds` clouds.
    func epochStarted(_ epoch: Int, of epochs: Int, clouds: Int)
    /// Clouds done so far in the current epoch.
    func progressed(to clouds: Int)
    /// The current epoch's training is done (its summary follows as a note).
    func epochFinished()
}

extension TrainingObserver {
    public func warning(_ line: String) { note("warning: " + line) }
}

/// An observer that ignores everything (tests, library callers that log nothing).
public struct SilentObserver: TrainingObserver {
    public init() {}
    public func note(_ line: String) {}
    public func epochStarted(_ epoch: Int, of epochs: Int, clouds: Int) {}
    public func progressed(to clouds: Int) {}
    public func epochFinished() {}
}

/// The epoch loop both `train` and `adapt` run: the learning rate from a cosine schedule over the
/// recipe's epochs (to 1/100 of it), one epoch of the step, model selection on the epoch's score,
/// and checkpoints that continue the run bit for bit.
public final class TrainingLoop<Step: TrainingStep> {
    public let step: Step
    /// The reports of the epochs done, in order; the best epoch so far is the last one marked `isBest`.
    public private(set) var log: [Step.Report] = []
    var run: RunState
    let schedule: CosineSchedule

    public init(_ step: Step) {
        self.step = step
        let recipe = step.recipe
        run = RunState(generator: SeededGenerator(seed: recipe.seed), optimizer: TrainingOptimizer(recipe))
        schedule = CosineSchedule(base: recipe.learningRate, minimum: recipe.learningRate / 100, epochs: recipe.epochs)
    }

    /// Epochs done.
    public var epoch: Int { log.count }
    public var epochs: Int { step.recipe.epochs }
    public var best: Step.Report? { log.last { $0.isBest } }
    /// Epochs since the best one (all of them when none was best).
    public var epochsSinceBest: Int { log.count - 1 - (log.lastIndex { $0.isBest } ?? -1) }

    /// Trains one more epoch and records its report, marked best when it is eligible and its score
    /// beats (or, with `tiesGoToLaterEpochs`, equals) the best so far.
    @discardableResult
    public func runEpoch(progress: (Int) -> Void = { _ in }) -> Step.Report {
        run.optimizer.learningRate = schedule.rate(epoch: epoch)
        var report = step.runEpoch(epoch, &run, progress: progress)
        if report.isEligible, let score = report.selectionScore {
            let bestScore = best?.selectionScore
            report.isBest = bestScore.map { Step.tiesGoToLaterEpochs ? score >= $0 : score > $0 } ?? true
        }
        log.append(report)
        return report
    }

    public func checkpoint(to path: String) throws(ModelError) {
        try Checkpoint(recipe: step.recipe, log: log, optimizerSteps: run.optimizer.steps, generator: run.generator,
                       dropoutGenerators: step.model.network.dropouts.map(\.rng), window: run.window)
            .write(to: path, tensors: step.state)
    }

    /// Continues from a checkpoint `checkpoint(to:)` wrote with the same recipe (`epochs` aside: a
    /// finished run can be continued for more) and the same kind of step and model.
    public func resume(from path: String) throws(ModelError) {
        let saved = try Checkpoint<Step.Recipe, Step.Report>.read(path, into: step.state)
        var comparable = saved.recipe
        comparable.epochs = step.recipe.epochs
        guard comparable == step.recipe else { throw .invalid(path: path, reason: "the checkpoint was made with another recipe") }
        let dropouts = step.model.network.dropouts
        guard saved.dropoutGenerators.count == dropouts.count else {
            throw .invalid(path: path, reason: "the checkpoint is of another network (\(saved.dropoutGenerators.count) dropout layers)")
        }
        for (layer, generator) in zip(dropouts, saved.dropoutGenerators) { layer.rng = generator }
        log = saved.log
        run.generator = saved.generator
        run.optimizer.steps = saved.optimizerSteps
        run.window = saved.window
    }
}

/// Where a run writes and how it ends.
public struct RunFiles: Sendable {
    /// The chosen model (.safetensors).
    public var model: String
    /// Continue from the checkpoint when there is one.
    public var resume: Bool
    /// Stop after this many epochs without a better score.
    public var patience: Int?

    public init(model: String, resume: Bool, patience: Int? = nil) {
        self.model = model
        self.resume = resume
        self.patience = patience
    }

    /// Beside the model, as `train` and `adapt` document it.
    public var checkpoint: String { model + ".ckpt" }
}

/// The result of a training run: every epoch's report, the chosen one last marked best.
public struct TrainingResult<Report: EpochOutcome>: Sendable {
    public var log: [Report]

    public init(log: [Report]) { self.log = log }

    public var best: Report? { log.last { $0.isBest } }
}

extension TrainingLoop {
    /// Continues from `files.checkpoint` when asked and there is one, and notes it.
    public func resuming(_ files: RunFiles, observer: some TrainingObserver) throws(ModelError) {
        guard files.resume, FileManager.default.fileExists(atPath: files.checkpoint) else { return }
        try resume(from: files.checkpoint)
        observer.note("resumed from \(files.checkpoint) after epoch \(epoch)")
    }

    /// Runs the epochs left. After each: the model saved, with what `stamp` records of that epoch in
    /// it, when it is the best so far (every eligible epoch when there is no score), then the
    /// checkpoint, then `afterEpoch`; an ineligible epoch is never saved. The run stops early after
    /// `files.patience` epochs without a better score.
    public func run(_ files: RunFiles, observer: some TrainingObserver, stamp: (Step.Report, inout Model) throws(ModelError) -> Void,
                    afterEpoch: () throws(ModelError) -> Void = {}) throws(ModelError) {
        // A model file is only ever written beside a checkpoint: a run killed between saving its first
        // model and its first epoch's checkpoint resumes from this one instead of finding a model it
        // may not replace.
        if !FileManager.default.fileExists(atPath: files.checkpoint) { try checkpoint(to: files.checkpoint) }
        // A resumed run that had stopped early stays stopped.
        func patienceRanOut() -> Bool { files.patience.map { !log.isEmpty && epochsSinceBest >= $0 } ?? false }
        var stop = patienceRanOut()
        while epoch < epochs && !stop {
            observer.epochStarted(epoch + 1, of: epochs, clouds: step.cloudsPerEpoch)
            let report = runEpoch(progress: observer.progressed)
            observer.epochFinished()
            observer.note(report.summary(of: epochs))
            if report.isBest || (report.selectionScore == nil && report.isEligible) {
                var saved = Model(metadata: step.model.metadata, network: step.model.network)
                try stamp(report, &saved)
                try saved.save(to: files.model)
            }
            try checkpoint(to: files.checkpoint)
            try afterEpoch()
            stop = patienceRanOut()
        }
        if stop, let patience = files.patience { observer.note("no better \(Step.scoreName) in \(patience) epochs: stopping") }
    }
}
