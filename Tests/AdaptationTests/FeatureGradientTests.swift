import Engine
import EngineTestSupport
import Networks
import Support
import Testing

/// Gradients entering a network at its global and point features (what the self-supervised heads
/// send back), with and without the logits, against finite differences.
final class FeatureOutputs<N: Network>: Module where N.Scalar == Double {
    let net: N
    let withLogits: Bool
    let out = Tensor<Double>(shape: [0])
    var shapes = [[Int]]()

    init(_ net: N, withLogits: Bool) {
        self.net = net
        self.withLogits = withLogits
    }

    /// Without logits the classifier is outside the loss and its gradients are not set: not checked.
    var parameters: [Parameter<Double>] {
        net.parameters.filter { withLogits || !($0.name.hasPrefix("linear") || $0.name.hasPrefix("bn6") || $0.name.hasPrefix("bn7")) }
    }

    func forward(_ x: Tensor<Double>, training: Bool) -> Tensor<Double> {
        let logits = net.forward(x, training: training)
        let parts = (withLogits ? [logits] : []) + [net.globalFeature, net.pointFeatures]
        shapes = parts.map(\.shape)
        let values = parts.flatMap(\.array)
        out.resize([values.count])
        for i in values.indices { out[i] = values[i] }
        return out
    }

    func backward(_ dy: Tensor<Double>) -> Tensor<Double> {
        var offset = 0
        let parts = shapes.map { shape in
            let n = shape.reduce(1, *)
            defer { offset += n }
            return Tensor(shape: shape, values: Array(dy.array[offset ..< offset + n]))
        }
        return withLogits ? net.backward(parts[0], globalFeature: parts[1], pointFeatures: parts[2])
            : net.backward(nil, globalFeature: parts[0], pointFeatures: parts[1])
    }
}

@Suite struct FeatureGradientTests {
    static func points(seed: UInt64) -> Tensor<Double> {
        var rng = SeededGenerator(seed: seed)
        return Tensor(shape: [3, 10, 3], values: (0 ..< 90).map { _ in Double.random(in: -1 ... 1, using: &rng) })
    }

    @Test(arguments: [true, false])
    func pointNet(withLogits: Bool) {
        let net = PointNet<Double>(classes: 3, embedding: 16, dropout: 0.5, seed: 2)
        net.dropout.freezeMask = true
        let wrapped = FeatureOutputs(net, withLogits: withLogits)
        let report = GradientCheck(entriesPerTensor: 24).check(wrapped, input: Self.points(seed: 8), training: true)
        #expect(report.worst < 1e-3, "\(report)")
        #expect(net.pointFeatures.shape == [3, 10, net.architecture.pointFeatureChannels])
        #expect(net.globalFeature.shape == [3, net.architecture.globalFeatureChannels])
    }

    @Test(arguments: [true, false])
    func dgcnn(withLogits: Bool) {
        let net = DGCNN<Double>(classes: 3, k: 4, embedding: 16, dropout: 0.5, seed: 5)
        net.freezeDropout()
        let wrapped = FeatureOutputs(net, withLogits: withLogits)
        let report = GradientCheck(entriesPerTensor: 16).check(wrapped, input: Self.points(seed: 9), training: true)
        #expect(report.worst < 1e-3, "\(report)")
        #expect(net.pointFeatures.shape == [3, 10, net.architecture.pointFeatureChannels])
        #expect(net.globalFeature.shape == [3, net.architecture.globalFeatureChannels])
    }
}
