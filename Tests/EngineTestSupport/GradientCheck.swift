import Engine
import Support

/// Checks a module's `backward` against central finite differences, in Double.
///
/// The scalar checked is L = Σ wᵢ yᵢ with fixed random weights w, so ∂L/∂y = w. Every input value and
/// parameter value is perturbed by ±`step` (at most `entriesPerTensor` entries of a tensor, drawn at
/// random, so whole networks stay affordable); the error of a gradient is
/// ‖analytic − numeric‖₂ / max(‖analytic‖₂, ‖numeric‖₂, `floor`), reported per tensor. The floor
/// keeps gradients that are truly zero (a bias followed by batch normalisation) from comparing two
/// rounding noises.
public struct GradientCheck {
    public struct Report: CustomStringConvertible {
        /// Relative error of ∂L/∂input and of each parameter's gradient, by parameter name.
        public var input: Double
        public var parameters: [String: Double]
        public var worst: Double { max(input, parameters.values.max() ?? 0) }
        public var description: String {
            "input \(input)" + parameters.sorted { $0.key < $1.key }.map { ", \($0.key) \($0.value)" }.joined()
        }
    }

    public var step: Double
    public var seed: UInt64
    public var entriesPerTensor: Int
    public var floor: Double

    public init(step: Double = 1e-6, seed: UInt64 = 1, entriesPerTensor: Int = 48, floor: Double = 1e-4) {
        self.step = step
        self.seed = seed
        self.entriesPerTensor = entriesPerTensor
        self.floor = floor
    }

    public func check<M: Module>(_ module: M, input: Tensor<Double>, training: Bool) -> Report where M.Scalar == Double {
        var rng = SeededGenerator(seed: seed)
        let y0 = module.forward(input, training: training)
        let weights = Tensor<Double>(shape: y0.shape, values: (0 ..< y0.count).map { _ in Double.random(in: -1 ... 1, using: &rng) })
        let analyticInput = module.backward(weights).array
        let analyticParams = module.parameters.map { $0.grad.array }

        func loss() -> Double {
            let y = module.forward(input, training: training)
            return (0 ..< y.count).reduce(0) { $0 + y[$1] * weights[$1] }
        }
        func entries(_ count: Int) -> [Int] {
            count <= entriesPerTensor ? Array(0 ..< count)
                : Array((0 ..< count).shuffled(using: &rng).prefix(entriesPerTensor)).sorted()
        }
        func numeric(_ t: Tensor<Double>, at indices: [Int]) -> [Double] {
            indices.map { i in
                let saved = t[i]
                t[i] = saved + step
                let plus = loss()
                t[i] = saved - step
                let minus = loss()
                t[i] = saved
                return (plus - minus) / (2 * step)
            }
        }
        let inputEntries = entries(input.count)
        var report = Report(input: Self.relativeError(inputEntries.map { analyticInput[$0] }, numeric(input, at: inputEntries), floor: floor),
                            parameters: [:])
        for (p, analytic) in zip(module.parameters, analyticParams) {
            let chosen = entries(p.value.count)
            report.parameters[p.name] = Self.relativeError(chosen.map { analytic[$0] }, numeric(p.value, at: chosen), floor: floor)
        }
        return report
    }

    public static func relativeError(_ a: [Double], _ b: [Double], floor: Double = 1e-6) -> Double {
        precondition(a.count == b.count)
        let diff = zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        let scale = max(a.reduce(0) { $0 + $1 * $1 }.squareRoot(), b.reduce(0) { $0 + $1 * $1 }.squareRoot(), floor)
        return diff / scale
    }
}
