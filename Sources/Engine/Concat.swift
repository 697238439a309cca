/// Joins tensors of the same leading shape along the channel (last) dimension, into `out`.
@inlinable
public func concatenateChannels<T: EngineScalar>(_ parts: [Tensor<T>], into out: Tensor<T>) {
    let rows = parts[0].rows
    precondition(parts.allSatisfy { $0.rows == rows }, "concatenated tensors need the same rows")
    let total = parts.reduce(0) { $0 + $1.channels }
    out.resize(Array(parts[0].shape.dropLast()) + [total])
    var offset = 0
    for part in parts {
        let c = part.channels
        for r in 0 ..< rows { (out.pointer + r * total + offset).update(from: part.pointer + r * c, count: c) }
        offset += c
    }
}

/// The inverse of `concatenateChannels` for gradients: channels [offset, offset + width) of `x`.
@inlinable
public func channelSlice<T: EngineScalar>(_ x: Tensor<T>, offset: Int, width: Int, into out: Tensor<T>) {
    let rows = x.rows, total = x.channels
    out.resize(Array(x.shape.dropLast()) + [width])
    for r in 0 ..< rows { (out.pointer + r * width).update(from: x.pointer + r * total + offset, count: width) }
}

/// Adds channels [offset, offset + out.channels) of `x` to `out`, in place: a gradient that reaches a
/// tensor both through the next layer and through a concatenation that read it.
@inlinable
public func addChannelSlice<T: EngineScalar>(of x: Tensor<T>, offset: Int, to out: Tensor<T>) {
    let rows = out.rows, width = out.channels, total = x.channels
    precondition(x.rows == rows && offset + width <= total, "slice \(offset)..<\(offset + width) does not fit \(x.shape)")
    for r in 0 ..< rows {
        let src = x.pointer + r * total + offset, dst = out.pointer + r * width
        for c in 0 ..< width { dst[c] += src[c] }
    }
}
