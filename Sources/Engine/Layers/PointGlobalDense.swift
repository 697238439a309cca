/// A linear layer over each point's features followed by its cloud's global feature, without building
/// that [clouds, points, C + G] concatenation: y = P W_pᵀ + broadcast(G W_gᵀ) with W = [W_p | W_g]
/// ([out, C + G], stored as one weight like the 1×1 convolution it replaces, no bias). The global part
/// is computed once per cloud instead of once per point — for DefRec's head over PointNet (C = 320,
/// G = 1024) a quarter of the work of the concatenated form.
public final class PointGlobalDense<T: EngineScalar> {
    public let weight: Parameter<T>
    public let pointChannels: Int, globalChannels: Int, outputs: Int
    var points: Tensor<T>?, global: Tensor<T>?
    let output = Tensor<T>(shape: [0]), perCloud = Tensor<T>(shape: [0]), summed = Tensor<T>(shape: [0])
    public let pointGrad = Tensor<T>(shape: [0]), globalGrad = Tensor<T>(shape: [0])

    public init(_ name: String, pointChannels: Int, globalChannels: Int, outputs: Int, seed: UInt64 = 0) {
        (self.pointChannels, self.globalChannels, self.outputs) = (pointChannels, globalChannels, outputs)
        // Initialised as a Dense over the concatenation would be.
        weight = Dense<T>(name, inputs: pointChannels + globalChannels, outputs: outputs, bias: false, seed: seed).weight
    }

    public var parameters: [Parameter<T>] { [weight] }

    /// points [clouds, n, C], global [clouds, G] → [clouds, n, out].
    @_specialize(where T == Float)
    public func forward(points p: Tensor<T>, global g: Tensor<T>) -> Tensor<T> {
        let (b, n, c, gc, h) = (p.shape[0], p.shape[1], pointChannels, globalChannels, outputs)
        precondition(p.channels == c && g.channels == gc && g.rows == b, "PointGlobalDense expects [\(b), n, \(c)] and [\(b), \(gc)], got \(p.shape), \(g.shape)")
        (points, global) = (p, g)
        output.resize([b, n, h])
        T.gemm(transA: false, transB: true, m: b * n, n: h, k: c, alpha: 1, a: p.pointer, lda: c, b: weight.value.pointer, ldb: c + gc,
               beta: 0, c: output.pointer, ldc: h)
        perCloud.resize([b, h])
        T.gemm(transA: false, transB: true, m: b, n: h, k: gc, alpha: 1, a: g.pointer, lda: gc, b: weight.value.pointer + c, ldb: c + gc,
               beta: 0, c: perCloud.pointer, ldc: h)
        for cloud in 0 ..< b {
            let add = perCloud.pointer + cloud * h
            for j in 0 ..< n {
                let row = output.pointer + (cloud * n + j) * h
                for i in 0 ..< h { row[i] += add[i] }
            }
        }
        return output
    }

    /// Sets the weight's gradient; the input gradients are `pointGrad` and `globalGrad`.
    @_specialize(where T == Float)
    public func backward(_ dy: Tensor<T>) {
        guard let p = points, let g = global else { preconditionFailure("PointGlobalDense.backward before forward") }
        let (b, n, c, gc, h) = (p.shape[0], p.shape[1], pointChannels, globalChannels, outputs)
        summed.resize([b, h])
        summed.fill(0)
        for cloud in 0 ..< b {
            let s = summed.pointer + cloud * h
            for j in 0 ..< n {
                let row = dy.pointer + (cloud * n + j) * h
                for i in 0 ..< h { s[i] += row[i] }
            }
        }
        let w = weight.value.pointer, dw = weight.grad.pointer
        pointGrad.resize(p.shape)
        T.gemm(transA: false, transB: false, m: b * n, n: c, k: h, alpha: 1, a: dy.pointer, lda: h, b: w, ldb: c + gc,
               beta: 0, c: pointGrad.pointer, ldc: c)
        globalGrad.resize(g.shape)
        T.gemm(transA: false, transB: false, m: b, n: gc, k: h, alpha: 1, a: summed.pointer, lda: h, b: w + c, ldb: c + gc,
               beta: 0, c: globalGrad.pointer, ldc: gc)
        T.gemm(transA: true, transB: false, m: h, n: c, k: b * n, alpha: 1, a: dy.pointer, lda: h, b: p.pointer, ldb: c,
               beta: 0, c: dw, ldc: c + gc)
        T.gemm(transA: true, transB: false, m: h, n: gc, k: b, alpha: 1, a: summed.pointer, lda: h, b: g.pointer, ldb: gc,
               beta: 0, c: dw + c, ldc: c + gc)
    }
}
