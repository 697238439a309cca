import Networks

/// The adaptation recipe (DESIGN §3): source classification with PCM mixup, DefRec and rotation
/// prediction on target clouds, each sample's self-supervised loss admitted by the gate, optional
/// self-training. Defaults follow DefRec+PCM's published PointNet settings where they exist.
public struct AdaptationOptions: TrainingRecipe {
    public var epochs = 10
    public var batchSize = 32
    /// Adam, cosine-annealed to 1/100 of it over `epochs`; the model starts trained, so lower than
    /// training from scratch.
    public var learningRate = 1e-4
    public var weightDecay = 1e-4
    public var labelSmoothing = 0.2
    public var augmentation = Augmentation()
    /// PCM on every source batch.
    public var mixup = true
    /// Simulated single views of source clouds in the classification pass; nil: clouds as they are.
    public var sensorSimulation: SensorSimulation?
    /// Weights of the self-supervised losses; 0 turns a task off.
    public var reconstructionWeight = 0.5
    public var rotationWeight = 0.5
    /// Also run the self-supervised tasks on source batches (DefRec's "source and target" variant).
    public var selfSupervisedOnSource = false
    /// Whether the network's BatchNorm normalises each pass with the batch's own statistics and
    /// updates its running statistics, as when training from scratch and in DefRec's reference code.
    /// Off (default): every pass normalises with the source model's running statistics, left
    /// unchanged. One set of statistics must serve both domains at inference; batch statistics of
    /// mixed (PCM) and target clouds drag it to a blend that fits neither, and train the network to
    /// normalise differently from how it will classify.
    public var batchStatistics = false
    public var gate = Gate()
    /// α of the saliency map the measurer takes the skewness of.
    public var saliencyAlpha = 1.0
    public var selfTraining: SelfTraining?
    /// Label-free checks of the target's answers after every epoch; an epoch that fails is never chosen.
    public var targetGuard = TargetGuard()
    public var seed: UInt64 = 0

    public init() {}

    /// Adaptation always uses Adam.
    public var optimizer: TrainingOptions.OptimizerKind { .adam }

    public var tasks: [String] {
        [sensorSimulation?.summary, mixup ? "pcm" : nil, reconstructionWeight > 0 ? "defrec×\(reconstructionWeight)" : nil,
         rotationWeight > 0 ? "rotation×\(rotationWeight)" : nil, selfTraining.map { "self-training from epoch \($0.fromEpoch) (share \($0.startShare)→\($0.endShare))" }]
            .compactMap { $0 }
    }

    public var recipe: String {
        let gateText = gate.kind == .none ? "no gate"
            : "gate \(gate.kind.rawValue) ρ \(gate.keepRatio)\(gate.kind == .skewness ? " (\(gate.threshold.rawValue) threshold, α \(saliencyAlpha))" : "")"
        return "adam lr \(learningRate) wd \(weightDecay), cosine over \(epochs) epochs, batch \(batchSize), label smoothing \(labelSmoothing), "
            + "augmentation \(augmentation.summary); tasks \(tasks.joined(separator: ", "))\(selfSupervisedOnSource ? " (self-supervision on source too)" : ""); "
            + "\(gateText); BatchNorm \(batchStatistics ? "batch statistics" : "statistics frozen"); \(targetGuard.summary); seed \(seed)"
    }
}

/// Confident target pseudo-labels in later epochs, class-balanced (CBST, Zou et al. 2018): from epoch
/// `fromEpoch` (1-based) on, the target clouds are classified (inference mode, at the start of the
/// epoch) and, of those predicted as each class, the most confident `share` are trained on as if
/// labelled. The share grows linearly from `startShare` to `endShare` over the remaining epochs, as
/// the model's answers on the target improve. A share rather than a probability threshold: a model
/// trained with label smoothing is never very confident (ε = 0.2 over 10 classes caps the fitted
/// probability near 0.82), and a threshold would also favour the classes the model already knows.
public struct SelfTraining: Sendable, Equatable, Codable {
    public var fromEpoch: Int
    public var startShare = 0.2
    public var endShare = 0.6
    public var weight = 1.0

    public init(fromEpoch: Int, startShare: Double = 0.2, endShare: Double = 0.6, weight: Double = 1.0) {
        self.fromEpoch = fromEpoch
        self.startShare = startShare
        self.endShare = endShare
        self.weight = weight
    }

    /// The share in (1-based) `epoch` of `epochs`; nil before self-training starts.
    public func share(epoch: Int, of epochs: Int) -> Double? {
        guard epoch >= fromEpoch else { return nil }
        let span = max(epochs - fromEpoch, 1)
        return startShare + (endShare - startShare) * Double(min(epoch - fromEpoch, span)) / Double(span)
    }

    /// The pseudo-label of each cloud (nil: not among its predicted class's most confident `share`).
    public static func select(_ predictions: [Prediction], share: Double) -> [Int?] {
        var labels = [Int?](repeating: nil, count: predictions.count)
        for (label, members) in Dictionary(grouping: predictions.indices, by: { predictions[$0].label }) {
            let ranked = members.sorted { (-predictions[$0].probabilities[label], $0) < (-predictions[$1].probabilities[label], $1) }
            for i in ranked.prefix(Int((share * Double(members.count)).rounded(.up))) { labels[i] = label }
        }
        return labels
    }
}
