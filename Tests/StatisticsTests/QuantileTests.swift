import Statistics
import Testing

/// Type-7 quantiles worked by hand: for the ascending sample 1 1 2 3 4 5 6 9, h = 7p.
@Test(arguments: [(0.0, 1.0), (0.1, 1.0), (0.25, 1.75), (0.5, 3.5), (0.9, 6.9), (1.0, 9.0)])
func quantileInterpolatesLinearly(p: Double, expected: Double) {
    #expect(abs(quantile([1, 1, 2, 3, 4, 5, 6, 9], p) - expected) <= 1e-12)
}

@Test func quantileOfOneValueIsThatValue() {
    #expect(quantile([2.5], 0) == 2.5)
    #expect(quantile([2.5], 0.7) == 2.5)
    #expect(quantile([2.5], 1) == 2.5)
}
