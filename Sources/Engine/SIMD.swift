// Eight lanes at a time for the engine's own loops (the gathers and passes GEMM does not cover).
// Generic over the scalar, specialised to Float in the networks. Comparisons go through `T.less` and
// their masks stay integer lanes (−1 where true): in generic code, even specialised, the standard
// library's SIMD comparison and mask operators compile to a compare and a branch per lane.

/// Lanes of a > b, −1 where it holds.
@inlinable @inline(__always)
func greater<T: EngineScalar>(_ a: SIMD8<T>, _ b: SIMD8<T>) -> SIMD8<T.SIMDMaskScalar> { T.less(b, a) }

/// Lanes of a == b, −1 where it holds (for the whole numbers the engine stores as scalars; no NaN).
@inlinable @inline(__always)
func equal<T: EngineScalar>(_ a: SIMD8<T>, _ b: SIMD8<T>) -> SIMD8<T.SIMDMaskScalar> { ~(T.less(a, b) | T.less(b, a)) }

/// `mask ? a : b` lane by lane, as bit operations (three vector instructions, no branch).
@inlinable @inline(__always)
func select<T: EngineScalar>(_ mask: SIMD8<T.SIMDMaskScalar>, _ a: SIMD8<T>, _ b: SIMD8<T>) -> SIMD8<T> {
    typealias Bits = SIMD8<T.SIMDMaskScalar>
    return unsafeBitCast((unsafeBitCast(a, to: Bits.self) & mask) | (unsafeBitCast(b, to: Bits.self) & ~mask), to: SIMD8<T>.self)
}

extension SIMD8 {
    @inlinable @inline(__always)
    static func load(_ p: UnsafePointer<Scalar>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }

    @inlinable @inline(__always)
    func store(_ p: UnsafeMutablePointer<Scalar>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self) }
}

/// The lane-wise maximum and minimum. Written as the generic compare-and-select, which LLVM does turn
/// into one maxps / minps (the integer-mask form above does not get that far).
@inlinable @inline(__always)
func maximum<T: EngineScalar>(_ a: SIMD8<T>, _ b: SIMD8<T>) -> SIMD8<T> {
    typealias Bits = SIMD8<T.SIMDMaskScalar>
    let m = unsafeBitCast(a .> b, to: Bits.self)
    return unsafeBitCast((unsafeBitCast(a, to: Bits.self) & m) | (unsafeBitCast(b, to: Bits.self) & ~m), to: SIMD8<T>.self)
}

@inlinable @inline(__always)
func minimum<T: EngineScalar>(_ a: SIMD8<T>, _ b: SIMD8<T>) -> SIMD8<T> {
    typealias Bits = SIMD8<T.SIMDMaskScalar>
    let m = unsafeBitCast(a .< b, to: Bits.self)
    return unsafeBitCast((unsafeBitCast(a, to: Bits.self) & m) | (unsafeBitCast(b, to: Bits.self) & ~m), to: SIMD8<T>.self)
}

/// Whether any lane of a comparison's mask is set: a compare, a move-mask and a test once inlined.
@inlinable @inline(__always)
func anySet<T: EngineScalar>(_ mask: SIMDMask<SIMD8<T.SIMDMaskScalar>>, as _: T.Type) -> Bool {
    unsafeBitCast(mask, to: SIMD8<T.SIMDMaskScalar>.self).wrappedSum() != 0
}

/// `mask ? a : b` for a comparison's mask. In a running maximum with its index (the max pools) this
/// form measures faster than the integer-mask one above; in BatchNorm-activation passes, slower.
@inlinable @inline(__always)
func select<T: EngineScalar>(_ mask: SIMDMask<SIMD8<T.SIMDMaskScalar>>, _ a: SIMD8<T>, _ b: SIMD8<T>) -> SIMD8<T> {
    select(unsafeBitCast(mask, to: SIMD8<T.SIMDMaskScalar>.self), a, b)
}
