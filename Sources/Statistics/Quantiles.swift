/// The p-quantile of an ascending sample by linear interpolation between order statistics
/// (Hyndman & Fan type 7, the default of R and NumPy): with h = (n − 1)·p, the value
/// x₍⌊h⌋₎ + (h − ⌊h⌋)·(x₍⌊h⌋₊₁₎ − x₍⌊h⌋₎), 0-based. p = 0 gives the minimum, p = 1 the maximum, and
/// the result is exactly a sample value when h is an integer.
///
/// - Precondition: `sorted` is non-empty and ascending, p ∈ [0, 1]. The order is not checked: that
///   would make every call O(n).
/// - Complexity: O(1).
public func quantile(_ sorted: [Double], _ p: Double) -> Double {
    precondition(!sorted.isEmpty, "quantile of an empty sample")
    precondition((0 ... 1).contains(p), "quantile level \(p) outside [0, 1]")
    let h = Double(sorted.count - 1) * p
    let lower = Int(h.rounded(.down))
    guard lower + 1 < sorted.count else { return sorted[lower] }
    let fraction = h - Double(lower)
    return sorted[lower] + fraction * (sorted[lower + 1] - sorted[lower])
}
