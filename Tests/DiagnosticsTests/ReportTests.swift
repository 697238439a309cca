import Diagnostics
import Testing

/// The batch report: its calibration arithmetic by hand.
@Suite struct ReportTests {
    // MARK: Calibration

    @Test func reliabilityBinsAndECEMatchAHandComputation() {
        let bins = ReliabilityBin.bins(confidences: [0.95, 0.92, 0.85, 0.55, 0.52, 0.15],
                                       correct: [true, true, false, true, false, false])
        #expect(bins.count == 10)
        #expect(bins.map(\.count) == [0, 1, 0, 0, 0, 2, 0, 0, 1, 2])
        #expect(abs(bins[9].meanConfidence - 0.935) < 1e-12 && bins[9].accuracy == 1)
        #expect(abs(bins[5].meanConfidence - 0.535) < 1e-12 && bins[5].accuracy == 0.5)
        #expect(bins[8].accuracy == 0 && bins[1].accuracy == 0)
        #expect(abs(bins[3].lower - 0.3) < 1e-12 && abs(bins[3].upper - 0.4) < 1e-12)
        #expect(bins[2].meanConfidence == 0 && bins[2].accuracy == 0, "empty bins hold zeros")
        // (2 · |1 − 0.935| + |0 − 0.85| + 2 · |0.5 − 0.535| + |0 − 0.15|) / 6 = 1.2 / 6
        #expect(abs(expectedCalibrationError(bins) - 0.2) < 1e-12)
    }

    @Test func binEdges() {
        let bins = ReliabilityBin.bins(confidences: [1, 0, .nan, 1.5, 0.25], correct: [true, false, true, true, true], count: 4)
        #expect(bins.map(\.count) == [1, 1, 0, 2], "1 and above go to the last bin, 0.25 opens the second, NaN is left out")
        #expect(expectedCalibrationError(bins) == 0.25 * 0 + 0.25 * 0.75 + 0.5 * 0, "only the 0.25 bin is off: right at confidence 0.25")
        #expect(expectedCalibrationError(ReliabilityBin.bins(confidences: [], correct: [])).isNaN)
    }
}
