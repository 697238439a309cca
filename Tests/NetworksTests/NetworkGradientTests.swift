import Engine
import EngineTestSupport
import Networks
import Support
import Testing

/// Whole networks: ∂logits/∂points (what saliency uses) and every parameter against finite differences.
@Suite struct NetworkGradientTests {
    static func points(clouds: Int, points: Int, seed: UInt64) -> Tensor<Double> {
        var rng = SeededGenerator(seed: seed)
        return Tensor(shape: [clouds, points, 3], values: (0 ..< clouds * points * 3).map { _ in Double.random(in: -1 ... 1, using: &rng) })
    }

    @Test(arguments: [true, false])
    func pointNet(training: Bool) {
        let net = PointNet<Double>(classes: 4, embedding: 32, dropout: 0.5, seed: 2)
        net.dropout.freezeMask = true
        let report = GradientCheck().check(net, input: Self.points(clouds: 3, points: 12, seed: 3), training: training)
        #expect(report.input < 1e-3, "\(report)")
        #expect(report.worst < 1e-3, "\(report)")
        #expect(report.parameters.count == 20, "5 convs, 6 BatchNorms × 2, 2 linears (one with bias)")
    }

    @Test func pointNetHasTheReferenceNamesAndShapes() {
        let net = PointNet<Float>(classes: 10)
        let shapes = Dictionary(uniqueKeysWithValues: net.stateTensors.map { ($0.name, $0.value.shape) })
        #expect(shapes["conv1.weight"] == [64, 3, 1])
        #expect(shapes["conv5.weight"] == [1024, 128, 1])
        #expect(shapes["bn5.running_var"] == [1024])
        #expect(shapes["linear1.weight"] == [512, 1024])
        #expect(shapes["linear2.weight"] == [10, 512] && shapes["linear2.bias"] == [10])
        #expect(shapes.count == 5 + 6 * 4 + 1 + 2)
    }
}

@Suite struct DGCNNTests {
    @Test(arguments: [true, false])
    func gradients(training: Bool) {
        let net = DGCNN<Double>(classes: 3, k: 4, embedding: 16, dropout: 0.5, seed: 5)
        net.freezeDropout()
        let report = GradientCheck(entriesPerTensor: 24).check(net, input: NetworkGradientTests.points(clouds: 3, points: 10, seed: 6), training: training)
        #expect(report.input < 1e-3, "\(report)")
        #expect(report.worst < 1e-3, "\(report)")
        #expect(report.parameters.count == 24, "4 EdgeConvs × 3, conv5 + bn5, linear1 + bn6, linear2 (bias) + bn7, linear3 (bias)")
    }

    @Test func referenceNamesAndShapes() {
        let net = DGCNN<Float>(classes: 10)
        let shapes = Dictionary(uniqueKeysWithValues: net.stateTensors.map { ($0.name, $0.value.shape) })
        #expect(shapes["conv1.weight"] == [64, 6, 1, 1])
        #expect(shapes["conv2.weight"] == [64, 128, 1, 1])
        #expect(shapes["conv4.weight"] == [256, 256, 1, 1])
        #expect(shapes["conv5.weight"] == [1024, 512, 1])
        #expect(shapes["linear1.weight"] == [512, 2048])
        #expect(shapes["linear3.weight"] == [10, 256] && shapes["bn7.running_var"] == [256])
    }
}

/// The FLOP counts the benchmark's GEMM limits rest on, against a count made from the networks'
/// own weights: every point layer costs points × (its weight's size) multiply-adds — for an EdgeConv,
/// whose weight is [out, 2C], that is its two per-point products — every linear layer its weight's
/// size, and each DGCNN block a points² × C distance GEMM.
@Suite struct FLOPCountTests {
    static func countedFromWeights(_ network: any Network<Float>, points n: Double, blockInputs: [Double] = []) -> Double {
        var macs = blockInputs.reduce(0) { $0 + n * n * $1 }
        for p in network.parameters where p.name.hasSuffix(".weight") && !p.name.hasPrefix("bn") {
            let size = Double(p.value.count)
            macs += p.name.hasPrefix("conv") ? n * size : size
        }
        return 2 * macs
    }

    @Test(arguments: [512, 1024])
    func forwardFLOPs(points: Int) {
        let pointnet = Architecture.pointnet(classes: 10)
        #expect(pointnet.forwardFLOPs(points: points) == Self.countedFromWeights(PointNet<Float>(classes: 10), points: Double(points)))
        let dgcnn = Architecture.dgcnn(classes: 10)
        #expect(dgcnn.forwardFLOPs(points: points)
                == Self.countedFromWeights(DGCNN<Float>(classes: 10), points: Double(points), blockInputs: [3, 64, 64, 128]))
    }
}

/// Saliency's input-gradient-only backward: the same ∂L/∂points, weight gradients left untouched.
@Suite struct InputGradientOnlyTests {
    @Test(arguments: ["pointnet", "dgcnn"])
    func sameInputGradientWithoutWeightGradients(arch: String) {
        let network: any Network<Float> = arch == "pointnet" ? PointNet<Float>(classes: 4, embedding: 64, seed: 2)
                                                             : DGCNN<Float>(classes: 4, k: 5, embedding: 64, seed: 2)
        var rng = SeededGenerator(seed: 3)
        let x = Tensor<Float>(shape: [2, 32, 3], values: (0 ..< 192).map { _ in Float.random(in: -1 ... 1, using: &rng) })
        let dy = Tensor<Float>(shape: [2, 4], values: [1, -1, 0.5, 0, 0, 2, -1, 1])
        _ = network.forward(x, training: false)
        let full = network.backward(dy).array
        let weights = network.parameters.filter { $0.name.hasSuffix("weight") && !$0.name.hasPrefix("bn") }
        #expect(weights.contains { p in p.grad.array.contains { $0 != 0 } })
        for p in weights { p.grad.fill(7) }
        network.computeParameterGradients(false)
        _ = network.forward(x, training: false)
        #expect(network.backward(dy).array == full)
        #expect(weights.allSatisfy { p in p.grad.array.allSatisfy { $0 == 7 } })
    }
}
