// Eight lanes at a time for the engine's own loops (the gathers and passes GEMM does not cover).
// Generic over the scalar, specialised to Float in the networks. How a comparison compiles depends on
// what its mask feeds (seen in perf): into a select forming a running maximum or minimum, the generic
// `.<` and `.>` become one vector compare (or a maxps / minps); where the mask is used as integers —
// counted, combined with & and |, tested for any lane, or in a BatchNorm-activation pass — they become
// a compare and a branch per lane. There, `T.less`, concrete per scalar type, keeps them in vectors.

/// Lanes of a > b as integers, −1 where it holds.
@inlinable @inline(__always)
func greater<T: EngineScalar>(_ a: SIMD8<T>, _ b: SIMD8<T>) -> SIMD8<T.SIMDMaskScalar> { T.less(b, a) }

/// Lanes of a == b as integers, −1 where it holds (for the whole numbers the engine stores as
/// scalars; no NaN).
@inlinable @inline(__always)
func equal<T: EngineScalar>(_ a: SIMD8<T>, _ b: SIMD8<T>) -> SIMD8<T.SIMDMaskScalar> { ~(T.less(a, b) | T.less(b, a)) }

/// `mask ? a : b` lane by lane, as bit operations (three vector instructions, no branch).
@inlinable @inline(__always)
func select<T: EngineScalar>(_ mask: SIMD8<T.SIMDMaskScalar>, _ a: SIMD8<T>, _ b: SIMD8<T>) -> SIMD8<T> {
    typealias Bits = SIMD8<T.SIMDMaskScalar>
    return unsafeBitCast((unsafeBitCast(a, to: Bits.self) & mask) | (unsafeBitCast(b, to: Bits.self) & ~mask), to: SIMD8<T>.self)
}

/// `mask ? a : b` for a generic comparison's mask: the form a running maximum with its index (the
/// max pools) measures fastest in.
@inlinable @inline(__always)
func select<T: EngineScalar>(_ mask: SIMDMask<SIMD8<T.SIMDMaskScalar>>, _ a: SIMD8<T>, _ b: SIMD8<T>) -> SIMD8<T> {
    select(unsafeBitCast(mask, to: SIMD8<T.SIMDMaskScalar>.self), a, b)
}

/// The lane-wise maximum and minimum: one maxps / minps once inlined.
@inlinable @inline(__always)
func maximum<T: EngineScalar>(_ a: SIMD8<T>, _ b: SIMD8<T>) -> SIMD8<T> { select(a .> b, a, b) }

@inlinable @inline(__always)
func minimum<T: EngineScalar>(_ a: SIMD8<T>, _ b: SIMD8<T>) -> SIMD8<T> { select(a .< b, a, b) }

extension SIMD8 {
    @inlinable @inline(__always)
    static func load(_ p: UnsafePointer<Scalar>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }

    @inlinable @inline(__always)
    func store(_ p: UnsafeMutablePointer<Scalar>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self) }
}
