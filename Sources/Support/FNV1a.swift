/// 64-bit FNV-1a: a small, stable hash (the same on every machine and run, unlike `Hasher`) for
/// seeds and shard assignment derived from paths and coordinates.
public struct FNV1a: Sendable {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    /// Mixes in one word (a byte, or a float's bit pattern).
    public mutating func add(_ word: UInt64) {
        value = (value ^ word) &* 0x0000_0100_0000_01B3
    }

    /// The hash of a string's UTF-8 bytes.
    public static func hash(_ text: String) -> UInt64 {
        var h = FNV1a()
        for byte in text.utf8 { h.add(UInt64(byte)) }
        return h.value
    }

    /// The hash of points' coordinate bits: the same points, the same seed (for draws that must not
    /// depend on batch, order or run).
    public static func hash(_ positions: [SIMD3<Float>]) -> UInt64 {
        var h = FNV1a()
        for p in positions {
            h.add(UInt64(p.x.bitPattern))
            h.add(UInt64(p.y.bitPattern))
            h.add(UInt64(p.z.bitPattern))
        }
        return h.value
    }
}
