import Engine

/// PointNet (vanilla, without T-nets), as in the reference PyTorch implementation used with DGCNN:
/// five shared 1×1 convolutions 3→64→64→64→128→E (no bias) each with BatchNorm and ReLU, a global max
/// pool, linear E→512 (no bias) + BatchNorm + ReLU + dropout, linear 512→classes.
///
/// Parameter names and shapes match PyTorch's state dict (`conv1.weight` [64, 3, 1], `bn1.*`,
/// `linear1.weight` [512, E], `linear2.*`), so its weights load unchanged.
public final class PointNet<T: EngineScalar>: Network {
    public let architecture: Architecture
    public let convs: [Dense<T>]
    public let norms: [BatchNorm<T>]
    public let relus: [Activation<T>]
    /// conv5 → bn5 → ReLU → max pool in one module (the parameters of `convs[4]` and `norms[4]`).
    public let head: ConvNormReLUMaxPool<T>
    public let linear1: Dense<T>, bn6: BatchNorm<T>, relu6 = Activation<T>(), dropout: Dropout<T>, linear2: Dense<T>

    public init(classes: Int, embedding: Int = 1024, dropout p: Double = 0.5, seed: UInt64? = 0) {
        architecture = .pointnet(classes: classes, embedding: embedding, dropout: p)
        let widths = [3, 64, 64, 64, 128, embedding]
        convs = (1 ... 5).map { i in
            Dense("conv\(i)", inputs: widths[i - 1], outputs: widths[i], bias: false, storedShape: [widths[i], widths[i - 1], 1], seed: seed)
        }
        norms = (1 ... 5).map { BatchNorm("bn\($0)", channels: widths[$0]) }
        head = ConvNormReLUMaxPool(conv: convs[4], norm: norms[4])
        relus = (1 ... 4).map { _ in Activation() }
        linear1 = Dense("linear1", inputs: embedding, outputs: 512, bias: false, seed: seed)
        bn6 = BatchNorm("bn6", channels: 512)
        dropout = Dropout(p: p, seed: (seed ?? 0) &+ 1)
        linear2 = Dense("linear2", inputs: 512, outputs: classes, bias: true, seed: seed)
    }

    public var modules: [any Module<T>] { convs + norms + [linear1, bn6, linear2] }
    public var dropouts: [Dropout<T>] { [dropout] }

    public private(set) var globalFeature = Tensor<T>(shape: [0])
    /// The outputs of the four ReLUs before the head (owned by those layers), for `pointFeatures`.
    private var pointOutputs = [Tensor<T>]()
    private let joined = Tensor<T>(shape: [0])
    static var pointWidths: [Int] { [64, 64, 64, 128] }
    /// `PointSubsets`' per-point state: the point layers' outputs and the head's Z.
    let subsetActivations = (0 ..< 4).map { _ in Tensor<T>(shape: [0]) }
    let subsetValues = Tensor<T>(shape: [0])

    public var pointFeatures: Tensor<T> {
        concatenateChannels(pointOutputs, into: joined)
        return joined
    }

    // Networks are reached through `any Network<Float>`: the specialisation makes that path run the
    // Float code with every layer inlined, instead of the generic one.
    @_specialize(where T == Float)
    public func forward(_ x: Tensor<T>, training: Bool) -> Tensor<T> {
        precondition(x.shape.count == 3 && x.shape[2] == 3, "PointNet expects [clouds, points, 3], got \(x.shape)")
        var h = x
        pointOutputs.removeAll(keepingCapacity: true)
        for i in 0 ..< 4 {
            let z = convs[i].forward(h, training: training)
            h = training ? relus[i].forward(norms[i].forward(z, training: true), training: true) : norms[i].forwardInference(z, then: relus[i])
            pointOutputs.append(h)
        }
        h = head.forward(h, training: training)
        globalFeature = h
        h = dropout.forward(relu6.forward(bn6.forward(linear1.forward(h, training: training), training: training), training: training), training: training)
        return linear2.forward(h, training: training)
    }

    @_specialize(where T == Float)
    public func backward(_ dy: Tensor<T>?, globalFeature dGlobal: Tensor<T>?, pointFeatures dPoints: Tensor<T>?) -> Tensor<T> {
        precondition(dy != nil || dGlobal != nil, "backward needs a gradient at the logits or at the global feature")
        var g: Tensor<T>
        if let dy {
            g = linear2.backward(dy)
            g = linear1.backward(bn6.backward(relu6.backward(dropout.backward(g))))
            if let dGlobal { for i in 0 ..< g.count { g[i] += dGlobal[i] } }
        } else {
            g = dGlobal!
        }
        g = head.backward(g)
        var offset = Self.pointWidths.reduce(0, +)
        for i in (0 ..< 4).reversed() {
            offset -= Self.pointWidths[i]
            if let dPoints { addChannelSlice(of: dPoints, offset: offset, to: g) }
            g = convs[i].backward(norms[i].backward(relus[i].backward(g)))
        }
        return g
    }
}
