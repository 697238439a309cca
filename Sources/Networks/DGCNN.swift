import Engine

/// DGCNN (Wang et al. 2019) as in the reference PyTorch implementation: four EdgeConv blocks
/// (6→64, 128→64, 128→128, 256→256, k nearest neighbours recomputed in each block's input space),
/// their outputs concatenated (512) → 1×1 conv to E + BatchNorm + LeakyReLU → max and mean pooling
/// (2E) → linear 512 (no bias) + BatchNorm + LeakyReLU + dropout → linear 256 + BatchNorm + LeakyReLU
/// + dropout → linear classes. Names and shapes as PyTorch's state dict (`conv1.weight` [64, 6, 1, 1]
/// or its alias `conv1.0.weight`, `bn1.*` … `bn7.*`, `linear1..3.*`).
public final class DGCNN<T: EngineScalar>: Network {
    public let architecture: Architecture
    public let edges: [EdgeConv<T>]
    public let conv5: Dense<T>, bn5: BatchNorm<T>
    /// conv5 → bn5 → LeakyReLU → max and mean pool in one module (the parameters of conv5 and bn5).
    public let head: ConvNormActivationPool<T>
    public let linear1: Dense<T>, bn6: BatchNorm<T>, act6 = Activation<T>(leakySlope: 0.2), dropout1: Dropout<T>
    public let linear2: Dense<T>, bn7: BatchNorm<T>, act7 = Activation<T>(leakySlope: 0.2), dropout2: Dropout<T>
    public let linear3: Dense<T>
    let joined = Tensor<T>(shape: [0])
    let blockGrads = (0 ..< 4).map { _ in Tensor<T>(shape: [0]) }
    let widths = [64, 64, 128, 256]

    public init(classes: Int, k: Int = 20, embedding: Int = 1024, dropout p: Double = 0.5, seed: UInt64? = 0) {
        architecture = .dgcnn(classes: classes, k: k, embedding: embedding, dropout: p)
        let ins = [3, 64, 64, 128]
        edges = (0 ..< 4).map { EdgeConv($0 + 1, inputs: ins[$0], outputs: [64, 64, 128, 256][$0], k: k, seed: seed) }
        conv5 = Dense("conv5", inputs: 512, outputs: embedding, bias: false, storedShape: [embedding, 512, 1], seed: seed)
        bn5 = BatchNorm("bn5", channels: embedding)
        head = ConvNormActivationPool(conv: conv5, norm: bn5, slope: 0.2)
        linear1 = Dense("linear1", inputs: 2 * embedding, outputs: 512, bias: false, seed: seed)
        bn6 = BatchNorm("bn6", channels: 512)
        dropout1 = Dropout(p: p, seed: (seed ?? 0) &+ 1)
        linear2 = Dense("linear2", inputs: 512, outputs: 256, bias: true, seed: seed)
        bn7 = BatchNorm("bn7", channels: 256)
        dropout2 = Dropout(p: p, seed: (seed ?? 0) &+ 2)
        linear3 = Dense("linear3", inputs: 256, outputs: classes, bias: true, seed: seed)
    }

    public var modules: [any Module<T>] { edges + [conv5, bn5, linear1, bn6, linear2, bn7, linear3] }
    public var dropouts: [Dropout<T>] { [dropout1, dropout2] }
    public private(set) var globalFeature = Tensor<T>(shape: [0])
    public var pointFeatures: Tensor<T> { joined }

    /// Fixes the dropout masks (gradient checks).
    public func freezeDropout() {
        dropout1.freezeMask = true
        dropout2.freezeMask = true
    }

    @_specialize(where T == Float)
    public func forward(_ x: Tensor<T>, training: Bool) -> Tensor<T> {
        precondition(x.shape.count == 3 && x.shape[2] == 3, "DGCNN expects [clouds, points, 3], got \(x.shape)")
        var features = [Tensor<T>]()
        var h = x
        for edge in edges {
            h = edge.forward(h, training: training)
            features.append(h)
        }
        concatenateChannels(features, into: joined)
        h = head.forward(joined, training: training)
        globalFeature = h
        h = dropout1.forward(act6.forward(bn6.forward(linear1.forward(h, training: training), training: training), training: training), training: training)
        h = dropout2.forward(act7.forward(bn7.forward(linear2.forward(h, training: training), training: training), training: training), training: training)
        return linear3.forward(h, training: training)
    }

    @_specialize(where T == Float)
    public func backward(_ dy: Tensor<T>?, globalFeature dGlobal: Tensor<T>?, pointFeatures dPoints: Tensor<T>?) -> Tensor<T> {
        precondition(dy != nil || dGlobal != nil, "backward needs a gradient at the logits or at the global feature")
        var dPooled: Tensor<T>
        if let dy {
            var g = linear3.backward(dy)
            g = linear2.backward(bn7.backward(act7.backward(dropout2.backward(g))))
            dPooled = linear1.backward(bn6.backward(act6.backward(dropout1.backward(g))))
            if let dGlobal { for i in 0 ..< dPooled.count { dPooled[i] += dGlobal[i] } }
        } else {
            dPooled = dGlobal!
        }
        let dJoined = head.backward(dPooled)
        if let dPoints { addChannelSlice(of: dPoints, offset: 0, to: dJoined) }
        // Each block's output feeds the concatenation and the next block: its gradient is the sum.
        var offsets = [0]
        for w in widths.dropLast() { offsets.append(offsets.last! + w) }
        var carried: Tensor<T>? = nil
        for b in (0 ..< 4).reversed() {
            let part = blockGrads[b]
            channelSlice(dJoined, offset: offsets[b], width: widths[b], into: part)
            if let carried { for i in 0 ..< part.count { part[i] += carried[i] } }
            carried = edges[b].backward(part)
        }
        return carried!
    }
}
