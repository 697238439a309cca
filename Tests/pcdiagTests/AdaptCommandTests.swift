import Foundation
import Testing
import TestSupport

/// `adapt` through the binary on a slice of the shared data with the shipped PointNet: the model, its
/// provenance, the JSON report, resume, labels for reporting, and the refusals.
@Suite(.enabled(if: TestPaths.hasSharedData, "needs ../shared/data"), .serialized)
struct AdaptCommandTests {
    static let dir = TestPaths.scratch("adapt-command")
    static let shipped = DiagnosticsCommandTests.shipped

    /// Three scans per class in class folders (links to the shared files).
    static let labelledTarget: String = {
        let root = dir.appendingPathComponent("target")
        let fm = FileManager.default
        let test = TestPaths.shared("scans-sim/test")
        for name in try! fm.contentsOfDirectory(atPath: test).sorted() {
            let folder = root.appendingPathComponent(name)
            try! fm.createDirectory(at: folder, withIntermediateDirectories: true)
            for file in try! fm.contentsOfDirectory(atPath: test + "/" + name).filter({ $0.hasSuffix(".pcd") }).sorted().prefix(3) {
                try? fm.createSymbolicLink(atPath: folder.appendingPathComponent(file).path, withDestinationPath: test + "/" + name + "/" + file)
            }
        }
        return root.path
    }()

    static func adapt(_ output: String, _ extra: [String]) throws -> CLI.Run {
        try CLI.run(["adapt", "--model", shipped, "--source", DiagnosticsCommandTests.manifest, "-o", output,
                     "--epochs", "2", "--batch-size", "8", "--limit", "40", "--format", "json"] + extra, timeout: 600)
    }

    static func json(_ path: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    @Test func adaptsRecordsProvenanceAndResumes() throws {
        let output = Self.dir.appendingPathComponent("adapted.safetensors").path
        let run = try Self.adapt(output, ["--target", "@" + DiagnosticsCommandTests.scans, "--self-training-from", "2", "--remove-floor"])
        #expect(run.status == 0, "\(run.stderr)")
        let record = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(record["model"] as? String == output)
        #expect(record["target_accuracy"] is NSNull, "no target labels, no target accuracy")
        #expect(run.stderr.contains("not calibrated"))

        let report = try Self.json(Self.dir.appendingPathComponent("adapted.json").path)
        let epochs = try #require(report["epochs"] as? [[String: Any]])
        #expect(epochs.count == 2)
        let gate = try #require(epochs[0]["gate"] as? [String: Any])
        #expect(gate["kept_fraction"] as? Double == 0.5)
        #expect((gate["mean_skewness_kept"] as! Double) <= (gate["mean_skewness_dropped"] as! Double))
        let agreement = try #require(epochs[0]["agreement"] as? [String: Any])
        #expect(agreement["reference"] as? String == "source")
        #expect(report["selected_epoch"] as? Int == record["epoch"] as? Int)

        let info = try CLI.run(["info", output, "--format", "json"])
        let described = try #require(JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        let adaptation = try #require(described["adaptation"] as? [String: Any])
        #expect(adaptation["source_model"] as? String == Self.shipped)
        #expect(adaptation["epochs"] as? Int == 2)
        #expect((adaptation["recipe"] as? String)?.contains("gate skewness ρ 0.5") == true)
        #expect(described["calibrated"] as? Bool == false)
        #expect((described["preprocessing"] as? [String])?.contains { $0.hasPrefix("floor removal") } == true, "the adapted model records --remove-floor")
        #expect(described["trained_on"] != nil, "the source training record is kept")
        let table = try CLI.run(["info", output]).stdout.split(separator: "\n").map(String.init)
        #expect(table.first == output, "a model is described as a block under its path")
        #expect(table.contains { $0.hasPrefix("  architecture") && $0.hasSuffix("pointnet") })
        #expect(table.contains { $0.hasPrefix("    source_model") && $0.hasSuffix(Self.shipped) }, "the adaptation record nested")

        let pseudo = try #require(epochs[1]["pseudo_labels"] as? [String: Any])
        #expect(pseudo["share"] as? Double == 0.2 && pseudo["accuracy"] == nil, "the first self-training epoch takes the start share; no labels, no accuracy")
        #expect(epochs[0]["pseudo_labels"] == nil)

        let again = try Self.adapt(output, ["--target", "@" + DiagnosticsCommandTests.scans, "--self-training-from", "2"])
        #expect(again.status == 6 && again.stderr.contains("exists"))
        let resumed = try Self.adapt(output, ["--target", "@" + DiagnosticsCommandTests.scans, "--self-training-from", "2", "--resume", "--epochs", "3"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resumed from") && resumed.stderr.contains("after epoch 2"))
        #expect(try (Self.json(Self.dir.appendingPathComponent("adapted.json").path)["epochs"] as? [Any])?.count == 3)
    }

    @Test func targetLabelsAreReportedNotUsed() throws {
        let output = Self.dir.appendingPathComponent("labelled.safetensors").path
        let run = try Self.adapt(output, ["--target", Self.labelledTarget, "--target-labels", "--gate", "random", "--epochs", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let epochs = try #require(try Self.json(Self.dir.appendingPathComponent("labelled.json").path)["epochs"] as? [[String: Any]])
        #expect((0 ... 1).contains(epochs[0]["target_accuracy"] as? Double ?? -1))
        #expect((epochs[0]["agreement"] as? [String: Any])?["reference"] as? String == "target-oracle")
        #expect(epochs[0]["measurer_seconds"] as? Double == 0, "the random gate measures nothing")
    }

    /// A run made to go wrong on purpose (a learning rate ten thousand times the default): the guard
    /// fails its epochs, warns, and writes a model no worse on the target than the source model. The
    /// target's labels are read for reporting and checked here, never by the guard.
    @Test func theGuardRollsBackADestructiveRun() throws {
        let output = Self.dir.appendingPathComponent("destroyed.safetensors").path
        let args = ["--target", Self.labelledTarget, "--target-labels", "--gate", "random", "--lr", "1"]
        let run = try Self.adapt(output, args)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("failed the target guard") && run.stderr.contains("rolled the adaptation back"), "\(run.stderr)")
        let record = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(record["rolled_back"] as? Bool == true)
        let report = try Self.json(Self.dir.appendingPathComponent("destroyed.json").path)
        let guardSummary = try #require(report["target_guard"] as? [String: Any])
        let sourceAccuracy = try #require(guardSummary["source_target_accuracy"] as? Double)
        #expect((record["target_accuracy"] as? Double ?? -1) >= sourceAccuracy, "the model written is no worse on the target than the source")
        #expect(report["selected_epoch"] as? Int == record["epoch"] as? Int)
        #expect((guardSummary["failed"] as? [Int])?.contains(guardSummary["unguarded_epoch"] as? Int ?? -1) == true)
        let epochs = try #require(report["epochs"] as? [[String: Any]])
        #expect((epochs[0]["target_guard"] as? [String: Any])?["vetoed"] as? Bool == true)

        let info = try CLI.run(["info", output, "--format", "json"])
        let described = try #require(JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        let shown = try #require((described["adaptation"] as? [String: Any])?["guard"] as? [String: Any])
        #expect(shown["rolled_back"] as? Bool == true && shown["reason"] is String)
        #expect((shown["agreement"] as? [Double])?.count == 3, "the source model's figures and both epochs'")
        #expect(try CLI.run(["info", output]).stdout.contains("rolled_back"))

        let unguarded = try Self.adapt(Self.dir.appendingPathComponent("unguarded.safetensors").path, args + ["--guard", "off"])
        #expect(unguarded.status == 0, "\(unguarded.stderr)")
        #expect(unguarded.stderr.contains("the guard is off"), "warned that the model written failed the guard: \(unguarded.stderr)")
        let off = try #require(JSONSerialization.jsonObject(with: Data(unguarded.stdout.utf8)) as? [String: Any])
        #expect(off["rolled_back"] as? Bool == false && off["epoch"] as? Int != 0)
    }

    @Test func badInputsGetOneLineErrors() throws {
        let empty = Self.dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let none = try Self.adapt(Self.dir.appendingPathComponent("x.safetensors").path, ["--target", empty.path])
        #expect(none.status == 3 && none.stderrLines.count == 1, "\(none.stderr)")
        let late = try Self.adapt(Self.dir.appendingPathComponent("y.safetensors").path, ["--target", empty.path, "--self-training-from", "5"])
        #expect(late.status == 2 && late.stderr.contains("--self-training-from"))
        for (option, value) in [("--guard", "maybe"), ("--guard-agreement", "1.5"), ("--guard-confident-share", "0"), ("--simulate-views", "1.5"), ("--view-severities", "4:2"), ("--view-severities", "0:3"), ("--view-severities", "2:x"), ("--pseudo-share", "a:0.3")] {
            let bad = try Self.adapt(Self.dir.appendingPathComponent("v.safetensors").path, ["--target", empty.path, option, value])
            #expect(bad.status == 2 && bad.stderr.contains(option), "\(option) \(value): \(bad.stderr)")
        }
        let existing = Self.dir.appendingPathComponent("kept.safetensors").path
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: existing))
        let noCheckpoint = try Self.adapt(existing, ["--target", empty.path, "--resume"])
        #expect(noCheckpoint.status == 6, "--resume without a checkpoint does not replace an existing file")
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "not a model")
        let nowhere = try Self.adapt("/nonexistent-folder/z.safetensors", ["--target", empty.path])
        #expect(nowhere.status == 6 && nowhere.stderr.contains("does not exist"))
    }
}
