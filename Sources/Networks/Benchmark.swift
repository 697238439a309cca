import Engine
import Foundation
import Support

/// Speed of a network on random clouds: the figures `pcdiag bench` reports (medians over repeats).
public struct NetworkBenchmark {
    public struct Result: Sendable {
        public var inferenceCloudsPerSecond: Double
        public var latencyMilliseconds: Double
        public var saliencyCloudsPerSecond: Double
        public var trainCloudsPerSecond: Double
    }

    public var points = 1024
    public var batch = 16
    public var repeats = 5

    public init(points: Int = 1024, batch: Int = 16, repeats: Int = 5) {
        self.points = points
        self.batch = batch
        self.repeats = repeats
    }

    /// Times `body` `repeats` times after one warm-up call (which plans the buffers); the median, in s.
    func median(_ body: () -> Void) -> Double {
        body()
        let times = (0 ..< repeats).map { _ -> Double in
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }.sorted()
        return times[times.count / 2]
    }

    public func run(_ architecture: Architecture) -> Result {
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
        let saliency = median {
            let logits = network.forward(input, training: false)
            _ = loss(logits, labels: labels, gradient: lossGrad)
            _ = network.backward(lossGrad)
        }
        var adam = Adam<Float>(learningRate: 1e-3, weightDecay: 1e-4)
        let train = median {
            let logits = network.forward(input, training: true)
            _ = loss(logits, labels: labels, gradient: lossGrad)
            _ = network.backward(lossGrad)
            adam.step(network.parameters)
        }
        return Result(inferenceCloudsPerSecond: Double(batch) / inference, latencyMilliseconds: latency * 1000,
                      saliencyCloudsPerSecond: Double(batch) / saliency, trainCloudsPerSecond: Double(batch) / train)
    }
}
