/// A trainable tensor, its gradient, and room for an optimiser's per-parameter state.
///
/// `name` is the PyTorch state-dict name (`conv1.weight`, `bn1.running_mean`), so weights load and
/// save under the reference implementations' names.
public final class Parameter<T: EngineScalar> {
    public let name: String
    public let value: Tensor<T>
    public let grad: Tensor<T>
    /// Optimiser state (moments), created by the optimiser on first use.
    public var state: [Tensor<T>] = []

    public init(name: String, shape: [Int], values: [T]? = nil) {
        self.name = name
        value = values.map { Tensor(shape: shape, values: $0) } ?? Tensor(shape: shape)
        grad = Tensor(shape: shape)
    }
}

/// A layer with its forward and backward side by side.
///
/// `forward` keeps what `backward` needs; `backward` takes ∂L/∂output, *sets* (not accumulates) every
/// parameter's gradient for this batch, and returns ∂L/∂input. Returned tensors belong to the layer and
/// are overwritten by its next call.
public protocol Module<Scalar>: AnyObject {
    associatedtype Scalar: EngineScalar
    func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar>
    func backward(_ dy: Tensor<Scalar>) -> Tensor<Scalar>
    /// Trainable parameters (with gradients).
    var parameters: [Parameter<Scalar>] { get }
    /// Non-trained state saved with the weights (BatchNorm running statistics).
    var buffers: [Parameter<Scalar>] { get }
}

extension Module {
    public var buffers: [Parameter<Scalar>] { [] }
}

/// A layer whose parameter gradients cost real work (a GEMM), which it skips when only ∂L/∂input is
/// wanted — saliency maps need the input gradient of a fixed network, not its weight gradients.
public protocol ParameterGradientsOptional: AnyObject {
    /// When false, `backward` returns ∂L/∂input and leaves the parameters' gradients as they were.
    var computesParameterGradients: Bool { get set }
}
