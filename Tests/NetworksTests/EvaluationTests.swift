import Foundation
import Networks
import Output
import PointClouds
import Testing
import TestSupport

/// Evaluation figures and rows against hand counts; the `evaluate` pipeline against one prediction per
/// cloud; labelled sets read for a model, and their seeded subsets.
@Suite struct EvaluationTests {
    static let classes = ["chair", "lamp", "table"]

    /// A small PointNet with random weights (the same each call; a model is not shared between tests).
    static func model() -> Model {
        Model(metadata: ModelMetadata(architecture: .pointnet(classes: 3, embedding: 64), classes: classes,
                                                     preprocessing: .standard(points: 256)), seed: 4)
    }

    /// Class folders holding the samples: (class, sample) pairs.
    static func tree(_ files: [(String, String)]) throws -> URL {
        let root = TestPaths.scratch()
        for (label, sample) in files {
            let folder = root.appendingPathComponent(label)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: TestPaths.sample(sample), toPath: folder.appendingPathComponent(sample).path)
        }
        return root
    }

    static let samples = [("chair", "chair_cad.pcd"), ("chair", "chair_scan.pcd"), ("lamp", "lamp_cad.ply"), ("table", "bunny.pcd")]

    @Test func figuresRowsAndTableFollowTheCounts() throws {
        let names = ["chair", "bookshelf_with_a_long_name", "table", "lamp"]
        // chair 1 of 2, bookshelf 2 of 2, table 2 of 3, lamp: no clouds (predicted once).
        let e = Evaluation(classes: names, truth: [0, 0, 1, 1, 2, 2, 2], predicted: [0, 3, 1, 1, 2, 0, 2])
        #expect(e.total == 7 && e.correct == 5)
        #expect(e.overallAccuracy == 5.0 / 7)
        #expect(abs(e.meanClassAccuracy - (0.5 + 1 + 2.0 / 3) / 3) < 1e-12)

        let r = e.record(model: "m.safetensors", data: "set", skipped: 1)
        #expect(r.fields.map(\.key) == ["model", "data", "clouds", "skipped", "overall_accuracy", "mean_class_accuracy", "per_class", "classes", "confusion"])
        #expect(r["per_class"] == .object(Record(fields: [("chair", .double(0.5)), ("bookshelf_with_a_long_name", .double(1)), ("table", .double(2.0 / 3))])))
        #expect(r["confusion"] == .array([[1, 0, 0, 1], [0, 2, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]].map { .array($0.map(Value.int)) }))

        let rows = e.classRecords
        #expect(rows.count == 4 && rows.allSatisfy { $0.fields.map(\.key) == ["class", "clouds", "correct", "accuracy", "predicted"] })
        #expect(rows[2] == Record(fields: [("class", .string("table")), ("clouds", .int(3)), ("correct", .int(2)), ("accuracy", .double(2.0 / 3)),
                                           ("predicted", .array([1, 0, 2, 0].map(Value.int)))]))
        #expect(rows[3]["accuracy"] == .null && rows[3]["clouds"] == .int(0))

        // Every name whole, the columns of the confusion matrix aligned under their class numbers.
        let table = e.table
        #expect(table[0] == "overall accuracy     71.43 %  (5 of 7)")
        #expect(table.contains { $0.hasPrefix("bookshelf_with_a_long_name ") && $0.hasSuffix("100.00 %") })
        let matrix = try #require(table.firstIndex(of: "confusion (rows: true, columns: predicted)"))
        let header = table[matrix + 1], bookshelf = table[matrix + 3]
        #expect(bookshelf.hasPrefix("1 bookshelf_with_a_long_name"))
        #expect(header.count == bookshelf.count && header.hasSuffix("3") && bookshelf.hasSuffix("0"))
        #expect(!table.contains { $0.hasPrefix("lamp ") }, "a class without clouds has no accuracy line")
    }

    @Test func evaluatePipelineMatchesOnePredictionPerCloud() throws {
        let model = Self.model()
        let root = try Self.tree(Self.samples)
        let (evaluation, skipped) = try model.evaluate(data: root.path, console: .silent)
        let truth = Self.samples.map { Self.classes.firstIndex(of: $0.0)! }
        let predicted = try Self.samples.map { _, name in
            try model.predict([model.prepare(PointCloud(contentsOf: TestPaths.sample(name)), path: name)])[0].label
        }
        #expect(skipped == 0)
        #expect(evaluation == Evaluation(classes: Self.classes, truth: truth, predicted: predicted))
    }

    @Test func aLimitIsASeededSubsetInSetOrder() throws {
        let model = Self.model()
        let set = LabelledSet(unlabelled: (0 ..< 50).map { String(format: "c%02d.pcd", $0) })
        let a = set.limited(to: 10, seed: 3), again = set.limited(to: 10, seed: 3)
        #expect(a.samples.count == 10 && a.samples == again.samples)
        #expect(a.samples.map(\.path) == a.samples.map(\.path).sorted())
        #expect(Set(a.samples.map(\.path)).count == 10 && a.samples.allSatisfy(set.samples.contains))
        #expect((4 ... 8).contains { set.limited(to: 10, seed: UInt64($0)).samples != a.samples }, "another seed, another subset")
        #expect(set.limited(to: 50, seed: 3).samples == set.samples && set.limited(to: nil, seed: 3).samples == set.samples)

        // Through the pipeline: that many clouds, the same ones for the same seed.
        let root = try Self.tree(Self.samples)
        let first = try LabelledData.load(root.path, for: model, limit: 2, seed: 9, console: .silent).set
        let second = try LabelledData.load(root.path, for: model, limit: 2, seed: 9, console: .silent).set
        #expect(first.count == 2 && first.paths == second.paths && first.paths == first.paths.sorted())
        #expect(try model.evaluate(data: root.path, limit: 3, console: .silent).evaluation.total == 3)
    }

    @Test func labelledDataIsInTheModelsClassOrderAndSaysWhatIsWrong() throws {
        let model = Self.model()
        // A subset of the model's classes: labels follow the model's order, not the set's.
        let root = try Self.tree([("table", "bunny.pcd"), ("lamp", "lamp_cad.ply")])
        let (set, skipped) = try LabelledData.load(root.path, for: model, console: .silent)
        #expect(set.classes == Self.classes && set.labels == [1, 2] && skipped == 0)

        let unknown = try Self.tree([("chair", "chair_cad.pcd"), ("sofa", "bunny.pcd"), ("bed", "lamp_cad.ply")])
        #expect(throws: PointCloudError.invalid(path: unknown.path, reason: "classes the model does not know: bed, sofa")) {
            try LabelledData.load(unknown.path, for: model, console: .silent)
        }

        // An unreadable file is skipped with a warning; a set with none usable is an error.
        let broken = try Self.tree([("chair", "chair_cad.pcd")])
        try Data("not a cloud".utf8).write(to: broken.appendingPathComponent("chair/broken.pcd"))
        let lines = Lines()
        let console = Console(level: .normal) { lines.append($0) }
        let partial = try LabelledData.load(broken.path, for: model, console: console)
        #expect(partial.set.count == 1 && partial.skipped == 1)
        #expect(lines.all.count == 1 && lines.all[0].contains("warning: skipped") && lines.all[0].contains("broken.pcd"))
        try FileManager.default.removeItem(at: broken.appendingPathComponent("chair/chair_cad.pcd"))
        #expect(throws: PointCloudError.invalid(path: broken.path, reason: "no usable clouds")) {
            try LabelledData.load(broken.path, for: model, console: .silent)
        }
    }
}

/// Lines a `Console` printed.
final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines = [String]()
    var all: [String] { lock.withLock { lines } }
    func append(_ line: String) { lock.withLock { lines.append(line) } }
}
