import Support

/// Max over the points of each cloud: [clouds, points, C] → [clouds, C].
///
/// The gradient goes to one point per cloud and channel (the first maximum), as in PyTorch.
public final class MaxPool<T: EngineScalar>: Module {
    /// The pooled values of the last forward pass.
    public let output = Tensor<T>(shape: [0])
    @usableFromInline let inputGrad = Tensor<T>(shape: [0])
    @usableFromInline var argmax: [Int32] = []
    @usableFromInline var inputShape: [Int] = []

    public init() {}
    public var parameters: [Parameter<T>] { [] }

    /// Which point won, per cloud and channel ([clouds × C], point index within the cloud).
    public var winners: [Int32] { argmax }

    @inlinable
    public func forward(_ x: Tensor<T>, training: Bool) -> Tensor<T> {
        precondition(x.shape.count == 3, "MaxPool expects [clouds, points, channels], got \(x.shape)")
        let (b, n, c) = (x.shape[0], x.shape[1], x.shape[2])
        inputShape = x.shape
        output.resize([b, c])
        if argmax.count != b * c { argmax = [Int32](repeating: 0, count: b * c) }
        let xp = x.pointer, yp = output.pointer
        argmax.withUnsafeMutableBufferPointer { am in
            let amp = am.baseAddress!
            parallelRanges(b, grain: 1) { clouds in
                for cloud in clouds {
                    let base = xp + cloud * n * c
                    for ch in 0 ..< c { yp[cloud * c + ch] = base[ch]; amp[cloud * c + ch] = 0 }
                    for p in 1 ..< max(n, 1) {
                        let row = base + p * c
                        for ch in 0 ..< c where row[ch] > yp[cloud * c + ch] {
                            yp[cloud * c + ch] = row[ch]
                            amp[cloud * c + ch] = Int32(p)
                        }
                    }
                }
            }
        }
        return output
    }

    @inlinable
    public func backward(_ dy: Tensor<T>) -> Tensor<T> {
        inputGrad.resize(inputShape)
        inputGrad.fill(0)
        let (b, n, c) = (inputShape[0], inputShape[1], inputShape[2])
        for cloud in 0 ..< b {
            for ch in 0 ..< c {
                inputGrad[(cloud * n + Int(argmax[cloud * c + ch])) * c + ch] = dy[cloud * c + ch]
            }
        }
        return inputGrad
    }
}

/// Max and mean over the points of each cloud, side by side: [clouds, points, C] → [clouds, 2C] (the
/// maxima first), as DGCNN concatenates them. One pass each way: the forward reads the input once,
/// the backward writes each point's share of the mean and adds the max's gradient at the winner
/// (the first maximum, as in PyTorch).
public final class MaxMeanPool<T: EngineScalar>: Module {
    @usableFromInline let output = Tensor<T>(shape: [0])
    @usableFromInline let inputGrad = Tensor<T>(shape: [0])
    @usableFromInline let winners = Tensor<T>(shape: [0])  // [clouds, C]: the point of each maximum
    @usableFromInline var inputShape: [Int] = []

    public init() {}
    public var parameters: [Parameter<T>] { [] }

    @inlinable
    public func forward(_ x: Tensor<T>, training: Bool) -> Tensor<T> {
        typealias V = SIMD8<T>
        precondition(x.shape.count == 3 && x.shape[1] >= 1, "MaxMeanPool expects [clouds, points ≥ 1, channels], got \(x.shape)")
        let (b, n, c) = (x.shape[0], x.shape[1], x.shape[2])
        inputShape = x.shape
        output.resize([b, 2 * c])
        winners.resize([b, c])
        let xp = x.pointer, yp = output.pointer, wp = winners.pointer, scale = 1 / T(n), vectorEnd = c - c % V.scalarCount
        parallelRanges(b, grain: 1) { clouds in
            for cloud in clouds {
                let base = xp + cloud * n * c, best = yp + cloud * 2 * c, sum = best + c, at = wp + cloud * c
                best.update(from: base, count: c)
                sum.update(from: base, count: c)
                at.update(repeating: 0, count: c)
                var pointValue: T = 1  // p as T, counted: the generic Int → T conversion is a call
                for p in 1 ..< n {
                    let row = base + p * c, point = V(repeating: pointValue)
                    pointValue += 1
                    var ch = 0
                    while ch < vectorEnd {
                        let v = V.load(row + ch), better = v .> V.load(best + ch)
                        select(better, v, V.load(best + ch)).store(best + ch)
                        select(better, point, V.load(at + ch)).store(at + ch)
                        (V.load(sum + ch) + v).store(sum + ch)
                        ch += V.scalarCount
                    }
                    while ch < c {
                        if row[ch] > best[ch] { best[ch] = row[ch]; at[ch] = T(p) }
                        sum[ch] += row[ch]
                        ch += 1
                    }
                }
                for ch in 0 ..< c { sum[ch] *= scale }
            }
        }
        return output
    }

    @inlinable
    public func backward(_ dy: Tensor<T>) -> Tensor<T> {
        let (b, n, c) = (inputShape[0], inputShape[1], inputShape[2])
        inputGrad.resize(inputShape)
        let dp = dy.pointer, gp = inputGrad.pointer, wp = winners.pointer, scale = 1 / T(n)
        parallelRanges(b, grain: 1) { clouds in
            for cloud in clouds {
                let dMax = dp + cloud * 2 * c, dMean = dMax + c, base = gp + cloud * n * c
                for p in 0 ..< n { for ch in 0 ..< c { base[p * c + ch] = dMean[ch] * scale } }
                for ch in 0 ..< c { base[wp[cloud * c + ch].index * c + ch] += dMax[ch] }
            }
        }
        return inputGrad
    }
}
