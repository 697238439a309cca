import Foundation
import PointClouds

/// Colours for per-point values, for viewers that show RGB (CloudCompare and pcl_viewer can also colour
/// by the `scalar_saliency` field itself).
///
/// The map is Green's cubehelix (D. A. Green, "A colour scheme for the display of astronomical
/// intensity images", Bull. Astr. Soc. India 39, 2011) with its standard parameters (start 0.5, −1.5
/// rotations, hue 1, γ 1): black → blue → green → red → white with luminance rising monotonically, so
/// it reads the same in greyscale and to colour-blind eyes. Values are clipped at the 2nd and 98th
/// percentiles first, so that a handful of extreme points do not wash out the rest.
public enum Colormap {
    /// The colour at t ∈ [0, 1] (clamped).
    public static func cubehelix(_ t: Double) -> PointCloud.Color {
        let l = min(max(t, 0), 1)
        let phi = 2 * Double.pi * (0.5 / 3 + -1.5 * l)
        let a = l * (1 - l) / 2
        let (c, s) = (cos(phi), sin(phi))
        func byte(_ v: Double) -> UInt8 { UInt8((min(max(v, 0), 1) * 255).rounded()) }
        return PointCloud.Color(r: byte(l + a * (-0.14861 * c + 1.78277 * s)),
                                g: byte(l + a * (-0.29227 * c - 0.90649 * s)),
                                b: byte(l + a * (1.97294 * c)))
    }

    /// One colour per value: the values between their `low` and `high` percentiles spread over the
    /// map, the ones outside clipped to its ends.
    public static func colors(for values: [Float], low: Double = 2, high: Double = 98) -> [PointCloud.Color] {
        guard !values.isEmpty else { return [] }
        let sorted = values.sorted()
        func percentile(_ p: Double) -> Float { sorted[Int((p / 100 * Double(sorted.count - 1)).rounded())] }
        let (lo, hi) = (percentile(low), percentile(high))
        return values.map { hi > lo ? cubehelix(Double(($0 - lo) / (hi - lo))) : cubehelix(0.5) }
    }
}
