import Engine
import Foundation
import Support

/// What `TrainingLoop` needs of a recipe: its optimiser and cosine schedule, its length and its seed.
public protocol TrainingRecipe: Codable, Equatable, Sendable {
    /// The schedule spans them; the only part of a recipe a resumed run may change (to run longer).
    var epochs: Int { get set }
    var learningRate: Double { get }
    var weightDecay: Double { get }
    var optimizer: TrainingOptions.OptimizerKind { get }
    var seed: UInt64 { get }
}

/// What the loop reads and marks on an epoch's report.
public protocol EpochOutcome: Codable, Equatable, Sendable {
    /// 1-based.
    var epoch: Int { get }
    /// What the model is chosen on; nil when there is nothing to choose on (the last epoch is kept).
    var selectionScore: Double? { get }
    /// Set by the loop: the epoch's weights are the best so far.
    var isBest: Bool { get set }
    /// The epoch's log line in a run of `epochs`.
    func summary(of epochs: Int) -> String
}

/// One kind of training the loop runs: supervised (`Trainer`) or domain adaptation (`Adapter`).
public protocol TrainingStep: AnyObject {
    associatedtype Recipe: TrainingRecipe
    associatedtype Report: EpochOutcome
    var model: Model { get }
    var recipe: Recipe { get }
    /// The clouds one epoch trains on (what its progress counts to).
    var cloudsPerEpoch: Int { get }
    /// Every tensor a checkpoint holds: the network's weights and statistics, and any heads'.
    var state: [Parameter<Float>] { get }
    /// Whether a later epoch that ties the best score so far replaces it.
    static var tiesGoToLaterEpochs: Bool { get }
    /// What the score is, for the early-stop note ("validation accuracy").
    static var scoreName: String { get }
    /// Trains epoch `index` (0-based) at `run.optimizer`'s learning rate and measures the result;
    /// `progress` gets the clouds done after each batch.
    func runEpoch(_ index: Int, _ run: inout RunState, progress: (Int) -> Void) -> Report
}

/// Where a run is, beside its tensors and its log: what every epoch moves on and a checkpoint keeps.
public struct RunState {
    /// Behind every random choice of the loop: data order, augmentation, mixup, deformations, the gate.
    public var generator: SeededGenerator
    public var optimizer: TrainingOptimizer
    /// Recent values a step keeps across batches: the adaptation gate's running skewness window.
    public var window: [Double] = []
}

/// The recipe's optimiser (DESIGN §4): Adam, AdamW or SGD with momentum 0.9.
public enum TrainingOptimizer {
    case adam(Adam<Float>)
    case sgd(SGD<Float>)

    public init(_ recipe: some TrainingRecipe) {
        let (rate, decay) = (recipe.learningRate, recipe.weightDecay)
        switch recipe.optimizer {
        case .adam: self = .adam(Adam(learningRate: rate, weightDecay: decay))
        case .adamw: self = .adam(.adamW(learningRate: rate, weightDecay: decay))
        case .sgd: self = .sgd(SGD(learningRate: rate, momentum: 0.9, weightDecay: decay))
        }
    }

    public mutating func step(_ parameters: [Parameter<Float>]) {
        switch self {
        case .adam(var a): a.step(parameters); self = .adam(a)
        case .sgd(var s): s.step(parameters); self = .sgd(s)
        }
    }

    public var learningRate: Double {
        get {
            switch self {
            case .adam(let a): a.learningRate
            case .sgd(let s): s.learningRate
            }
        }
        set {
            switch self {
            case .adam(var a): a.learningRate = newValue; self = .adam(a)
            case .sgd(var s): s.learningRate = newValue; self = .sgd(s)
            }
        }
    }

    /// Adam's bias correction depends on it; SGD has none (0).
    public var steps: Int {
        get { if case .adam(let a) = self { a.steps } else { 0 } }
        set { if case .adam(var a) = self { a.resume(atStep: newValue); self = .adam(a) } }
    }
}

/// What a run tells its caller as it goes: log lines, and each epoch's progress.
public protocol TrainingObserver {
    /// A log line: the run's setup, a resumption, each epoch's summary, an early stop.
    func note(_ line: String)
    /// Epoch `epoch` (1-based) of `epochs` starts, over `clouds` clouds.
    func epochStarted(_ epoch: Int, of epochs: Int, clouds: Int)
    /// Clouds done so far in the current epoch.
    func progressed(to clouds: Int)
    /// The current epoch's training is done (its summary follows as a note).
    func epochFinished()
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

    /// Trains one more epoch and records its report, marked best when its score beats (or, with
    /// `tiesGoToLaterEpochs`, equals) the best so far.
    @discardableResult
    public func runEpoch(progress: (Int) -> Void = { _ in }) -> Step.Report {
        run.optimizer.learningRate = schedule.rate(epoch: epoch)
        var report = step.runEpoch(epoch, &run, progress: progress)
        if let score = report.selectionScore {
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

    /// Runs the epochs left. After each: the model saved as `describe` tells for that epoch when it is
    /// the best so far (every epoch when there is no score), then the checkpoint, then `afterEpoch`;
    /// the run stops early after `files.patience` epochs without a better score.
    public func run(_ files: RunFiles, observer: some TrainingObserver, describe: (Step.Report) -> ModelMetadata,
                    afterEpoch: () throws(ModelError) -> Void = {}) throws(ModelError) {
        // A resumed run that had stopped early stays stopped.
        func patienceRanOut() -> Bool { files.patience.map { !log.isEmpty && epochsSinceBest >= $0 } ?? false }
        var stop = patienceRanOut()
        while epoch < epochs && !stop {
            observer.epochStarted(epoch + 1, of: epochs, clouds: step.cloudsPerEpoch)
            let report = runEpoch(progress: observer.progressed)
            observer.epochFinished()
            observer.note(report.summary(of: epochs))
            if report.isBest || report.selectionScore == nil {
                try Model(metadata: describe(report), network: step.model.network).save(to: files.model)
            }
            try checkpoint(to: files.checkpoint)
            try afterEpoch()
            stop = patienceRanOut()
        }
        if stop, let patience = files.patience { observer.note("no better \(Step.scoreName) in \(patience) epochs: stopping") }
    }
}
