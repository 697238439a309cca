import Foundation
import Testing
import TestSupport

/// `calibrate`, `classify` with diagnostics, `batch` (resume, shards, merge, CSV, report,
/// --fail-on-flag), `evaluate-ood`: through the binary, on a small slice of the shared data with the
/// shipped PointNet.
@Suite(.enabled(if: TestPaths.hasSharedData, "needs ../shared/data"))
struct DiagnosticsCommandTests {
    static let dir = TestPaths.scratch("diagnostics-commands")
    static let shipped = TestPaths.root.appendingPathComponent("Models/pointnet-pointda10.safetensors").path

    /// Six training clouds per class, as a manifest next to the data it names.
    static let manifest: String = {
        let text = try! String(contentsOfFile: TestPaths.shared("pointda10-modelnet-train.csv"), encoding: .utf8)
        var perClass = [String: Int](), rows = ["path,label"]
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            let label = String(line.split(separator: ",").last!)
            if perClass[label, default: 0] < 6 {
                perClass[label, default: 0] += 1
                rows.append(TestPaths.shared(String(line.split(separator: ",").first!)) + "," + label)
            }
        }
        let path = dir.appendingPathComponent("small-train.csv").path
        try! rows.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }()

    /// The shipped PointNet calibrated on that slice, with cheap stability settings and harsh shifts
    /// (so the slice has wrong answers to learn from).
    static let diagnoses = dir.appendingPathComponent("calibration-diagnoses.jsonl").path
    static let calibrated: (path: String, run: CLI.Run) = {
        let path = dir.appendingPathComponent("calibrated.safetensors").path
        let run = try! CLI.run(["calibrate", "--model", shipped, "--data", manifest, "--limit", "40", "--flip-trials", "2",
                                "--drop-rounds", "3", "--corruptions", "occlusion:5,dropout-local:5,add-local:5,lidar:5",
                                "-o", path, "--diagnoses", diagnoses, "--format", "json"], timeout: 600)
        return (path, run)
    }()

    /// A few scans of each of three classes, as a list file.
    static let scans: String = {
        var lines = [String]()
        for name in ["chair", "lamp", "table"] {
            let folder = TestPaths.shared("scans-sim/test/\(name)")
            let files = try! FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".pcd") }.sorted().prefix(4)
            lines += files.map { folder + "/" + $0 }
        }
        let path = dir.appendingPathComponent("scans.txt").path
        try! lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }()

    static func rows(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    static let indicators = ["skewness", "kurtosis", "gini", "top10_mass", "msp_score", "energy", "entropy", "margin",
                             "mahalanobis", "flip_rate", "drop_rounds"]

    @Test func calibrateStoresWhatClassifyReports() throws {
        let (model, run) = Self.calibrated
        #expect(run.status == 0, "\(run.stderr)")
        let summary = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let errors = try #require(summary["errors"] as? Int)
        #expect(errors > 0 && summary["clean"] as? Int == 40 && summary["shifted"] as? Int == 40)
        #expect((summary["error_recall"] as? Double ?? 0) >= 0.95)
        // The score's penalty: the best held-out one when two kinds of shift had wrong answers enough.
        let l2 = try #require(summary["l2"] as? Double)
        if let heldOut = summary["held_out_auroc"] as? [String: Double] {
            #expect(heldOut.count == 7 && heldOut[String(format: "%g", l2)] == heldOut.values.max())
        } else {
            #expect(l2 == 0.01 && summary["held_out_auroc"] is NSNull)
        }

        let classify = try CLI.run(["classify", "--model", model, "--format", "json", TestPaths.sample("chair_scan.pcd")])
        #expect(classify.status == 0, "\(classify.stderr)")
        let row = try #require(JSONSerialization.jsonObject(with: Data(classify.stdout.utf8)) as? [String: Any])
        for key in Self.indicators { #expect(row[key] is Double, "\(key)") }
        let fragility = try #require(row["fragility"] as? Double)
        #expect(fragility >= 0 && fragility <= 1)
        #expect(row["fragile"] is Bool && row["reasons"] is [Any])
        #expect(classify.stderr.isEmpty, "a calibrated model gives no warning")

        // The diagnoses it was fitted on: each clean cloud, then its shifted copy, with the true class,
        // the corruption and whether the answer was wrong — as many wrong as the summary counts.
        let fitted = try Self.rows(Self.diagnoses)
        #expect(fitted.count == 80)
        #expect(fitted.prefix(40).allSatisfy { $0["shift"] as? String == "none" })
        let kinds = Set(["occlusion:5", "dropout-local:5", "add-local:5", "lidar:5"])
        #expect(fitted.suffix(40).allSatisfy { kinds.contains($0["shift"] as? String ?? "") })
        #expect(zip(fitted.prefix(40), fitted.suffix(40)).allSatisfy { $0["path"] as? String == $1["path"] as? String && $0["label"] as? String == $1["label"] as? String })
        for row in fitted {
            #expect(row["wrong"] as? Bool == (row["class"] as? String != row["label"] as? String))
            #expect(row["fragility"] is Double)
        }
        #expect(fitted.filter { $0["wrong"] as? Bool == true }.count == errors)
        let again = try CLI.run(["calibrate", "--model", Self.shipped, "--data", Self.manifest, "-o", Self.dir.appendingPathComponent("unwritten.safetensors").path,
                                 "--diagnoses", Self.diagnoses])
        #expect(again.status == 6 && again.stderr.contains("calibration-diagnoses.jsonl: exists"), "an existing diagnoses file is kept: \(again.stderr)")
        let nowhere = try CLI.run(["calibrate", "--model", Self.shipped, "--data", Self.manifest, "-o", Self.dir.appendingPathComponent("unwritten.safetensors").path,
                                   "--diagnoses", Self.dir.appendingPathComponent("no/such/folder/d.jsonl").path], timeout: 30)
        #expect(nowhere.status == 6 && nowhere.stderrLines.count == 1 && nowhere.stderr.contains("does not exist"), "refused before any work: \(nowhere.stderr)")

        // An uncalibrated model says so and leaves the verdict empty.
        let plain = try CLI.run(["classify", "--model", ModelCommandTests.modelPath, "--format", "json", TestPaths.sample("chair_scan.pcd")])
        let plainRow = try #require(JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as? [String: Any])
        #expect(plainRow["fragility"] is NSNull && plainRow["mahalanobis"] is NSNull)
        #expect(plain.stderr.contains("not calibrated"))
    }

    @Test func batchResumesShardsMergeAndWritesCSV() throws {
        let model = Self.calibrated.path
        let all = Self.dir.appendingPathComponent("all.jsonl").path
        let first = try CLI.run(["batch", "--model", model, "@" + Self.scans, "-o", all, "--labels-from-folders", "-q"], timeout: 300)
        #expect(first.status == 0, "\(first.stderr)")
        let rows = try Self.rows(all)
        #expect(rows.count == 12)
        for row in rows {
            for key in Self.indicators + ["fragility", "time_ms", "probability"] { #expect(row[key] is Double, "\(key)") }
            #expect(row["label"] as? String == URL(fileURLWithPath: row["path"] as! String).deletingLastPathComponent().lastPathComponent)
            #expect((row["correct"] as? Bool) == (row["label"] as? String == row["class"] as? String))
        }
        #expect(first.stdout.contains("12 objects") && first.stdout.contains("shift:"))

        // Again: nothing new, the rows kept.
        let again = try CLI.run(["batch", "--model", model, "@" + Self.scans, "-o", all], timeout: 300)
        #expect(again.status == 0 && again.stderr.contains("resuming"))
        #expect(try Self.rows(all).count == 12)

        // Two shards merged give the same rows (time aside).
        var parts = [String]()
        for i in 1 ... 2 {
            let part = Self.dir.appendingPathComponent("part-\(i).jsonl").path
            let run = try CLI.run(["batch", "--model", model, "@" + Self.scans, "--shard", "\(i)/2", "-o", part, "--labels-from-folders", "-q"], timeout: 300)
            #expect(run.status == 0, "\(run.stderr)")
            parts.append(part)
        }
        let shardRows = try parts.flatMap(Self.rows)
        #expect(shardRows.count == 12 && Set(shardRows.map { $0["path"] as! String }).count == 12)
        let merged = Self.dir.appendingPathComponent("merged.jsonl").path
        let merge = try CLI.run(["merge", "--model", model] + parts + ["-o", merged])
        #expect(merge.status == 0, "\(merge.stderr)")
        func withoutTime(_ rows: [[String: Any]]) -> [NSDictionary] {
            rows.map { var r = $0; r["time_ms"] = nil; return r as NSDictionary }
        }
        let single = try Self.rows(all).sorted { ($0["path"] as! String) < ($1["path"] as! String) }
        #expect(withoutTime(try Self.rows(merged)) == withoutTime(single))
        #expect(merge.stdout.contains("12 objects"))

        // CSV holds the same verdicts.
        let csv = Self.dir.appendingPathComponent("all.csv").path
        #expect(try CLI.run(["batch", "--model", model, "@" + Self.scans, "-o", csv, "-q"], timeout: 300).status == 0)
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 13 && lines[0].hasPrefix("path,object,centroid,box_min,extent,points,class,probability"))
    }

    @Test func failOnFlagAndReport() throws {
        let model = Self.calibrated.path
        let out = Self.dir.appendingPathComponent("flag.jsonl").path, report = Self.dir.appendingPathComponent("report.html").path
        let run = try CLI.run(["batch", "--model", model, "@" + Self.scans, "-o", out, "--report", report, "--fail-on-flag", "-q"], timeout: 300)
        let flagged = try Self.rows(out).filter { $0["fragile"] as? Bool == true }
        #expect(run.status == (flagged.isEmpty ? 0 : 7), "\(run.stderr)")
        let html = try String(contentsOfFile: report, encoding: .utf8)
        #expect(html.contains("pcdiag batch report"))
        for row in flagged { #expect(html.contains((row["path"] as! String).replacingOccurrences(of: "&", with: "&amp;"))) }
        // The report is not overwritten without --force.
        let again = try CLI.run(["batch", "--model", model, "@" + Self.scans, "-o", out, "--report", report])
        #expect(again.status == 6 && again.stderrLines.count == 1 && again.stderr.contains(report))
    }

    @Test func evaluateOODReportsEveryIndicator() throws {
        let run = try CLI.run(["evaluate-ood", "--model", Self.calibrated.path, "--id", Self.manifest, "--labels",
                               "--ood", TestPaths.shared("modelnet40/test"), "--exclude", "bathtub,bed,bookshelf,dresser,chair,lamp,monitor,plant,sofa,table,night_stand",
                               "--limit", "20", "--format", "json"], timeout: 300)
        #expect(run.status == 0, "\(run.stderr)")
        let out = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(out["positive"] as? String == "out-of-distribution")
        let indicators = try #require(out["indicators"] as? [String: [String: Any]])
        for key in Self.indicators + ["fragility"] {
            let figures = try #require(indicators[key], "\(key)")
            for metric in ["auroc", "aupr", "fpr95"] {
                let v = try #require(figures[metric] as? Double, "\(key).\(metric)")
                #expect(v >= 0 && v <= 1)
            }
            #expect(figures["error_auroc"] is Double || figures["error_auroc"] is NSNull)
        }
    }

    @Test func badArgumentsAndFilesAreOneLineErrors() throws {
        let model = Self.calibrated.path
        let shard = try CLI.run(["batch", "--model", model, TestPaths.sample("chair_scan.pcd"), "--shard", "3/2"])
        #expect(shard.status == 2 && shard.stderr.contains("--shard"))
        let garbage = Self.dir.appendingPathComponent("garbage.jsonl").path
        try "not json\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        let resume = try CLI.run(["batch", "--model", model, TestPaths.sample("chair_scan.pcd"), "-o", garbage])
        #expect(resume.status == 3 && resume.stderrLines.count == 1 && resume.stderr.contains("\(garbage):1"))
        let merge = try CLI.run(["merge", Self.dir.appendingPathComponent("missing.jsonl").path, "-o", Self.dir.appendingPathComponent("m.jsonl").path])
        #expect(merge.status == 3 && merge.stderrLines.count == 1 && merge.stderr.contains("missing.jsonl"))
        let existing = try CLI.run(["calibrate", "--model", Self.shipped, "--data", Self.manifest, "-o", model])
        #expect(existing.status == 6 && existing.stderr.contains("exists"))
    }

    @Test func calibrateFormats() throws {
        // Cheap settings: the summary's layout is what is checked here, not the fit.
        let arguments = ["calibrate", "--model", Self.shipped, "--data", Self.manifest, "--limit", "20", "--flip-trials", "0", "--drop-rounds", "0",
                         "--corruptions", "occlusion:5,dropout-local:5,add-local:5,lidar:5", "--force"]
        func run(_ format: String) throws -> String {
            let out = Self.dir.appendingPathComponent("formats-\(format).safetensors").path
            let run = try CLI.run(arguments + ["-o", out, "--format", format], timeout: 120)
            #expect(run.status == 0, "\(format): \(run.stderr)")
            return run.stdout
        }
        let csv = try run("csv").split(separator: "\n")
        #expect(csv.first == "indicator,side,threshold,weight")
        #expect(csv.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 4 })
        #expect(csv.last?.hasPrefix("fragility,>=,") == true && csv.contains { $0.hasPrefix("msp_score,>,") })
        let jsonl = try run("jsonl").split(separator: "\n").map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(jsonl.count == csv.count - 1 && jsonl.allSatisfy { $0["indicator"] is String && $0["threshold"] is Double })
        let table = try run("table")
        #expect(table.hasPrefix("calibrated on 20 clean clouds and 20 shifted copies") && table.contains("INDICATOR"))
    }
}
