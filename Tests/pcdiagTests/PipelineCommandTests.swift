import Foundation
import Testing
import TestSupport

/// What `classify`, `batch`, `merge` and `saliency` promise at the command line: output that cannot be
/// written, one writer per row file, a cut-off row, manifests as input, one skewness, the floor notice.
/// On the shipped samples and model, so these run without the shared data.
@Suite struct PipelineCommandTests {
    static let samples = ["chair_cad.pcd", "chair_scan.pcd", "lamp_cad.ply"].map(TestPaths.sample)

    static func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test func aFullDiskIsExitSixAndAReaderThatLeftIsAQuietExitZero() throws {
        let full = try CLI.runWithStdout(["info", Self.samples[0], "--format", "json"], stdout: FileHandle(forWritingAtPath: "/dev/full")!)
        #expect(full.status == 6)
        #expect(full.stderrLines.count == 1 && full.stderr.contains("standard output") && full.stderr.contains("No space left"))
        let pipe = Pipe()
        try pipe.fileHandleForReading.close()
        let gone = try CLI.runWithStdout(["classify", "--no-diagnostics", "--format", "jsonl"] + Self.samples, stdout: pipe.fileHandleForWriting)
        #expect(gone.status == 0 && gone.stderr.isEmpty, "\(gone.stderr)")
    }

    @Test func aSecondWriterOfOneRowFileIsRefused() throws {
        let dir = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = dir.appendingPathComponent("rows.jsonl").path
        #expect(FileManager.default.createFile(atPath: rows, contents: Data()))
        let fd = open(rows, O_RDWR)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let run = try CLI.run(["batch", Self.samples[0], "-o", rows, "-q"])
        #expect(run.status == 6)
        #expect(run.stderrLines.count == 1 && run.stderr.contains("rows.jsonl") && run.stderr.contains("locked"))
    }

    @Test func aCutOffRowIsDroppedOnResumeAndTheRunCompletes() throws {
        let dir = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows = dir.appendingPathComponent("rows.jsonl").path
        let first = try CLI.run(["batch"] + Self.samples.prefix(2) + ["-o", rows, "-q"], timeout: 120)
        #expect(first.status == 0, "\(first.stderr)")
        let whole = try Self.lines(rows)
        #expect(whole.count == 2)
        // A kill in the middle of the second row.
        let text = whole[0] + "\n" + whole[1].prefix(40)
        try text.write(toFile: rows, atomically: false, encoding: .utf8)
        let resumed = try CLI.run(["batch"] + Self.samples + ["-o", rows], timeout: 120)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("dropped a cut-off last row"))
        let after = try Self.lines(rows)
        #expect(after.count == 3 && after[0] == whole[0])
        #expect(Set(after.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.map { $0["path"] as! String })
            == Set(Self.samples))
    }

    @Test func aManifestGivesLabelsAndMergeUsesTheDefaultModel() throws {
        let dir = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let manifest = dir.appendingPathComponent("m.csv").path
        try "path,label\n\(Self.samples[0]),chair\n\(Self.samples[2]),chair\n".write(toFile: manifest, atomically: true, encoding: .utf8)
        let rows = dir.appendingPathComponent("rows.csv").path
        let batch = try CLI.run(["batch", manifest, "-o", rows], timeout: 120)
        #expect(batch.status == 0, "\(batch.stderr)")
        #expect(batch.stdout.contains("accuracy 50.00 % (2 labelled)"))
        let merged = dir.appendingPathComponent("merged.csv").path
        let merge = try CLI.run(["merge", rows, "-o", merged])
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(merge.stdout.contains("shift: Too few objects"), "the default model's calibration was used")
        #expect(try Self.lines(merged) == Self.lines(rows).sorted { $0.hasPrefix("path,") || (!$1.hasPrefix("path,") && $0 < $1) })
    }

    @Test func saliencyReportsTheSkewnessClassifyReports() throws {
        let dir = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bunny = TestPaths.sample("bunny.pcd")
        let classify = try CLI.run(["classify", bunny, "--format", "json"], timeout: 120)
        let render = dir.appendingPathComponent("views.svg").path
        let saliency = try CLI.run(["saliency", bunny, "--format", "json", "--render", render], timeout: 120)
        let c = try #require(JSONSerialization.jsonObject(with: Data(classify.stdout.utf8)) as? [String: Any])
        let s = try #require(JSONSerialization.jsonObject(with: Data(saliency.stdout.utf8)) as? [String: Any])
        let skewness = try #require(c["skewness"] as? Double), mapSkewness = try #require(s["skewness"] as? Double)
        #expect(abs(skewness - mapSkewness) < 1e-5 * max(1, abs(skewness)), "classify \(skewness), saliency \(mapSkewness)")
        #expect(s["output"] as? String == render && FileManager.default.fileExists(atPath: render))
    }

    @Test func aFloorStepThatFindsNoFloorSaysSo() throws {
        let run = try CLI.run(["classify", "--remove-floor", "--up-axis", "z", "--voxel", "0.001"] + Self.samples.prefix(1), timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("floor removal found no floor in 1 of 1 inputs"))
    }
}
