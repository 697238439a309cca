import Engine
import Foundation
import Networks
import PointClouds
import Testing
import TestSupport

/// The PyTorch-trained reference PointNet: its weights load under their own names, and on its 16
/// stored cases (fed as stored, no preprocessing) our logits match PyTorch's.
@Suite(.enabled(if: TestPaths.hasSharedData, "needs ../shared/data"))
struct ReferenceCompatibilityTests {
    struct Case: Decodable {
        var path: String
        var label: String
        var logits: [Double]
        var predicted: Int
        var saliency: [Double]
        var skewness: Double
    }

    struct Reference: Decodable {
        var classes: [String]
        var cases: [Case]
    }

    static func reference() throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: TestPaths.shared("reference/pointnet-reference.json"))))
    }

    @Test func referenceWeightsLoadAndLogitsMatch() throws {
        let reference = try Self.reference()
        let model = try Model.load(TestPaths.shared("reference/pointnet-reference.safetensors"))
        #expect(model.metadata.classes == reference.classes)
        #expect(model.metadata.architecture == .pointnet(classes: 10, embedding: 1024))
        let clouds = try reference.cases.map { try PointCloud(contentsOf: TestPaths.shared($0.path)) }
        let predictions = model.predict(clouds)
        #expect(reference.cases.count == 16)
        for (c, p) in zip(reference.cases, predictions) {
            let worst = zip(c.logits, p.logits).map { abs($0 - Double($1)) }.max()!
            #expect(worst < 1e-3, "\(c.path): logits differ by \(worst)")
            #expect(p.label == c.predicted, "\(c.path)")
        }
        // One at a time (batch of 1) gives the same logits as in a batch: inference has no batch coupling.
        let single = model.predict([clouds[3]])[0]
        #expect(zip(single.logits, predictions[3].logits).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test func savedModelReloadsIdentically() throws {
        let model = try Model.load(TestPaths.shared("reference/pointnet-reference.safetensors"))
        let path = TestPaths.scratch().appendingPathComponent("copy.safetensors").path
        try model.save(to: path)
        let again = try Model.load(path)
        #expect(again.metadata == model.metadata)
        for (a, b) in zip(model.network.stateTensors, again.network.stateTensors) {
            #expect(a.name == b.name && a.value.array == b.value.array)
        }
    }
}
