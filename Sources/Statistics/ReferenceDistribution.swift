/// A reference sample kept compactly as quantiles, for comparing later batches against it
/// (`KolmogorovSmirnov(_:reference:)`, `CliffsDelta(_:reference:)`) without storing every value.
///
/// The batch is compared with G, the empirical CDF of `quantiles` (each carrying weight 1/q).
/// When the sample was compressed (m > q values), sup |F − G| ≤ 1/q for the sample's empirical
/// CDF F, so a KS statistic differs from the full sample's by at most 1/q and Cliff's delta by at
/// most 2/q. With m ≤ q the sample is kept whole and both are exact.
public struct ReferenceDistribution: Codable, Sendable, Equatable {
    /// Ascending. The whole sample when it had at most q values; otherwise its q type-7 quantiles
    /// (`quantile(_:_:)`) at the levels k/(q − 1), k = 0 … q − 1, so the minimum and maximum included.
    public let quantiles: [Double]
    /// Size of the original sample: m in the KS p-value.
    public let count: Int

    /// - Precondition: q ≥ 2; no value is NaN. An empty sample gives an empty distribution, against
    ///   which the tests return nil.
    /// - Complexity: O(m log m).
    public init(sample: [Double], quantiles q: Int = 256) {
        precondition(q >= 2, "a reference needs at least its minimum and maximum (q ≥ 2), got \(q)")
        let sorted = checkedAscending(sample)
        quantiles = sorted.count <= q ? sorted : (0 ..< q).map { quantile(sorted, Double($0) / Double(q - 1)) }
        count = sample.count
    }
}

/// `values` sorted ascending, after checking that none is NaN (which has no place in an order).
func checkedAscending(_ values: [Double]) -> [Double] {
    precondition(!values.contains { $0.isNaN }, "NaN in a sample")
    return values.sorted()
}
