import Foundation
import Testing
import TestSupport

/// `evaluate`, `robustness`, `evaluate-ood` and `calibrate` through the binary: every --format, --limit,
/// and the errors they give; on the shipped samples with a small random model. (Their figures are
/// checked in the library's tests.)
@Suite struct EvaluationCommandTests {
    static let model = ModelCommandTests.modelPath

    /// Class folders of the model's classes holding the samples.
    static func tree(_ files: [(String, String)]) -> String {
        let root = TestPaths.scratch("evaluation-commands")
        for (label, sample) in files {
            let folder = root.appendingPathComponent(label)
            try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try! FileManager.default.copyItem(atPath: TestPaths.sample(sample), toPath: folder.appendingPathComponent(sample).path)
        }
        return root.path
    }

    static let data = tree([("chair", "chair_cad.pcd"), ("chair", "chair_scan.pcd"), ("lamp", "lamp_cad.ply"), ("table", "bunny.pcd")])

    static func run(_ arguments: [String], format: String) throws -> CLI.Run {
        let run = try CLI.run(arguments + ["--format", format], timeout: 120)
        #expect(run.status == 0, "\(arguments[0]) --format \(format): \(run.stderr)")
        return run
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// JSON lines, each an object.
    static func lines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { try object(String($0)) }
    }

    /// The header and the rows of a CSV text, every row as wide as the header.
    static func csv(_ text: String) throws -> (header: String, rows: [[String: String]]) {
        let lines = text.split(separator: "\n").map(String.init)
        let header = try #require(lines.first)
        let keys = header.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.allSatisfy { $0.count == keys.count }, "\(text)")
        return (header, rows.map { Dictionary(uniqueKeysWithValues: zip(keys, $0)) })
    }

    @Test func evaluateFormats() throws {
        let arguments = ["evaluate", "--model", Self.model, "--data", Self.data]
        let json = try Self.object(Self.run(arguments, format: "json").stdout)
        for key in ["overall_accuracy", "mean_class_accuracy", "per_class", "classes", "confusion"] { #expect(json[key] != nil, "\(key)") }
        #expect(json["clouds"] as? Int == 4 && json["skipped"] as? Int == 0)

        let (header, rows) = try Self.csv(Self.run(arguments, format: "csv").stdout)
        #expect(header == "class,clouds,correct,accuracy,predicted")
        #expect(rows.map { $0["class"] } == ["chair", "lamp", "table"] && rows.map { $0["clouds"] } == ["2", "1", "1"])
        let jsonl = try Self.lines(Self.run(arguments, format: "jsonl").stdout)
        #expect(jsonl.count == 3 && jsonl.allSatisfy { $0["class"] is String && $0["predicted"] is [Int] })
        let table = try Self.run(arguments, format: "table").stdout
        #expect(table.hasPrefix("overall accuracy") && table.contains("confusion (rows: true, columns: predicted)") && table.contains("2 table"))

        let limited = try Self.object(Self.run(arguments + ["--limit", "2"], format: "json").stdout)
        #expect(limited["clouds"] as? Int == 2)
        let zero = try CLI.run(arguments + ["--limit", "0"])
        #expect(zero.status == 2 && zero.stderrLines.count == 1 && zero.stderr.contains("--limit"))
    }

    @Test func robustnessFormats() throws {
        let arguments = ["robustness", "--model", Self.model, "--data", Self.data, "--kind", "jitter", "--severity", "1,2"]
        let (header, rows) = try Self.csv(Self.run(arguments, format: "csv").stdout)
        #expect(header == "kind,severity,accuracy")
        #expect(rows.map { $0["kind"]! + ":" + $0["severity"]! } == ["none:0", "jitter:1", "jitter:2"])
        let compared = try Self.csv(Self.run(arguments + ["--reference", Self.model], format: "csv").stdout)
        #expect(compared.header == "kind,severity,accuracy,reference_accuracy,ce")
        let jsonl = try Self.lines(Self.run(arguments, format: "jsonl").stdout)
        #expect(jsonl.count == 3 && jsonl.allSatisfy { $0["accuracy"] is Double })
        let json = try Self.object(Self.run(arguments + ["--limit", "3"], format: "json").stdout)
        #expect((json["accuracy"] as? [String: Double])?.keys.sorted() == ["jitter-1", "jitter-2"])
        // Three clouds: every accuracy a multiple of a third.
        let accuracies = [json["clean_accuracy"] as? Double ?? -1] + ((json["accuracy"] as? [String: Double])?.values.map { $0 } ?? [])
        #expect(accuracies.allSatisfy { abs(($0 * 3).rounded() - $0 * 3) < 1e-9 })
        #expect(try Self.run(arguments, format: "table").stdout.hasPrefix("KIND"))
    }

    @Test func evaluateOODFormats() throws {
        let ood = Self.tree([("bunny", "bunny.pcd"), ("scene", "table_scene_organized.pcd")])
        let arguments = ["evaluate-ood", "--model", Self.model, "--id", Self.data, "--labels", "--ood", ood]
        let csv = try Self.run(arguments, format: "csv")
        #expect(csv.stderr.contains("not calibrated"))
        let (header, rows) = try Self.csv(csv.stdout)
        #expect(header == "indicator,auroc,aupr,fpr95,error_auroc")
        // An uncalibrated model: no mahalanobis, no fragility score.
        #expect(rows.map { $0["indicator"]! } == ["skewness", "kurtosis", "gini", "top10_mass", "msp_score", "energy", "entropy", "margin",
                                                  "flip_rate", "drop_rounds"])
        let jsonl = try Self.lines(Self.run(arguments, format: "jsonl").stdout)
        #expect(jsonl.count == rows.count && jsonl.allSatisfy { $0["indicator"] is String && $0["auroc"] != nil })
        let json = try Self.object(Self.run(arguments + ["--exclude", "scene"], format: "json").stdout)
        #expect(json["positive"] as? String == "out-of-distribution" && (json["ood"] as? [String: Any])?["clouds"] as? Int == 1)
        #expect((json["indicators"] as? [String: [String: Any]])?["msp_score"]?["auroc"] is Double)
        #expect(try Self.run(arguments, format: "table").stdout.hasPrefix("INDICATOR"))
    }

    @Test func calibrateNeedsMoreCloudsThanClassesBeforeAnyWork() throws {
        let few = Self.tree([("chair", "chair_cad.pcd"), ("chair", "chair_scan.pcd"), ("lamp", "lamp_cad.ply")])
        let output = TestPaths.scratch().appendingPathComponent("calibrated.safetensors").path
        let run = try CLI.run(["calibrate", "--model", Self.model, "--data", few, "-o", output], timeout: 20)
        #expect(run.status == 3 && run.stderrLines.count == 1, "\(run.stderr)")
        #expect(run.stderr.contains(few) && run.stderr.contains("at least 4") && run.stderr.contains("has 3"))
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}
