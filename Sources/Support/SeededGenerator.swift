import Foundation

/// SplitMix64: a small, fast generator whose sequence depends only on its seed, so every seeded step
/// (sampling, augmentation, shuffles) gives the same result on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    /// The whole state: save it to resume the same sequence later (`init(seed: state)`).
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SeededGenerator {
    /// A standard normal value (Box–Muller, one of the pair).
    public mutating func gaussian() -> Float {
        let u1 = Float.random(in: Float.leastNormalMagnitude ..< 1, using: &self)
        let u2 = Float.random(in: 0 ..< 1, using: &self)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// Three independent standard normal values.
    public mutating func gaussian3() -> SIMD3<Float> { SIMD3(gaussian(), gaussian(), gaussian()) }
}
