import Engine
import Foundation
import Networks
import Support

/// Speed of a network on random clouds: the figures `pcdiag bench` reports (medians over repeats).
public struct NetworkBenchmark {
    public struct Result: Sendable {
        public var inferenceCloudsPerSecond: Double
        public var latencyMilliseconds: Double
        public var saliencyCloudsPerSecond: Double
        public var trainCloudsPerSecond: Double
        /// dnnl_sgemm's rate on the network's largest GEMM (its widest point layer at batch 16), GFLOP/s.
        public var gemmGFLOPs: Double
        /// Clouds per second if the forward pass ran at that rate (`forwardFLOPs` ÷ rate): the GEMM limit
        /// of inference. Saliency (forward + input gradient) and training (+ weight gradient) do 2× and
        /// 3× the forward's work in the dense formulation, so their limits are a half and a third of it.
        public var gemmLimitCloudsPerSecond: Double
        /// The forward pass's work per cloud (convolutions, linear layers, DGCNN's distance GEMMs), GFLOP.
        public var forwardGFLOPPerCloud: Double
        /// Peak resident memory of real `pcdiag classify` and `pcdiag train` runs, when asked for.
        public var peakMemory: PeakMemory.Result?
    }

    public var points = 1024
    public var batch = 16
    public var repeats = 5

    public init(points: Int = 1024, batch: Int = 16, repeats: Int = 5) {
        self.points = points
        self.batch = batch
        self.repeats = repeats
    }

    /// The median time of `repeats` calls after one warm-up call (which plans the buffers), in s.
    func median(_ body: () -> Void) -> Double {
        body()
        return Timing.median(repeats: repeats, body)
    }

    /// Times inference (batch and one cloud), saliency and training steps on random clouds, and the GEMM
    /// rate; with `peakMemory`, also runs pcdiag's `classify` and `train` in fresh processes
    /// (`PeakMemory`: only from the pcdiag executable), which is what can throw.
    public func run(_ architecture: Architecture, peakMemory: Bool = false) throws -> Result {
        var rng = SeededGenerator(seed: 1)
        let values = (0 ..< batch * points * 3).map { _ in Float.random(in: -1 ... 1, using: &rng) }
        let input = Tensor<Float>(shape: [batch, points, 3], values: values)
        let single = Tensor<Float>(shape: [1, points, 3], values: Array(values.prefix(points * 3)))
        let labels = (0 ..< batch).map { $0 % architecture.classes }
        let network = makeNetwork(architecture)
        let inference = median { _ = network.forward(input, training: false) }
        let latency = median { _ = network.forward(single, training: false) }
        let lossGrad = Tensor<Float>(shape: [0])
        let loss = SoftmaxCrossEntropy<Float>()
        network.computeParameterGradients(false)
        let saliency = median {
            let logits = network.forward(input, training: false)
            _ = loss(logits, labels: labels, gradient: lossGrad)
            _ = network.backward(lossGrad)
        }
        network.computeParameterGradients(true)
        var adam = Adam<Float>(learningRate: 1e-3, weightDecay: 1e-4)
        let train = median {
            let logits = network.forward(input, training: true)
            _ = loss(logits, labels: labels, gradient: lossGrad)
            _ = network.backward(lossGrad)
            adam.step(network.parameters)
        }
        let gemm = gemmRate(architecture)
        return Result(inferenceCloudsPerSecond: Double(batch) / inference, latencyMilliseconds: latency * 1000,
                      saliencyCloudsPerSecond: Double(batch) / saliency, trainCloudsPerSecond: Double(batch) / train,
                      gemmGFLOPs: gemm, gemmLimitCloudsPerSecond: gemm * 1e9 / architecture.forwardFLOPs(points: points),
                      forwardGFLOPPerCloud: architecture.forwardFLOPs(points: points) / 1e9,
                      peakMemory: peakMemory ? try PeakMemory(architecture: architecture).measure() : nil)
    }

    /// Median GFLOP/s of dnnl_sgemm on [batch × points, in] × [in, out] for the widest point layer
    /// (PointNet 128 → 1024, DGCNN 512 → 1024): the rate the benchmark's limits are measured against.
    func gemmRate(_ architecture: Architecture) -> Double {
        let (k, n): (Int, Int) = switch architecture {
        case .pointnet(_, let e, _): (128, e)
        case .dgcnn(_, _, let e, _): (512, e)
        }
        let m = batch * points
        var rng = SeededGenerator(seed: 2)
        let a = (0 ..< m * k).map { _ in Float.random(in: -1 ... 1, using: &rng) }
        let b = (0 ..< n * k).map { _ in Float.random(in: -1 ... 1, using: &rng) }
        var c = [Float](repeating: 0, count: m * n)
        let seconds = median {
            Float.gemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: k, beta: 0, c: &c, ldc: n)
        }
        return 2 * Double(m) * Double(n) * Double(k) / seconds / 1e9
    }
}
