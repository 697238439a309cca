import Foundation

/// A reader for binary_compressed PCD written for the test alone (LZF decoding per the format), so the
/// PCL-based count is checked against something that does not share its code.
public enum IndependentPCD {
    public struct Failure: Error {}

    public static func finiteCount(compressedFile path: String, points: Int) throws -> Int {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let dataLine = data.range(of: Data("DATA binary_compressed\n".utf8)) else { throw Failure() }
        var offset = dataLine.upperBound
        func u32(_ at: Int) -> Int { Int(data[at]) | Int(data[at + 1]) << 8 | Int(data[at + 2]) << 16 | Int(data[at + 3]) << 24 }
        let compressedSize = u32(offset), size = u32(offset + 4)
        offset += 8
        let input = [UInt8](data[offset ..< offset + compressedSize])
        var out = [UInt8]()
        out.reserveCapacity(size)
        var i = 0
        while i < input.count {
            let ctrl = Int(input[i]); i += 1
            if ctrl < 32 {
                out.append(contentsOf: input[i ..< i + ctrl + 1]); i += ctrl + 1
            } else {
                var length = ctrl >> 5
                if length == 7 { length += Int(input[i]); i += 1 }
                let back = ((ctrl & 0x1F) << 8) + Int(input[i]) + 1; i += 1
                for _ in 0 ..< length + 2 { out.append(out[out.count - back]) }
            }
        }
        guard out.count == size else { throw Failure() }
        // Compressed PCD stores fields one after another (all x, then all y, …): x y z rgba, 4 bytes each.
        func float(_ field: Int, _ p: Int) -> Float {
            let at = field * points * 4 + p * 4
            return Float(bitPattern: UInt32(out[at]) | UInt32(out[at + 1]) << 8 | UInt32(out[at + 2]) << 16 | UInt32(out[at + 3]) << 24)
        }
        return (0 ..< points).filter { p in (0 ..< 3).allSatisfy { float($0, p).isFinite } }.count
    }
}
