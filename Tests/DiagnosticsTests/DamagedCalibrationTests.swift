import Diagnostics
import Engine
import Networks
import Testing

/// A calibration with a part missing is an error naming the part; no calibration at all is fine.
@Suite struct DamagedCalibrationTests {
    static func model(statistics: Bool, drop: String? = nil) -> Model {
        var model = Model(metadata: ModelMetadata(architecture: .pointnet(classes: 2, embedding: 8), classes: ["a", "b"]))
        if statistics {
            let unit = (0 ..< 8).map { Float($0 == 0 ? 1 : 0) }
            FeatureStatistics(classMeans: [[Float](repeating: 0, count: 8), [Float](repeating: 1, count: 8)], basis: [unit], variances: [2, 1])
                .store(in: &model.attachments)
        }
        if let drop { model.attachments.tensors[drop] = nil }
        return model
    }

    static func failure(_ model: Model) -> String? {
        do {
            _ = try Diagnostician(model: model)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func anUncalibratedModelIsValid() throws {
        #expect(try Diagnostician(model: Self.model(statistics: false)).calibration == nil)
    }

    @Test(arguments: ["mahalanobis.basis", "mahalanobis.class_means", "mahalanobis.variances"])
    func aMissingTensorIsNamed(name: String) {
        let message = Self.failure(Self.model(statistics: true, drop: name))
        #expect(message?.contains("missing tensor attachment.\(name)") == true, "\(message ?? "accepted")")
    }

    @Test func statisticsWithoutTheCalibrationJSONAreIncomplete() {
        let message = Self.failure(Self.model(statistics: true))
        #expect(message?.contains("missing metadata attachment.diagnostics") == true, "\(message ?? "accepted")")
    }

    @Test func statisticsOfAnotherDimensionAreRefused() {
        var model = Self.model(statistics: false)
        FeatureStatistics(classMeans: [[0, 0], [1, 1]], basis: [[1, 0]], variances: [2, 1]).store(in: &model.attachments)
        let message = Self.failure(model)
        #expect(message?.contains("2 dimensions, the network's feature 8") == true, "\(message ?? "accepted")")
    }

    @Test func absurdStoredOptionsAreRefused() {
        var options = DiagnosisOptions()
        options.flipTrials = 1_000_000_000
        #expect(options.problem == "1000000000 flip trials (allowed 0...1000)")
        options = DiagnosisOptions()
        options.alpha = .infinity
        #expect(options.problem?.contains("α") == true)
        #expect(DiagnosisOptions().problem == nil)
    }
}
