import Diagnostics
import Foundation
import Output
@testable import Pipelines
import PointClouds
import Support
import Testing
import TestSupport

@Suite struct RowFileTests {
    static func row(_ i: Int, label: String? = "chair") -> ObjectRow {
        var random = SeededGenerator(seed: UInt64(i))
        let value = { Double.random(in: -3 ... 3, using: &random) }
        var indicators = [Indicator: Double]()
        for indicator in Indicator.allCases where indicator != .mahalanobis { indicators[indicator] = ObjectRow.rounded(value()) }
        return ObjectRow(path: "scans/\(i), \"odd\" name.pcd", points: 100 + i, predicted: i % 2 == 0 ? "chair" : "lamp",
                         probability: Float.random(in: 0.1 ... 1, using: &random), label: label, indicators: indicators,
                         fragility: ObjectRow.rounded(value()), fragile: i % 3 == 0, reasons: i % 3 == 0 ? ["skewness 4.2 > 3.1", "kurtosis 9.5 > 8"] : [],
                         milliseconds: 12.345, top: [], logits: [])
    }

    static func write(_ rows: [ObjectRow], to path: String) throws {
        let sink = try RowSink(appendingTo: path, keep: 0)
        for row in rows { try sink.emit([row]) }
        sink.finish()
    }

    static func readAll(_ path: String) throws -> (rows: [ObjectRow], reading: RowFile.Reading) {
        var rows = [ObjectRow]()
        let reading = try RowFile(path).read { rows.append($0) }
        return (rows, reading)
    }

    @Test(arguments: ["rows.jsonl", "rows.csv"])
    func rowsComeBackWithEveryValueEqual(name: String) throws {
        let folder = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent(name).path
        let rows = (0 ..< 20).map { Self.row($0, label: $0 == 4 ? nil : "chair") }
        try Self.write(rows, to: path)
        let (back, reading) = try Self.readAll(path)
        #expect(back == rows)
        #expect(reading.rows == 20 && reading.tornTail == 0)
        #expect(reading.completeLength == UInt64(try Data(contentsOf: URL(fileURLWithPath: path)).count))
        // Written again from what was read: the same bytes (what merge relies on).
        let again = folder.appendingPathComponent("again-" + name).path
        try Self.write(back, to: again)
        #expect(try Data(contentsOf: URL(fileURLWithPath: again)) == Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test(arguments: ["rows.jsonl", "rows.csv"])
    func aCutOffLastRowIsDroppedAndTheFileContinues(name: String) throws {
        let folder = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent(name).path
        try Self.write((0 ..< 5).map { Self.row($0) }, to: path)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        // Cut the last row in the middle, as a kill or a full disk does.
        let cut = whole.count - 9
        try whole.prefix(cut).write(to: URL(fileURLWithPath: path))
        let (rows, reading) = try Self.readAll(path)
        #expect(rows.count == 4)
        #expect(reading.tornTail > 0)
        let (sink, summary, done) = try RowSink.resuming(path, force: false, console: .silent)
        #expect(summary.objects == 4 && done.count == 4)
        try sink.emit([Self.row(4)])
        sink.finish()
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == whole)
    }

    @Test func aLineThatIsNotARowFailsNamingTheFileAndLine() throws {
        let folder = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("rows.jsonl").path
        try Data("{\"path\":\"a.pcd\",\"class\":\"chair\",\"probability\":0.5}\nnot json\n{\"path\":\"b.pcd\",\"class\":\"chair\",\"probability\":0.5}\n".utf8)
            .write(to: URL(fileURLWithPath: path))
        #expect(throws: CommandFailure.self) { try Self.readAll(path) }
        do { _ = try Self.readAll(path) } catch let failure as CommandFailure {
            #expect(failure.message == "\(path):2: not a row of pcdiag batch")
            #expect(failure.status == .badInput)
        }
    }

    @Test func aSecondWriterIsRefusedWhileTheFirstHoldsTheFile() throws {
        let folder = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("rows.jsonl").path
        let first = try RowSink(appendingTo: path, keep: 0)
        try first.emit([Self.row(1)])
        #expect(throws: CommandFailure.self) { _ = try RowSink(appendingTo: path, keep: 0) }
        // Refused before touching the file: the first writer's row is still there.
        #expect(try Self.readAll(path).rows.count == 1)
        first.finish()
    }

    @Test func mergeSortsByPathKeepsTheFirstOfEachAndWritesWholeRows() throws {
        let folder = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let rows = (0 ..< 12).map { Self.row($0) }
        let a = folder.appendingPathComponent("a.jsonl").path, b = folder.appendingPathComponent("b.csv").path
        try Self.write(rows.enumerated().filter { $0.offset % 2 == 0 }.map(\.element).reversed(), to: a)
        try Self.write(rows.enumerated().filter { $0.offset % 2 == 1 }.map(\.element) + [rows[0]], to: b)
        let out = folder.appendingPathComponent("all.jsonl").path
        let summary = try Merge.run([a, b], into: out)
        let merged = try Self.readAll(out).rows
        #expect(summary.objects == 12)
        #expect(merged.map(\.path) == rows.map(\.path).sorted())
        #expect(merged == rows.sorted { $0.path < $1.path })
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }.isEmpty, "no temporary file left")
    }
}

@Suite struct InputTests {
    @Test func shardsSplitEveryPathIntoExactlyOne() {
        let paths = (0 ..< 500).map { "scans/\($0).pcd" }
        let shards = (1 ... 4).map { Shard("\($0)/4")! }
        for path in paths { #expect(shards.filter { $0.contains(path) }.count == 1) }
        let sizes = shards.map { s in paths.filter(s.contains).count }
        #expect(sizes.allSatisfy { $0 > 80 }, "a hash split is near even: \(sizes)")
        for bad in ["0/4", "5/4", "1/0", "a/b", "3", "1/2/3"] { #expect(Shard(bad) == nil) }
    }

    @Test func aManifestBringsItsLabelsAndFoldersCanNameThem() throws {
        let folder = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fm = FileManager.default
        for (cls, name) in [("chair", "a.pcd"), ("lamp", "b.pcd")] {
            try fm.createDirectory(at: folder.appendingPathComponent(cls), withIntermediateDirectories: true)
            #expect(fm.createFile(atPath: folder.appendingPathComponent("\(cls)/\(name)").path, contents: Data()))
        }
        let manifest = folder.appendingPathComponent("m.csv").path
        try "chair/a.pcd,sofa\nlamp/b.pcd,lamp\n".write(toFile: manifest, atomically: true, encoding: .utf8)
        let fromManifest = try InputItem.expand([manifest])
        #expect(fromManifest.map(\.label) == ["sofa", "lamp"])
        #expect(fromManifest.map { ($0.path as NSString).lastPathComponent } == ["a.pcd", "b.pcd"])
        let fromFolders = try InputItem.expand([folder.path], labelsFromFolders: true)
        #expect(fromFolders.map(\.label) == ["chair", "lamp"])
        #expect(try InputItem.expand([folder.path]).allSatisfy { $0.label == nil })
        // The manifest first: its label wins for a path given twice.
        #expect(try InputItem.expand([manifest, folder.appendingPathComponent("chair/a.pcd").path], labelsFromFolders: true).map(\.label) == ["sofa", "lamp"])
    }

    @Test func conditioningStepsGoFirstInOrderAndOnlyOnce() {
        let model = Preprocessing(steps: [.removeNonFinite, FloorRemoval().step, .normalize, .sample(points: 1024, seed: 0)])
        let out = model.conditioning([.voxelGrid(size: 0.01), .upAxis(from: .y), FloorRemoval().step])
        #expect(out.steps == [.removeNonFinite, .voxelGrid(size: 0.01), .upAxis(from: .y), FloorRemoval().step, .normalize, .sample(points: 1024, seed: 0)])
        #expect(Preprocessing.standard().conditioning([]) == .standard())
    }
}
