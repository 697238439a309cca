import Networks
import PointClouds
import Testing

/// Corruption error as Ren et al. define it, against a hand computation.
@Suite struct RobustnessTests {
    @Test func corruptionErrorIsTheRatioOfSummedErrors() {
        let j1 = Corruption(.jitter, severity: 1), j2 = Corruption(.jitter, severity: 2), o1 = Corruption(.occlusion, severity: 1)
        let model = Robustness(clean: 0.9, accuracy: [(j1, 0.8), (j2, 0.6), (o1, 0.5)])
        let reference = Robustness(clean: 0.95, accuracy: [(j1, 0.9), (j2, 0.7), (o1, 0.75)])
        let errors = model.corruptionErrors(against: reference)
        #expect(errors.map(\.kind) == [.jitter, .occlusion])
        // jitter: (0.2 + 0.4) / (0.1 + 0.3) = 1.5; occlusion: 0.5 / 0.25 = 2.
        #expect(abs(errors[0].ce! - 1.5) < 1e-12 && abs(errors[1].ce! - 2) < 1e-12)
        #expect(abs(model.meanCorruptionError(against: reference)! - 1.75) < 1e-12)
        // A kind the reference never got wrong has no CE, and then no mCE.
        let perfect = Robustness(clean: 1, accuracy: [(j1, 1), (j2, 1), (o1, 0.5)])
        #expect(model.corruptionErrors(against: perfect)[0].ce == nil)
        #expect(model.meanCorruptionError(against: perfect) == nil)
    }
}
