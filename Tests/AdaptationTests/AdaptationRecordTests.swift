import Foundation
import Networks
import Testing
@testable import Adaptation

/// The adaptation record travels in the model file as an attachment, beside the calibration.
@Suite struct AdaptationRecordTests {
    static let record = AdaptationRecord(sourceModel: "a.safetensors", sourceData: "src", targetData: "tgt", epoch: 2, epochs: 3, seed: 1,
                                         recipe: "adam", sourceValidationAccuracy: 0.75, command: "pcdiag adapt")

    @Test func survivesSaveAndLoad() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("record-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var model = Model(metadata: ModelMetadata(architecture: .pointnet(classes: 2, embedding: 16), classes: ["a", "b"]))
        #expect(try AdaptationRecord(model.attachments, path: path) == nil, "a model that was never adapted has no record")
        try Self.record.store(in: &model.attachments, path: path)
        try model.save(to: path)
        let loaded = try Model.load(path)
        #expect(try AdaptationRecord(loaded.attachments, path: path) == Self.record)
        #expect(loaded.metadata == model.metadata, "the record is not part of the network's metadata")
    }

    @Test func impossibleFiguresNameTheFile() throws {
        var attachments = Attachments()
        var record = Self.record
        record.epoch = 4
        try record.store(in: &attachments, path: "m")
        #expect(throws: ModelError.invalid(path: "m", reason: "an adaptation record of epoch 4 of 3 (allowed ≤ 1000000 epochs)")) {
            try AdaptationRecord(attachments, path: "m")
        }
        attachments.metadata[AdaptationRecord.metadataKey] = "{\"epoch\": 1}"
        #expect(throws: ModelError.invalid(path: "m", reason: "the adaptation record is not valid")) { try AdaptationRecord(attachments, path: "m") }
        record = Self.record
        record.sourceValidationAccuracy = .nan
        #expect(throws: ModelError.self) { try record.store(in: &attachments, path: "m") }
    }
}
