import Engine
import Support

/// What `TrainingLoop` needs of a recipe: its optimiser and cosine schedule, its length and its seed.
public protocol TrainingRecipe: Codable, Equatable, Sendable {
    /// The recipe's defaults.
    init()
    /// The schedule spans them; the only part of a recipe a resumed run may change (to run longer).
    var epochs: Int { get set }
    var batchSize: Int { get set }
    var learningRate: Double { get set }
    var weightDecay: Double { get set }
    var labelSmoothing: Double { get set }
    var optimizer: TrainingOptions.OptimizerKind { get }
    var seed: UInt64 { get set }
}

/// What the loop reads and marks on an epoch's report.
public protocol EpochOutcome: Codable, Equatable, Sendable {
    /// 1-based.
    var epoch: Int { get }
    /// What the model is chosen on; nil when there is nothing to choose on (the last epoch is kept).
    var selectionScore: Double? { get }
    /// Set by the loop: the epoch's weights are the best so far.
    var isBest: Bool { get set }
    /// Whether the epoch's weights may be chosen at all, whatever their score (false: a guard vetoed them).
    var isEligible: Bool { get }
    /// The epoch's log line in a run of `epochs`.
    func summary(of epochs: Int) -> String
}

extension EpochOutcome {
    public var isEligible: Bool { true }
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
