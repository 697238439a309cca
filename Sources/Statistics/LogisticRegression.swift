import Foundation

/// Binary logistic regression on a few (up to tens of) features, standardised internally:
/// P(positive | x) = σ(b + Σⱼ wⱼ (xⱼ − μⱼ)/sⱼ), σ(z) = 1/(1 + e^{−z}).
public struct LogisticModel: Codable, Sendable, Equatable {
    /// μ: the sample-weighted mean of each training feature.
    public var means: [Double]
    /// s: the sample-weighted population standard deviation of each training feature; 1 for a
    /// feature constant over the training samples (its weight then meets only the penalty: 0).
    public var scales: [Double]
    /// w: one weight per standardised feature.
    public var weights: [Double]
    /// b.
    public var intercept: Double

    /// P(positive | x) ∈ [0, 1]; NaN when x holds NaN.
    ///
    /// - Precondition: one value per feature.
    public func probability(_ x: [Double]) -> Double {
        precondition(x.count == weights.count, "\(x.count) features for a model of \(weights.count)")
        var z = intercept
        for j in x.indices { z += weights[j] * (x[j] - means[j]) / scales[j] }
        return sigmoid(z)
    }

    /// The minimiser of the penalised mean log-loss over the standardised features x̃,
    ///
    ///     (1/S) Σᵢ sᵢ [log(1 + e^{zᵢ}) − yᵢ zᵢ] + (λ/2) ‖w‖²,   zᵢ = b + w·x̃ᵢ,  S = Σᵢ sᵢ,
    ///
    /// the intercept unpenalised; this is scikit-learn's `LogisticRegression(C: 1/(λS))` on the same
    /// standardised features. With λ > 0 and both classes present the minimiser exists and is unique,
    /// separable data included. Integer sample weights act as duplicated samples, in the
    /// standardisation too: weight 1/(class frequency) balances the classes.
    ///
    /// With `nonNegativeWeights`, the minimiser over w ≥ 0 (b free): a score that never falls as a
    /// feature rises, so a feature can only count for the positive class, as its meaning says.
    ///
    /// Found by Newton's method (IRLS) from zero, solving the system by Cholesky, with backtracking
    /// while far from the optimum — projected Newton under the constraint; stops once the (projected)
    /// Newton step's Euclidean norm is at most `tolerance`, after taking it.
    ///
    /// - Parameters:
    ///   - features: n rows of p finite values.
    ///   - labels: n labels, true for the positive class.
    ///   - l2: λ > 0, on the standardised weights.
    ///   - sampleWeights: n finite weights ≥ 0, not all 0; all 1 when nil.
    ///   - nonNegativeWeights: constrain every wⱼ ≥ 0.
    /// - Throws: `FitError` for empty or inconsistent input, NaN or infinite features, a single
    ///   class, or no convergence within `maxIterations`.
    /// - Complexity: O(n p²) per iteration; typically under ten iterations.
    public static func fit(features: [[Double]], labels: [Bool], l2: Double = 1e-2,
                           sampleWeights: [Double]? = nil, nonNegativeWeights: Bool = false, maxIterations: Int = 100,
                           tolerance: Double = 1e-8) throws(FitError) -> LogisticModel {
        let n = features.count
        guard n > 0 else { throw .noSamples }
        let p = features[0].count
        guard labels.count == n else { throw .countMismatch("\(labels.count) labels for \(n) samples") }
        let weights = sampleWeights ?? Array(repeating: 1, count: n)
        guard weights.count == n else { throw .countMismatch("\(weights.count) sample weights for \(n) samples") }
        for (i, row) in features.enumerated() {
            guard row.count == p else { throw .countMismatch("sample \(i) has \(row.count) features, sample 0 has \(p)") }
            if let j = row.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteFeature(sample: i, feature: j) }
        }
        if let i = weights.firstIndex(where: { !($0.isFinite && $0 >= 0) }) { throw .invalidSampleWeight(sample: i) }
        guard l2 > 0, l2.isFinite else { throw .invalidPenalty(l2) }
        // Without both classes the intercept would run off to infinity.
        let positiveWeight = zip(weights, labels).reduce(0) { $0 + ($1.1 ? $1.0 : 0) }
        let negativeWeight = zip(weights, labels).reduce(0) { $0 + ($1.1 ? 0 : $1.0) }
        guard positiveWeight > 0, negativeWeight > 0 else { throw .oneClass }
        let share = weights.map { $0 / (positiveWeight + negativeWeight) }

        var means = [Double](repeating: 0, count: p), scales = [Double](repeating: 1, count: p)
        for j in 0 ..< p {
            let column = features.map { $0[j] }
            let mean = zip(share, column).reduce(0) { $0 + $1.0 * $1.1 }
            let variance = zip(share, column).reduce(0) { $0 + $1.0 * ($1.1 - mean) * ($1.1 - mean) }
            means[j] = mean
            // Constancy is tested on the values: a constant feature's variance is rounding noise,
            // which as a scale would blow that noise up to order 1.
            let used = zip(weights, column).filter { $0.0 > 0 }.map(\.1)
            if used.min() != used.max(), variance > 0 { scales[j] = variance.squareRoot() }
        }
        // Design rows [1, x̃₁, …, x̃ₚ], row-major; θ = [b, w₁, …, wₚ].
        let d = p + 1
        var design = [Double](repeating: 1, count: n * d)
        for i in 0 ..< n {
            for j in 0 ..< p { design[i * d + 1 + j] = (features[i][j] - means[j]) / scales[j] }
        }
        func margin(_ i: Int, _ theta: [Double]) -> Double {
            (0 ..< d).reduce(0) { $0 + design[i * d + $1] * theta[$1] }
        }
        func objective(_ theta: [Double]) -> Double {
            let loss = (0 ..< n).reduce(0) { sum, i in
                let z = margin(i, theta)
                return sum + share[i] * (softplus(z) - (labels[i] ? z : 0))
            }
            return loss + l2 / 2 * theta.dropFirst().reduce(0) { $0 + $1 * $1 }
        }

        // Projected Newton (Bertsekas 1982): weights at (or within ε of) zero whose gradient pushes them
        // below it are held there; the rest take a Newton step on their block of the Hessian; the result
        // is clamped to w ≥ 0. Without the constraint nothing is ever held or clamped: plain Newton.
        func projected(_ theta: [Double]) -> [Double] {
            nonNegativeWeights ? theta.enumerated().map { $0 == 0 ? $1 : max($1, 0) } : theta
        }
        var theta = [Double](repeating: 0, count: d)
        for _ in 0 ..< maxIterations {
            var gradient = [Double](repeating: 0, count: d), hessian = [Double](repeating: 0, count: d * d)
            for i in 0 ..< n {
                let probability = sigmoid(margin(i, theta))
                let residual = share[i] * (probability - (labels[i] ? 1 : 0))
                let curvature = share[i] * probability * (1 - probability)
                for a in 0 ..< d {
                    gradient[a] += residual * design[i * d + a]
                    for b in 0 ... a { hessian[a * d + b] += curvature * design[i * d + a] * design[i * d + b] }
                }
            }
            for j in 1 ..< d {
                gradient[j] += l2 * theta[j]
                hessian[j * d + j] += l2
            }
            // ε shrinks with the distance to optimality, so that near the optimum exactly the weights
            // held at zero by their gradient are held.
            let epsilon = min(1e-6, distance(theta, projected(zip(theta, gradient).map { $0 - $1 })))
            let held = (0 ..< d).map { nonNegativeWeights && $0 > 0 && theta[$0] <= epsilon && gradient[$0] > 0 }
            let free = (0 ..< d).filter { !held[$0] }
            // The free block of the lower triangle: `free` ascends, so its lower triangle is H's.
            let block = free.flatMap { a in free.map { b in hessian[a * d + b] } }
            guard let newton = choleskySolve(lower: block, free.map { gradient[$0] }, dimension: free.count) else { throw .didNotConverge }
            // A held weight moves along its gradient, which the clamp turns into: to zero.
            var step = gradient
            for (k, a) in free.enumerated() { step[a] = newton[k] }
            // The decrease the step promises at length t (Bertsekas' Armijo rule): t gᵀH⁻¹g on the free
            // block, the gradient times the actual move on the held weights. At full length on the free
            // block gᵀH⁻¹g is twice the quadratic model's decrease; below 1e-8 Newton is in its quadratic
            // phase and the full step is taken: a line search there would compare objectives differing
            // by rounding noise only.
            let decrement = free.reduce(0) { $0 + gradient[$1] * step[$1] }
            func promised(_ t: Double, _ next: [Double]) -> Double {
                t * decrement + (0 ..< d).filter { held[$0] }.reduce(0) { $0 + gradient[$1] * (theta[$1] - next[$1]) }
            }
            var t = 1.0
            var next = projected(zip(theta, step).map { $0 - $1 })
            let length = distance(theta, next)
            if decrement > 1e-8 {
                let current = objective(theta)
                // Convex objective, descent direction: this ends.
                while objective(next) > current - promised(t, next) / 4 {
                    t /= 2
                    guard t > 1e-10 else { throw .didNotConverge }
                    next = projected(zip(theta, step).map { $0 - t * $1 })
                }
            }
            theta = next
            if length <= tolerance {
                return LogisticModel(means: means, scales: scales, weights: Array(theta.dropFirst()), intercept: theta[0])
            }
        }
        throw .didNotConverge
    }

    /// Why `fit` refused, with what to do about it.
    public enum FitError: Error, Equatable, CustomStringConvertible {
        case noSamples
        case countMismatch(String)
        case nonFiniteFeature(sample: Int, feature: Int)
        case invalidSampleWeight(sample: Int)
        case invalidPenalty(Double)
        case oneClass
        case didNotConverge

        public var description: String {
            switch self {
            case .noSamples: "no training samples"
            case .countMismatch(let what): "\(what): give one label, one weight and the same features for every sample"
            case .nonFiniteFeature(let i, let j): "feature \(j) of sample \(i) is NaN or infinite: drop or impute it"
            case .invalidSampleWeight(let i): "the weight of sample \(i) is negative, NaN or infinite"
            case .invalidPenalty(let l2): "the L2 penalty must be finite and > 0, got \(l2)"
            case .oneClass: "every sample with a positive weight has the same label: both classes are needed"
            case .didNotConverge: "Newton's method did not converge: raise the L2 penalty or the iteration limit"
            }
        }
    }
}

private func distance(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
}

private func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }

/// log(1 + eᶻ) without overflow for large z.
private func softplus(_ z: Double) -> Double { max(z, 0) + log1p(exp(-abs(z))) }

/// x with H x = g, from the lower triangle of the symmetric d×d matrix H (row-major); nil when H is
/// not numerically positive definite.
private func choleskySolve(lower h: [Double], _ g: [Double], dimension d: Int) -> [Double]? {
    var l = [Double](repeating: 0, count: d * d)
    for i in 0 ..< d {
        for j in 0 ... i {
            let sum = (0 ..< j).reduce(h[i * d + j]) { $0 - l[i * d + $1] * l[j * d + $1] }
            if i == j {
                guard sum > 0 else { return nil }
                l[i * d + i] = sum.squareRoot()
            } else {
                l[i * d + j] = sum / l[j * d + j]
            }
        }
    }
    var x = g
    for i in 0 ..< d { x[i] = (0 ..< i).reduce(x[i]) { $0 - l[i * d + $1] * x[$1] } / l[i * d + i] }
    for i in (0 ..< d).reversed() { x[i] = (i + 1 ..< d).reduce(x[i]) { $0 - l[$1 * d + i] * x[$1] } / l[i * d + i] }
    return x
}
