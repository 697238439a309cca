import Engine

/// A self-supervised head: Dense + BatchNorm + ReLU for each hidden width, then a last Dense with bias,
/// applied to every row of its input ([clouds, C] or, per point, [clouds, points, C]). Its parameters
/// are named `NAME.linearI.*` / `NAME.bnI.*`; the adapted model drops them, checkpoints keep them.
public final class MLPHead<T: EngineScalar>: Module {
    public let name: String
    let linears: [Dense<T>]
    let norms: [BatchNorm<T>]
    let relus: [Activation<T>]

    /// `widths`: input, hidden…, output (at least input and output); layers are numbered from
    /// `firstIndex`.
    public init(_ name: String, widths: [Int], seed: UInt64, firstIndex: Int = 1) {
        precondition(widths.count >= 2, "a head needs an input and an output width")
        self.name = name
        let layers = widths.count - 1
        linears = (0 ..< layers).map { i in
            Dense("\(name).linear\(i + firstIndex)", inputs: widths[i], outputs: widths[i + 1], bias: i == layers - 1, seed: seed)
        }
        norms = (0 ..< layers - 1).map { BatchNorm("\(name).bn\($0 + firstIndex)", channels: widths[$0 + 1]) }
        relus = (0 ..< layers - 1).map { _ in Activation() }
    }

    /// The hidden layers first, then the output layer: BatchNorm's running statistics are buffers.
    public var parameters: [Parameter<T>] { linears.flatMap(\.parameters) + norms.flatMap(\.parameters) }
    public var buffers: [Parameter<T>] { norms.flatMap(\.buffers) }

    @_specialize(where T == Float)
    public func forward(_ x: Tensor<T>, training: Bool) -> Tensor<T> {
        var h = x
        for i in norms.indices { h = relus[i].forward(norms[i].forward(linears[i].forward(h, training: training), training: training), training: training) }
        return linears[norms.count].forward(h, training: training)
    }

    @_specialize(where T == Float)
    public func backward(_ dy: Tensor<T>) -> Tensor<T> {
        var g = linears[norms.count].backward(dy)
        for i in norms.indices.reversed() { g = linears[i].backward(norms[i].backward(relus[i].backward(g))) }
        return g
    }
}

/// DefRec's reconstruction head: per point, its features and its cloud's global feature → 256 → 256 →
/// 128 → xyz (each hidden layer with BatchNorm and ReLU), the first layer as `PointGlobalDense`.
public final class ReconstructionHead<T: EngineScalar> {
    let input: PointGlobalDense<T>
    let norm = BatchNorm<T>("ssl.defrec.bn1", channels: 256)
    let relu = Activation<T>()
    let rest: MLPHead<T>

    public init(pointChannels: Int, globalChannels: Int, seed: UInt64) {
        input = PointGlobalDense("ssl.defrec.linear1", pointChannels: pointChannels, globalChannels: globalChannels, outputs: 256, seed: seed)
        rest = MLPHead("ssl.defrec", widths: [256, 256, 128, 3], seed: seed, firstIndex: 2)
    }

    public var parameters: [Parameter<T>] { input.parameters + norm.parameters + rest.parameters }
    public var buffers: [Parameter<T>] { norm.buffers + rest.buffers }

    /// points [clouds, n, C], global [clouds, G] → [clouds, n, 3].
    @_specialize(where T == Float)
    public func forward(points: Tensor<T>, global: Tensor<T>, training: Bool) -> Tensor<T> {
        rest.forward(relu.forward(norm.forward(input.forward(points: points, global: global), training: training), training: training),
                     training: training)
    }

    /// Returns ∂L/∂point features and ∂L/∂global feature (owned by the head).
    @_specialize(where T == Float)
    public func backward(_ dy: Tensor<T>) -> (points: Tensor<T>, global: Tensor<T>) {
        input.backward(norm.backward(relu.backward(rest.backward(dy))))
        return (input.pointGrad, input.globalGrad)
    }
}
