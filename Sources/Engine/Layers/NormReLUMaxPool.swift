import Support

/// Inference-mode BatchNorm → ReLU → max over points in one pass, for a network's last point layer.
///
/// In inference BatchNorm is y = s·x + t per channel, and ReLU is monotone, so the pooled value is
/// relu(s·max x + t) when s ≥ 0 and relu(s·min x + t) when s < 0: one read of the input, no normalised
/// or activated tensor written. Shares its parameters with `norm`; `backward` sets the gradients of
/// γ and β as the unfused layers would and sends ∂L/∂x to one point per cloud and channel.
public final class NormReLUMaxPool<T: EngineScalar>: Module {
    public let norm: BatchNorm<T>
    /// The pooled values of the last forward pass.
    public let output = Tensor<T>(shape: [0])
    @usableFromInline let inputGrad = Tensor<T>(shape: [0])
    @usableFromInline var winners: [Int32] = []
    @usableFromInline var input: Tensor<T>?
    @usableFromInline var scale: [T] = [], shift: [T] = []

    public init(norm: BatchNorm<T>) { self.norm = norm }

    public var parameters: [Parameter<T>] { [] }

    @inlinable
    public func forward(_ x: Tensor<T>, training: Bool) -> Tensor<T> {
        precondition(!training, "NormReLUMaxPool is the inference path; train with the separate layers")
        precondition(x.shape.count == 3 && x.shape[2] == norm.channels, "expects [clouds, points, \(norm.channels)], got \(x.shape)")
        let (b, n, c) = (x.shape[0], x.shape[1], x.shape[2])
        input = x
        (scale, shift) = norm.inferenceAffine
        output.resize([b, c])
        if winners.count != b * c { winners = [Int32](repeating: 0, count: b * c) }
        let xp = x.pointer, yp = output.pointer
        scale.withUnsafeBufferPointer { s in
            shift.withUnsafeBufferPointer { t in
                winners.withUnsafeMutableBufferPointer { w in
                    let wp = w.baseAddress!
                    parallelRanges(b, grain: 1) { clouds in
                        let hi = UnsafeMutablePointer<T>.allocate(capacity: c), lo = UnsafeMutablePointer<T>.allocate(capacity: c)
                        let hiAt = UnsafeMutablePointer<Int32>.allocate(capacity: c), loAt = UnsafeMutablePointer<Int32>.allocate(capacity: c)
                        defer { hi.deallocate(); lo.deallocate(); hiAt.deallocate(); loAt.deallocate() }
                        for cloud in clouds {
                            let base = xp + cloud * n * c
                            hi.update(from: base, count: c)
                            lo.update(from: base, count: c)
                            hiAt.update(repeating: 0, count: c)
                            loAt.update(repeating: 0, count: c)
                            for p in 1 ..< max(n, 1) {
                                let row = base + p * c
                                for ch in 0 ..< c {
                                    let v = row[ch]
                                    if v > hi[ch] { hi[ch] = v; hiAt[ch] = Int32(p) }
                                    if v < lo[ch] { lo[ch] = v; loAt[ch] = Int32(p) }
                                }
                            }
                            for ch in 0 ..< c {
                                let useMax = s[ch] >= 0
                                yp[cloud * c + ch] = max(0, s[ch] * (useMax ? hi[ch] : lo[ch]) + t[ch])
                                wp[cloud * c + ch] = useMax ? hiAt[ch] : loAt[ch]
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    @inlinable
    public func backward(_ dy: Tensor<T>) -> Tensor<T> {
        guard let x = input else { preconditionFailure("NormReLUMaxPool.backward before forward") }
        let (b, n, c) = (x.shape[0], x.shape[1], x.shape[2])
        inputGrad.resize(x.shape)
        inputGrad.fill(0)
        var dGamma = [Double](repeating: 0, count: c), dBeta = dGamma
        let mu = norm.runningMean.value, variance = norm.runningVar.value
        for cloud in 0 ..< b {
            for ch in 0 ..< c where output[cloud * c + ch] > 0 {
                let d = dy[cloud * c + ch]
                let at = (cloud * n + Int(winners[cloud * c + ch])) * c + ch
                inputGrad[at] = d * scale[ch]
                dBeta[ch] += Double(d)
                dGamma[ch] += Double(d) * Double(x[at] - mu[ch]) / (Double(variance[ch]) + norm.epsilon).squareRoot()
            }
        }
        for ch in 0 ..< c {
            norm.beta.grad[ch] = T(dBeta[ch])
            norm.gamma.grad[ch] = T(dGamma[ch])
        }
        return inputGrad
    }
}
