// Eight lanes at a time for the engine's own loops (the gathers and passes GEMM does not cover).
// Generic over the scalar, specialised to Float in the networks: these lower to plain vector loads,
// stores and bit operations once inlined.

/// `mask ? a : b` lane by lane, as bit operations: the standard library's `replacing(with:where:)`
/// compiles to a branch per lane, this to three vector instructions.
@inlinable @inline(__always)
func select<T: EngineScalar>(_ mask: SIMDMask<SIMD8<T.SIMDMaskScalar>>, _ a: SIMD8<T>, _ b: SIMD8<T>) -> SIMD8<T> {
    typealias Bits = SIMD8<T.SIMDMaskScalar>
    let m = unsafeBitCast(mask, to: Bits.self)
    return unsafeBitCast((unsafeBitCast(a, to: Bits.self) & m) | (unsafeBitCast(b, to: Bits.self) & ~m), to: SIMD8<T>.self)
}

/// Whether any lane of the mask is set (a horizontal add of the all-ones lanes, no branch per lane).
@inlinable @inline(__always)
func anySet<T: EngineScalar>(_ mask: SIMDMask<SIMD8<T.SIMDMaskScalar>>, as _: T.Type) -> Bool {
    unsafeBitCast(mask, to: SIMD8<T.SIMDMaskScalar>.self).wrappedSum() != 0
}

extension SIMD8 {
    @inlinable @inline(__always)
    static func load(_ p: UnsafePointer<Scalar>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }

    @inlinable @inline(__always)
    func store(_ p: UnsafeMutablePointer<Scalar>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self) }
}
