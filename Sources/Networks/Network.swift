import Engine

/// A classification network over point clouds: [clouds, points, 3] → logits [clouds, classes].
///
/// `backward` takes ∂L/∂logits and returns ∂L/∂points — the input gradient saliency maps are made of.
public protocol Network<Scalar>: Module {
    var architecture: Architecture { get }
    /// Every layer, in the order the state dict lists them (for names, loading and saving).
    var modules: [any Module<Scalar>] { get }
    /// The dropout layers, whose generators a training checkpoint keeps.
    var dropouts: [Dropout<Scalar>] { get }
    /// The pooled global feature of the last forward pass, [clouds, E] (the input of the classifier
    /// head): the embedding feature-space diagnostics use. Valid until the next forward pass.
    var globalFeature: Tensor<Scalar> { get }
    /// Per-point features of the last forward pass, [clouds, points, C]: what a per-point
    /// self-supervised head reads (PointNet: its four 64/64/64/128-channel layer outputs; DGCNN: its
    /// four EdgeConv outputs, 512 channels). Valid until the next forward pass.
    var pointFeatures: Tensor<Scalar> { get }
    /// `backward` with gradients also entering at the global and the point features, from heads that
    /// read them (domain adaptation's self-supervised tasks). `dy` nil: the classifier is not part of
    /// the loss, and its layers' gradients are left as they were. Returns ∂L/∂points.
    func backward(_ dy: Tensor<Scalar>?, globalFeature: Tensor<Scalar>?, pointFeatures: Tensor<Scalar>?) -> Tensor<Scalar>
}

extension Network {
    public func backward(_ dy: Tensor<Scalar>) -> Tensor<Scalar> { backward(dy, globalFeature: nil, pointFeatures: nil) }

    public var parameters: [Parameter<Scalar>] { modules.flatMap { $0.parameters } }
    public var buffers: [Parameter<Scalar>] { modules.flatMap { $0.buffers } }
    /// Parameters and buffers: everything a weights file holds.
    public var stateTensors: [Parameter<Scalar>] { parameters + buffers }

    /// Whether `backward` also sets the weight gradients (training) or returns ∂L/∂points alone
    /// (saliency), skipping the layers' weight-gradient GEMMs.
    public func computeParameterGradients(_ on: Bool) {
        for module in modules { (module as? ParameterGradientsOptional)?.computesParameterGradients = on }
    }
}

/// Which network, with its hyper-parameters: stored in model files.
public enum Architecture: Sendable, Equatable, Codable {
    case pointnet(classes: Int, embedding: Int = 1024, dropout: Double = 0.5)
    case dgcnn(classes: Int, k: Int = 20, embedding: Int = 1024, dropout: Double = 0.5)

    public var name: String {
        switch self {
        case .pointnet: "pointnet"
        case .dgcnn: "dgcnn"
        }
    }

    /// The fewest points a cloud may have: DGCNN needs more than k.
    public var minimumPoints: Int {
        switch self {
        case .pointnet: 1
        case .dgcnn(_, let k, _, _): k + 1
        }
    }

    /// Channels of `Network.pointFeatures` and `Network.globalFeature`.
    public var pointFeatureChannels: Int {
        switch self {
        case .pointnet: 64 + 64 + 64 + 128
        case .dgcnn: 64 + 64 + 128 + 256
        }
    }

    public var globalFeatureChannels: Int {
        switch self {
        case .pointnet(_, let e, _): e
        case .dgcnn(_, _, let e, _): 2 * e
        }
    }

    public var classes: Int {
        switch self {
        case .pointnet(let c, _, _), .dgcnn(let c, _, _, _): c
        }
    }
}

extension Architecture {
    /// Multiply-adds ×2 of one cloud's forward pass as the reference implementations compute it: every
    /// 1×1 convolution and linear layer, and for DGCNN each block's pairwise-distance GEMM (n² C) and
    /// its two per-point products (the EdgeConv algebra). Elementwise work is not counted.
    public func forwardFLOPs(points n: Int) -> Double {
        let n = Double(n)
        switch self {
        case .pointnet(let classes, let e, _):
            let widths = [3.0, 64, 64, 64, 128, Double(e)]
            let convs = zip(widths, widths.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }
            return 2 * (n * convs + Double(e) * 512 + 512 * Double(classes))
        case .dgcnn(let classes, _, let e, _):
            let blocks: [(Double, Double)] = [(3, 64), (64, 64), (64, 128), (128, 256)]
            let edge = blocks.reduce(0) { $0 + n * n * $1.0 + 2 * n * $1.0 * $1.1 }
            return 2 * (edge + n * 512 * Double(e) + 2 * Double(e) * 512 + 512 * 256 + 256 * Double(classes))
        }
    }
}

extension Network {
    /// Inference on a batch [clouds, points, 3]: the logits [clouds, classes] and each cloud's pooled
    /// feature (what the head classified), both from this one pass.
    public func classify(_ points: Tensor<Scalar>) -> (logits: Tensor<Scalar>, features: [[Scalar]]) {
        let logits = forward(points, training: false)
        let pooled = globalFeature, clouds = points.shape[0], width = pooled.count / max(clouds, 1)
        return (logits, (0 ..< clouds).map { b in (0 ..< width).map { pooled[b * width + $0] } })
    }
}
