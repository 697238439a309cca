import CDNNL
import Foundation

/// The scalar types the engine computes in: `Float` for real work (GEMM through oneDNN) and `Double`
/// for gradient checks, where finite differences need the precision.
public protocol EngineScalar: BinaryFloatingPoint, SIMDScalar, Sendable, Codable {
    /// Row-major C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, op = transpose when asked.
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    /// A small whole number stored as a scalar (a neighbour or point index), as an Int. Concrete per
    /// type: the generic `Int(_:)` is an out-of-line call per element in a hot loop.
    var index: Int { get }
    /// a < b lane by lane as integers, −1 where it holds, 0 elsewhere. Concrete per type: in generic
    /// code, even specialised, the SIMD comparison operators compile to a compare and branch per lane.
    static func less(_ a: SIMD8<Self>, _ b: SIMD8<Self>) -> SIMD8<SIMDMaskScalar>
    /// Each value rounded to this type. Concrete per type: called from unspecialised generic code (a
    /// layer's initialiser), the generic conversion costs a metadata lookup per element.
    static func rounding(_ values: [Double]) -> [Self]
}

extension Float: EngineScalar {
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in 0 ..< m { for j in 0 ..< n { c[i * ldc + j] *= beta } }
            return
        }
        let status = dnnl_sgemm(transA ? 84 : 78, transB ? 84 : 78, Int64(m), Int64(n), Int64(k), alpha,
                                a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc))
        precondition(status == dnnl_success, "dnnl_sgemm failed (\(status)): invalid GEMM arguments")
    }

    @inlinable public static func exp(_ x: Float) -> Float { Foundation.expf(x) }
    @inlinable public static func log(_ x: Float) -> Float { Foundation.logf(x) }
    @inlinable public var index: Int { Int(self) }
    @inlinable public static func less(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Int32> { unsafeBitCast(a .< b, to: SIMD8<Int32>.self) }
    public static func rounding(_ values: [Double]) -> [Float] { values.map(Float.init) }
}

extension Double: EngineScalar {
    /// A plain triple loop: doubles serve gradient checks on small shapes, not speed.
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        for i in 0 ..< m {
            for j in 0 ..< n {
                var sum = 0.0
                for p in 0 ..< k {
                    sum += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j])
                }
                c[i * ldc + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * ldc + j])
            }
        }
    }

    @inlinable public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inlinable public static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inlinable public var index: Int { Int(self) }
    @inlinable public static func less(_ a: SIMD8<Double>, _ b: SIMD8<Double>) -> SIMD8<Int64> { unsafeBitCast(a .< b, to: SIMD8<Int64>.self) }
    public static func rounding(_ values: [Double]) -> [Double] { values }
}
