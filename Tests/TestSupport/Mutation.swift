import Foundation

/// Seeded byte mutations of a valid file, for tests that a reader answers every damaged variant with a
/// value or a typed error: flip a byte, insert or delete a run, truncate, or rewrite a number in the
/// header (to 0, a neighbour, or something huge).
public struct Mutator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    private mutating func next() -> UInt64 {
        // xorshift64*: small, and the same on every machine.
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }

    private mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }

    /// One mutant of `bytes`; `headerEnd` bounds where header numbers are looked for.
    public mutating func mutate(_ bytes: [UInt8], headerEnd: Int) -> [UInt8] {
        var out = bytes
        switch below(6) {
        case 0:
            for _ in 0 ..< 1 + below(4) where !out.isEmpty { out[below(out.count)] ^= UInt8(1 << below(8)) }
        case 1:
            let at = below(out.count + 1)
            out.insert(contentsOf: (0 ..< 1 + below(16)).map { _ in UInt8(truncatingIfNeeded: next()) }, at: at)
        case 2:
            guard !out.isEmpty else { break }
            let at = below(out.count), n = min(1 + below(16), out.count - at)
            out.removeSubrange(at ..< at + n)
        case 3:
            out.removeLast(out.isEmpty ? 0 : below(out.count) + 1)
        case 4:
            out[below(min(out.count, headerEnd))] = UInt8(truncatingIfNeeded: next())
        default:
            // A decimal number in the header, rewritten.
            let digits = out.prefix(headerEnd).indices.filter { (48 ... 57).contains(out[$0]) }
            guard !digits.isEmpty else { break }
            var start = digits[below(digits.count)], end = start
            while start > 0, (48 ... 57).contains(out[start - 1]) { start -= 1 }
            while end < out.count, (48 ... 57).contains(out[end]) { end += 1 }
            let current = Int(String(decoding: out[start ..< end], as: UTF8.self)) ?? 0
            let replacement = [0, 1, current + 1, max(current - 1, 0), current * 2, 4_294_967_295, 999_999_999_999_999_999][below(7)]
            out.replaceSubrange(start ..< end, with: Array(String(replacement).utf8))
        }
        return out
    }
}

/// The PID of a process that has exited: nothing runs under it now (PIDs are reused only much later).
public func deadProcessID() throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    try process.run()
    process.waitUntilExit()
    return process.processIdentifier
}
