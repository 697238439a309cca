import Networks

/// The adaptation recipe (DESIGN §3): source classification with PCM mixup, DefRec and rotation
/// prediction on target clouds, each sample's self-supervised loss admitted by the gate, optional
/// self-training. Defaults follow DefRec+PCM's published PointNet settings where they exist.
public struct AdaptationOptions: Sendable, Equatable, Codable {
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
    /// Weights of the self-supervised losses; 0 turns a task off.
    public var reconstructionWeight = 0.5
    public var rotationWeight = 0.5
    /// Also run the self-supervised tasks on source batches (DefRec's "source and target" variant).
    public var selfSupervisedOnSource = false
    /// How the backbone's BatchNorm normalises target passes. Off (default): with the running
    /// statistics, which only source passes update — one set of statistics then serves both domains
    /// at inference, as it must, and the target is trained the way it will be classified. On: with
    /// each target batch's own statistics, as DefRec's reference code, which also drags the running
    /// statistics toward a source/target blend that fits neither.
    public var targetBatchStatistics = false
    public var gate = Gate()
    /// α of the saliency map the measurer takes the skewness of.
    public var saliencyAlpha = 1.0
    public var selfTraining: SelfTraining?
    public var seed: UInt64 = 0

    public init() {}

    public var tasks: [String] {
        [mixup ? "pcm" : nil, reconstructionWeight > 0 ? "defrec×\(reconstructionWeight)" : nil,
         rotationWeight > 0 ? "rotation×\(rotationWeight)" : nil, selfTraining.map { "self-training from epoch \($0.fromEpoch)" }]
            .compactMap { $0 }
    }

    public var recipe: String {
        let gateText = gate.kind == .none ? "no gate"
            : "gate \(gate.kind.rawValue) ρ \(gate.keepRatio)\(gate.kind == .skewness ? " (\(gate.threshold.rawValue) threshold, α \(saliencyAlpha))" : "")"
        return "adam lr \(learningRate) wd \(weightDecay), cosine over \(epochs) epochs, batch \(batchSize), label smoothing \(labelSmoothing), "
            + "augmentation \(augmentation.summary); tasks \(tasks.joined(separator: ", "))\(selfSupervisedOnSource ? " (self-supervision on source too)" : ""); "
            + "\(gateText); target BatchNorm \(targetBatchStatistics ? "batch" : "running") statistics; seed \(seed)"
    }
}

/// Confident target pseudo-labels in later epochs: from epoch `fromEpoch` (1-based) on, each target
/// cloud whose predicted probability (inference mode, at the start of the epoch) reaches the threshold
/// is trained on as if labelled; the threshold falls linearly from `startThreshold` to `endThreshold`
/// over the remaining epochs, as the model's answers on the target improve.
public struct SelfTraining: Sendable, Equatable, Codable {
    public var fromEpoch: Int
    public var startThreshold = 0.95
    public var endThreshold = 0.8
    public var weight = 1.0

    public init(fromEpoch: Int, startThreshold: Double = 0.95, endThreshold: Double = 0.8, weight: Double = 1.0) {
        self.fromEpoch = fromEpoch
        self.startThreshold = startThreshold
        self.endThreshold = endThreshold
        self.weight = weight
    }

    /// The threshold in (1-based) `epoch` of `epochs`; nil before self-training starts.
    public func threshold(epoch: Int, of epochs: Int) -> Double? {
        guard epoch >= fromEpoch else { return nil }
        let span = max(epochs - fromEpoch, 1)
        return startThreshold + (endThreshold - startThreshold) * Double(min(epoch - fromEpoch, span)) / Double(span)
    }
}

/// What one adaptation epoch did: the per-epoch log line and an entry of the JSON report.
public struct AdaptationEpoch: Sendable, Equatable, Codable {
    public struct Losses: Sendable, Equatable, Codable {
        public var classification = 0.0, reconstruction = 0.0, rotation = 0.0, pseudo = 0.0
    }

    public struct GateStatistics: Sendable, Equatable, Codable {
        public var keptFraction: Double
        /// Mean saliency skewness of the samples kept and dropped (measured gates only).
        public var meanSkewnessKept: Double?
        public var meanSkewnessDropped: Double?
    }

    /// Cosine similarity between the classification gradient and the self-supervised gradient of the
    /// probe batch's low-skewness half and high-skewness half, over the parameters both reach (the
    /// quantity SM-DSB rests on: lower skewness ↔ higher agreement). `reference` says which
    /// classification gradient: "target-oracle" (labels given for reporting) or "source".
    public struct Agreement: Sendable, Equatable, Codable {
        public var reference: String
        public var lowSkewness: Double
        public var highSkewness: Double
        public var all: Double
    }

    public struct PseudoLabels: Sendable, Equatable, Codable {
        public var threshold: Double
        public var fraction: Double
        public var accuracy: Double?
    }

    public var epoch: Int
    public var learningRate: Double
    public var seconds: Double
    /// Time the measurer took (the gate's overhead).
    public var measurerSeconds: Double
    public var losses: Losses
    public var sourceTrainAccuracy: Double
    public var sourceValidationAccuracy: Double
    public var isBest: Bool
    public var gate: GateStatistics?
    public var agreement: Agreement?
    public var pseudoLabels: PseudoLabels?
    /// Only when target labels were given for reporting; never used to choose.
    public var targetAccuracy: Double?
}
