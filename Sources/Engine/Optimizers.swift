import Foundation

/// Updates parameters from their gradients. `learningRate` may change between steps (schedules).
public protocol Optimizer {
    associatedtype Scalar: EngineScalar
    var learningRate: Double { get set }
    mutating func step(_ parameters: [Parameter<Scalar>])
}

/// SGD with momentum and L2 weight decay (PyTorch `SGD`).
public struct SGD<T: EngineScalar>: Optimizer {
    public var learningRate: Double
    public var momentum: Double
    public var weightDecay: Double

    public init(learningRate: Double, momentum: Double = 0.9, weightDecay: Double = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    @inlinable
    public mutating func step(_ parameters: [Parameter<T>]) {
        let lr = T(learningRate), mu = T(momentum), wd = T(weightDecay)
        for p in parameters {
            if p.state.isEmpty { p.state = [Tensor(shape: p.value.shape)] }
            let v = p.state[0].pointer, w = p.value.pointer, g = p.grad.pointer
            for i in 0 ..< p.value.count {
                let grad = g[i] + wd * w[i]
                v[i] = mu * v[i] + grad
                w[i] -= lr * v[i]
            }
        }
    }
}

/// Adam (PyTorch `Adam`, L2 decay added to the gradient) or, with `decoupled`, AdamW (decay applied
/// to the weights directly).
public struct Adam<T: EngineScalar>: Optimizer {
    public var learningRate: Double
    public var beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
    public var weightDecay: Double
    public var decoupled: Bool
    /// Steps taken: bias correction depends on it, so a resumed run restores it.
    public var steps = 0

    public init(learningRate: Double, weightDecay: Double = 0, decoupled: Bool = false) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.decoupled = decoupled
    }

    public static func adamW(learningRate: Double, weightDecay: Double = 0.01) -> Adam {
        Adam(learningRate: learningRate, weightDecay: weightDecay, decoupled: true)
    }

    @inlinable
    public mutating func step(_ parameters: [Parameter<T>]) {
        steps += 1
        let b1 = T(beta1), b2 = T(beta2), eps = T(epsilon), wd = T(weightDecay), lr = T(learningRate)
        let c1 = T(1 - Foundation.pow(beta1, Double(steps))), c2 = T(1 - Foundation.pow(beta2, Double(steps)))
        let decoupled = decoupled
        for p in parameters {
            if p.state.isEmpty { p.state = [Tensor(shape: p.value.shape), Tensor(shape: p.value.shape)] }
            let m = p.state[0].pointer, v = p.state[1].pointer, w = p.value.pointer, g = p.grad.pointer
            for i in 0 ..< p.value.count {
                var grad = g[i]
                if decoupled { w[i] -= lr * wd * w[i] } else { grad += wd * w[i] }
                m[i] = b1 * m[i] + (1 - b1) * grad
                v[i] = b2 * v[i] + (1 - b2) * grad * grad
                w[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + eps)
            }
        }
    }

    /// Restores the step count when training resumes from a checkpoint.
    public mutating func resume(atStep step: Int) { steps = step }
}

/// Cosine annealing from `base` to `minimum` over `epochs` (PyTorch `CosineAnnealingLR`, stepped per epoch).
public struct CosineSchedule: Sendable {
    public var base: Double, minimum: Double, epochs: Int

    public init(base: Double, minimum: Double = 0, epochs: Int) {
        self.base = base
        self.minimum = minimum
        self.epochs = max(epochs, 1)
    }

    public func rate(epoch: Int) -> Double {
        minimum + (base - minimum) * (1 + cos(Double.pi * Double(min(epoch, epochs)) / Double(epochs))) / 2
    }
}
