import Foundation
import Support

/// Training-time changes to a prepared cloud (DESIGN §4 recipe): anisotropic scale U(2/3, 3/2) and
/// shift U(−0.2, 0.2) per axis, Gaussian jitter (σ 0.01, clipped at 0.05), point order shuffle, and
/// optionally a random rotation about the up (z) axis. Seeded through the generator passed in.
public struct Augmentation: Sendable, Equatable, Codable {
    public var scale = true
    public var shift = true
    public var jitter = true
    public var shuffle = true
    public var rotateUp = false

    public init(scale: Bool = true, shift: Bool = true, jitter: Bool = true, shuffle: Bool = true, rotateUp: Bool = false) {
        self.scale = scale
        self.shift = shift
        self.jitter = jitter
        self.shuffle = shuffle
        self.rotateUp = rotateUp
    }

    public static let none = Augmentation(scale: false, shift: false, jitter: false, shuffle: false)

    public var summary: String {
        [scale ? "scale" : nil, shift ? "shift" : nil, jitter ? "jitter" : nil, shuffle ? "shuffle" : nil,
         rotateUp ? "rotate-z" : nil].compactMap { $0 }.joined(separator: "+")
    }

    /// Applies to `n` points stored xyz-interleaved at `p`.
    public func apply(_ p: UnsafeMutablePointer<Float>, count n: Int, using rng: inout SeededGenerator) {
        var s = SIMD3<Float>(1, 1, 1), t = SIMD3<Float>(0, 0, 0)
        if scale { s = SIMD3((0 ..< 3).map { _ in Float.random(in: 2.0 / 3.0 ... 1.5, using: &rng) }) }
        if shift { t = SIMD3((0 ..< 3).map { _ in Float.random(in: -0.2 ... 0.2, using: &rng) }) }
        let angle = rotateUp ? Float.random(in: 0 ..< 2 * .pi, using: &rng) : 0
        let (c, sn) = (cos(angle), sin(angle))
        for i in 0 ..< n {
            var v = SIMD3(p[3 * i], p[3 * i + 1], p[3 * i + 2])
            if rotateUp { v = SIMD3(c * v.x - sn * v.y, sn * v.x + c * v.y, v.z) }
            v = v * s + t
            if jitter {
                v.x += Self.jitterValue(&rng)
                v.y += Self.jitterValue(&rng)
                v.z += Self.jitterValue(&rng)
            }
            p[3 * i] = v.x; p[3 * i + 1] = v.y; p[3 * i + 2] = v.z
        }
        if shuffle {
            for i in stride(from: n - 1, to: 0, by: -1) {
                let j = Int.random(in: 0 ... i, using: &rng)
                for a in 0 ..< 3 { swap(&p[3 * i + a], &p[3 * j + a]) }
            }
        }
    }

    static func jitterValue(_ rng: inout SeededGenerator) -> Float { min(max(0.01 * rng.gaussian(), -0.05), 0.05) }
}
