import Engine
import Foundation
import Networks
import PointClouds
import Testing
import TestSupport

/// Model files that ask for absurd work or whose tensors do not fit: a `ModelError` at load, naming
/// the file, before any work.
@Suite struct ModelFileHostileTests {
    static let metadata = ModelMetadata(architecture: .pointnet(classes: 2, embedding: 8), classes: ["a", "b"],
                                        preprocessing: .standard(points: 64))

    /// A small valid model file, as safetensors to edit.
    static func file() throws -> SafeTensors {
        let path = TestPaths.scratch().appendingPathComponent("m.safetensors").path
        try Model(metadata: metadata, seed: 3).save(to: path)
        return try SafeTensors.read(path)
    }

    static func load(_ file: SafeTensors) throws -> (path: String, result: Result<Model, ModelError>) {
        let path = TestPaths.scratch().appendingPathComponent("m.safetensors").path
        try file.write(to: path)
        return (path, Result { () throws(ModelError) in try Model.load(path) })
    }

    static func expectInvalid(_ file: SafeTensors, _ words: String) throws {
        let (path, result) = try load(file)
        guard case .failure(.invalid(let p, let reason)) = result else {
            Issue.record("expected an invalid model, got \(result)")
            return
        }
        #expect(p == path)
        #expect(reason.contains(words), "\(reason)")
    }

    static func withMetadata(_ change: (inout ModelMetadata) -> Void) throws -> SafeTensors {
        var f = try file()
        var m = metadata
        change(&m)
        f.metadata["pcdiag"] = String(decoding: try JSONEncoder().encode(m), as: UTF8.self)
        return f
    }

    @Test func absurdMetadataIsRefused() throws {
        try Self.expectInvalid(Self.withMetadata { $0.preprocessing = .standard(points: 1_000_000_000) }, "sampling 1000000000 points")
        try Self.expectInvalid(Self.withMetadata { $0.preprocessing.steps.insert(.removeOutliers(neighbours: 5000, stddev: 1), at: 0) }, "5000 neighbours")
        try Self.expectInvalid(Self.withMetadata { $0.preprocessing.steps.insert(.voxelGrid(size: 0), at: 0) }, "voxel size")
        try Self.expectInvalid(Self.withMetadata { $0.architecture = .dgcnn(classes: 2, k: 100, embedding: 8) }, "sampling 64 points for a network that needs at least 101")
        try Self.expectInvalid(Self.withMetadata { $0.architecture = .pointnet(classes: 20_000, embedding: 8) }, "20000 classes")
        try Self.expectInvalid(Self.withMetadata { $0.architecture = .pointnet(classes: 2, embedding: 1 << 30) }, "embedding")
        var plain = try Self.file()
        plain.metadata["pcdiag"] = nil
        plain.metadata["points"] = "1000000000"
        try Self.expectInvalid(plain, "sampling 1000000000 points")
    }

    @Test func aFloatTensorRelabelledAsIntegersIsRefused() throws {
        var f = try Self.file()
        f["conv1.weight"]!.dtype = .I32
        try Self.expectInvalid(f, "tensor 'conv1.weight' is I32")
    }

    @Test func anExtraUnitDimensionIsRefused() throws {
        var f = try Self.file()
        f["bn5.weight"]!.shape = [8, 1]
        try Self.expectInvalid(f, "tensor 'bn5.weight' has shape [8, 1], expected [8]")
    }

    @Test func halfWeightsWidenExactly() throws {
        var f = try Self.file()
        let values: [Float] = [0.5, -1.25, 3, 0, 0.125, 2, -0.75, 1]
        f["bn5.weight"] = .init(dtype: .F16, shape: [8], bytes: [0x3800, 0xBD00, 0x4200, 0, 0x3000, 0x4000, 0xBA00, 0x3C00].flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        let model = try Self.load(f).result.get()
        #expect(model.network.stateTensors.first { $0.name == "bn5.weight" }!.value.array == values)
    }

    @Test func nonFiniteWeightsAndTwiceStoredTensorsAreRefused() throws {
        var f = try Self.file()
        f["bn5.bias"] = .init(shape: [8], floats: [0, 0, .nan, 0, 0, 0, 0, 0])
        try Self.expectInvalid(f, "NaN or infinite")
        var g = try Self.file()
        g["module.bn5.bias"] = g["bn5.bias"]
        try Self.expectInvalid(g, "stored twice")
    }

    /// Seeded mutations of a whole model file: `Model.load` gives a model or a `ModelError`.
    @Test func mutatedModelFilesGiveAModelOrAnError() throws {
        let dir = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let original = dir.appendingPathComponent("original.safetensors").path
        try Self.file().write(to: original)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: original)))
        let headerEnd = 8 + Int(bytes[0]) + Int(bytes[1]) << 8
        var mutator = Mutator(seed: 5)
        var refused = 0
        for i in 0 ..< 800 {
            let path = dir.appendingPathComponent("m\(i % 4).safetensors").path
            try Data(mutator.mutate(bytes, headerEnd: headerEnd)).write(to: URL(fileURLWithPath: path))
            do {
                _ = try Model.load(path)
            } catch {
                #expect(error.description.hasPrefix(path), "\(error)")
                refused += 1
            }
        }
        #expect(refused > 200)
    }
}
