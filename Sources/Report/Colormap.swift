import Foundation
import PointClouds

/// Colours for per-point saliency, for the renders and for viewers that show RGB (CloudCompare and
/// pcl_viewer can also colour by the `scalar_saliency` field itself).
///
/// Saliency maps are mostly exact zeros (60–80 % of a cloud's points) with a heavy tail, so a linear
/// scale paints nearly every point one colour. Here a point's colour says where its value ranks:
/// positive values by their rank among the positive ones (`SaliencyScale`), on ColorBrewer's RdBu red
/// half (light orange → dark red), negative ones likewise on its blue half, exact zeros (and NaN) a
/// neutral grey. Both ends are dark, so the extremes stand out on a white background; red/blue reads
/// for the common colour-vision deficiencies.
public enum Colormap {
    /// Points whose value is exactly 0 (or NaN).
    public static let zero = PointCloud.Color(r: 200, g: 200, b: 200)

    /// RdBu's red half without its near-white end: light (rank just above 0) to dark (the largest).
    static let positive: [SIMD3<Double>] = [[244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31]]
    /// RdBu's blue half likewise: light (just below 0) to dark (the most negative).
    static let negative: [SIMD3<Double>] = [[146, 197, 222], [67, 147, 195], [33, 102, 172], [5, 48, 97]]

    /// The colour at a signed position t ∈ [−1, 1] (clamped): red for t > 0, blue for t < 0, darker
    /// towards ±1; `zero` at exactly 0.
    public static func diverging(_ t: Double) -> PointCloud.Color {
        guard t != 0, !t.isNaN else { return zero }
        let stops = t > 0 ? positive : negative
        let x = min(abs(t), 1) * Double(stops.count - 1)
        let i = min(Int(x), stops.count - 2), f = x - Double(i)
        let c = stops[i] + (stops[i + 1] - stops[i]) * f
        func byte(_ v: Double) -> UInt8 { UInt8(min(max(v, 0), 255).rounded()) }
        return PointCloud.Color(r: byte(c.x), g: byte(c.y), b: byte(c.z))
    }

    /// One colour per value: `diverging` at the value's signed rank (`SaliencyScale`).
    public static func colors(for values: [Float]) -> [PointCloud.Color] {
        let scale = SaliencyScale(values)
        return values.map { diverging(scale.position($0)) }
    }
}

/// Signed ranks of a map's values: a positive value's position is the share of positive values at or
/// below it (in (0, 1], the largest at 1), a negative one's minus the share of negative values at or
/// above it (in [−1, 0), the most negative at −1), 0 and NaN at 0. Monotone in the value; O(log n) per
/// value after an O(n log n) sort.
public struct SaliencyScale: Sendable {
    /// The positive values, ascending; the negative values' magnitudes, ascending.
    let positives: [Float], negatives: [Float]
    /// Values that are exactly 0 or NaN.
    public let zeros: Int

    public init(_ values: [Float]) {
        positives = values.filter { $0 > 0 }.sorted()
        negatives = values.filter { $0 < 0 }.map { -$0 }.sorted()
        zeros = values.count - positives.count - negatives.count
    }

    public var hasPositive: Bool { !positives.isEmpty }
    public var hasNegative: Bool { !negatives.isEmpty }
    public var count: Int { positives.count + negatives.count + zeros }

    public func position(_ value: Float) -> Double {
        if value > 0 { return Double(Self.countAtOrBelow(value, in: positives)) / Double(positives.count) }
        if value < 0 { return -Double(Self.countAtOrBelow(-value, in: negatives)) / Double(negatives.count) }
        return 0
    }

    /// The value at signed position t ∈ [−1, 1] (the inverse of `position`, for a colour bar's ticks):
    /// the smallest value of that side whose position reaches t; 0 at t = 0 or on a side without values.
    public func value(at t: Double) -> Float {
        let side = t > 0 ? positives : negatives
        guard t != 0, !side.isEmpty else { return 0 }
        let rank = min(max(Int((abs(t) * Double(side.count)).rounded(.up)), 1), side.count)
        return t > 0 ? side[rank - 1] : -side[rank - 1]
    }

    /// How many of the ascending `sorted` values are ≤ `x`.
    static func countAtOrBelow(_ x: Float, in sorted: [Float]) -> Int {
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sorted[mid] <= x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
