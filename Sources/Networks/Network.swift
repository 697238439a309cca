import Engine

/// A classification network over point clouds: [clouds, points, 3] → logits [clouds, classes].
///
/// `backward` takes ∂L/∂logits and returns ∂L/∂points — the input gradient saliency maps are made of.
public protocol Network<Scalar>: Module {
    var architecture: Architecture { get }
    /// Every layer, in the order the state dict lists them (for names, loading and saving).
    var modules: [any Module<Scalar>] { get }
}

extension Network {
    public var parameters: [Parameter<Scalar>] { modules.flatMap { $0.parameters } }
    public var buffers: [Parameter<Scalar>] { modules.flatMap { $0.buffers } }
    /// Parameters and buffers: everything a weights file holds.
    public var stateTensors: [Parameter<Scalar>] { parameters + buffers }
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

    public var classes: Int {
        switch self {
        case .pointnet(let c, _, _), .dgcnn(let c, _, _, _): c
        }
    }
}
