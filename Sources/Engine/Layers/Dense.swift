import Support

/// A fully connected layer applied to every row: y = x Wᵀ (+ b). Serves as PyTorch `Linear` and as the
/// 1×1 `Conv1d`/`Conv2d` of point networks (weights [out, in] plus trailing 1s in the stored shape).
///
/// Input [..., in] → output [..., out]. Cost: 2 · rows · in · out FLOPs forward, twice that backward.
public final class Dense<T: EngineScalar>: Module, ParameterGradientsOptional {
    public let weight: Parameter<T>
    public var computesParameterGradients = true
    public let bias: Parameter<T>?
    public let inputs: Int, outputs: Int
    @usableFromInline var input: Tensor<T>?
    @usableFromInline let output = Tensor<T>(shape: [0])
    @usableFromInline let inputGrad = Tensor<T>(shape: [0])

    /// `name` prefixes the parameter names (`conv1` → `conv1.weight`); `storedShape` is the weight's
    /// shape in the state dict (e.g. [out, in, 1] for Conv1d). Weights start Kaiming-uniform like PyTorch,
    /// drawn from `seed`; with no seed they start at zero, for weights that are about to be loaded.
    public init(_ name: String, inputs: Int, outputs: Int, bias: Bool, storedShape: [Int]? = nil,
                seed: UInt64? = 0) {
        self.inputs = inputs
        self.outputs = outputs
        var rng = SeededGenerator(seed: (seed ?? 0) ^ UInt64(truncatingIfNeeded: FNV1a.hash(name)))
        let bound = 1 / Double(inputs).squareRoot()
        weight = Parameter(name: name + ".weight", shape: storedShape ?? [outputs, inputs],
                           values: initialWeights(inputs * outputs, bound: bound, drawing: seed != nil, using: &rng))
        self.bias = bias
            ? Parameter(name: name + ".bias", shape: [outputs], values: initialWeights(outputs, bound: bound, drawing: seed != nil, using: &rng))
            : nil
    }

    public var parameters: [Parameter<T>] { [weight] + (bias.map { [$0] } ?? []) }

    @inlinable
    public func forward(_ x: Tensor<T>, training: Bool) -> Tensor<T> {
        precondition(x.channels == inputs, "Dense expects \(inputs) channels, got \(x.shape)")
        input = x
        output.resize(Array(x.shape.dropLast()) + [outputs])
        let rows = x.rows
        T.gemm(transA: false, transB: true, m: rows, n: outputs, k: inputs, alpha: 1, a: x.pointer, lda: inputs,
               b: weight.value.pointer, ldb: inputs, beta: 0, c: output.pointer, ldc: outputs)
        if let bias {
            let y = output.pointer, b = bias.value.pointer, n = outputs
            parallelRanges(rows, grain: 1024) { range in
                for r in range { for c in 0 ..< n { y[r * n + c] += b[c] } }
            }
        }
        return output
    }

    @inlinable
    public func backward(_ dy: Tensor<T>) -> Tensor<T> {
        guard let x = input else { preconditionFailure("Dense.backward before forward") }
        let rows = x.rows
        // ∂W = dyᵀ x, ∂x = dy W, ∂b = Σ_rows dy.
        if computesParameterGradients {
            T.gemm(transA: true, transB: false, m: outputs, n: inputs, k: rows, alpha: 1, a: dy.pointer, lda: outputs,
                   b: x.pointer, ldb: inputs, beta: 0, c: weight.grad.pointer, ldc: inputs)
            if let bias { columnSums(dy, into: bias.grad) }
        }
        inputGrad.resize(x.shape)
        T.gemm(transA: false, transB: false, m: rows, n: inputs, k: outputs, alpha: 1, a: dy.pointer, lda: outputs,
               b: weight.value.pointer, ldb: inputs, beta: 0, c: inputGrad.pointer, ldc: inputs)
        return inputGrad
    }
}

/// `count` draws from U[−bound, bound] (Kaiming-uniform bounds, as PyTorch initialises), in that order,
/// or `count` zeros when not `drawing` (weights a model file is about to overwrite: a loaded model
/// builds its network on every start, and drawing them took longer than loading them). The draws are
/// made in concrete code, so a layer's unspecialised generic initialiser does not pay a metadata lookup
/// per draw.
func initialWeights<T: EngineScalar>(_ count: Int, bound: Double, drawing: Bool, using rng: inout SeededGenerator) -> [T] {
    T.rounding(drawing ? (0 ..< count).map { _ in Double.random(in: -bound ... bound, using: &rng) } : [Double](repeating: 0, count: count))
}

/// Sums over rows, per channel: out[c] = Σ_r x[r, c]. Accumulates in Double.
@inlinable
func columnSums<T: EngineScalar>(_ x: Tensor<T>, into out: Tensor<T>) {
    let n = x.channels, rows = x.rows, p = x.pointer
    var sums = [Double](repeating: 0, count: n)
    for r in 0 ..< rows { for c in 0 ..< n { sums[c] += Double(p[r * n + c]) } }
    for c in 0 ..< n { out[c] = T(sums[c]) }
}
