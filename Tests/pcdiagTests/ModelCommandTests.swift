import Engine
import Foundation
import Networks
import PointClouds
import Testing
import TestSupport

/// classify / info on model files, and every kind of broken model file → one line, exit 4.
@Suite struct ModelCommandTests {
    static let dir = TestPaths.scratch("model-commands")
    static let classes = ["chair", "lamp", "table"]

    /// A small PointNet with random weights, saved as pcdiag writes models.
    static let modelPath: String = {
        let path = dir.appendingPathComponent("small.safetensors").path
        let model = Model(metadata: ModelMetadata(architecture: .pointnet(classes: 3, embedding: 64), classes: classes,
                                                  preprocessing: .standard(points: 256)), seed: 4)
        try! model.save(to: path)
        return path
    }()

    static var modelBytes: [UInt8] { [UInt8](try! Data(contentsOf: URL(fileURLWithPath: modelPath))) }

    static func headerLength(_ bytes: [UInt8]) -> Int { (0 ..< 8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) } }

    static func write(_ name: String, _ bytes: [UInt8]) -> String {
        let path = dir.appendingPathComponent(name).path
        try! Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The model's JSON header edited as text, re-padded, with the data unchanged.
    static func withHeader(_ name: String, _ edit: (String) -> String) -> String {
        let bytes = modelBytes
        let n = headerLength(bytes)
        var header = Array(edit(String(decoding: bytes[8 ..< 8 + n], as: UTF8.self)).utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out = [UInt8]()
        for i in 0 ..< 8 { out.append(UInt8(truncatingIfNeeded: header.count >> (8 * i))) }
        return write(name, out + header + bytes[(8 + n)...])
    }

    static let brokenModels: [(String, String)] = {
        let bytes = modelBytes
        let n = headerLength(bytes)
        var pastEnd = bytes
        pastEnd[0 ..< 8] = [0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0][...]
        return [
            ("truncated", write("truncated.safetensors", Array(bytes.prefix(8 + n + 100)))),
            ("header length past the end", write("pastend.safetensors", pastEnd)),
            ("offsets out of range", withHeader("offsets.safetensors") { $0.replacingOccurrences(of: "\"data_offsets\":[0,", with: "\"data_offsets\":[99999999,") }),
            ("wrong dtype", withHeader("dtype.safetensors") { $0.replacingOccurrences(of: "\"dtype\":\"F32\"", with: "\"dtype\":\"Q7\"") }),
            ("missing tensors", withHeader("missing.safetensors") { $0.replacingOccurrences(of: "\"conv3.weight\"", with: "\"conv3.weigh\"") }),
            ("not a model", write("text.safetensors", Array("hello, I am not a model\n".utf8))),
            ("missing file", dir.appendingPathComponent("nowhere.safetensors").path),
        ]
    }()

    /// `train` end to end on the shipped samples (four clouds, three classes): a model and its
    /// checkpoint; no overwrite without --force; --resume continues the checkpoint; and --resume
    /// without one leaves an existing model as it is.
    @Test func trainWritesResumesAndRefusesToReplace() throws {
        let manifest = Self.dir.appendingPathComponent("samples.csv").path
        let rows = [("chair_cad.pcd", "chair"), ("chair_scan.pcd", "chair"), ("lamp_cad.ply", "lamp"), ("bunny.pcd", "bunny")]
        try (["path,label"] + rows.map { TestPaths.sample($0.0) + "," + $0.1 }).joined(separator: "\n")
            .write(toFile: manifest, atomically: true, encoding: .utf8)
        let model = Self.dir.appendingPathComponent("trained.safetensors").path, checkpoint = model + ".ckpt"
        for path in [model, checkpoint] { try? FileManager.default.removeItem(atPath: path) }
        let arguments = ["train", "--data", manifest, "--points", "128", "--batch-size", "2", "-o", model]
        let first = try CLI.run(arguments + ["--epochs", "1"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: model) && FileManager.default.fileExists(atPath: checkpoint))
        let again = try CLI.run(arguments + ["--epochs", "1"])
        #expect(again.status == 6 && again.stderr.contains("trained.safetensors: exists"), "\(again.stderr)")
        let resumed = try CLI.run(arguments + ["--epochs", "2", "--resume"])
        #expect(resumed.status == 0 && resumed.stderr.contains("after epoch 1"), "\(resumed.stderr)")
        try FileManager.default.removeItem(atPath: checkpoint)
        let before = try Data(contentsOf: URL(fileURLWithPath: model))
        let noCheckpoint = try CLI.run(arguments + ["--epochs", "2", "--resume"])
        #expect(noCheckpoint.status == 6, "--resume without a checkpoint must not replace the model: \(noCheckpoint.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: model)) == before)
        let nowhere = try CLI.run(["train", "--data", manifest, "-o", Self.dir.appendingPathComponent("no/such/m.safetensors").path])
        #expect(nowhere.status == 6 && nowhere.stderrLines.count == 1 && nowhere.stderr.contains("does not exist"), "\(nowhere.stderr)")
    }

    @Test(arguments: brokenModels.indices)
    func brokenModelsExitFour(index: Int) throws {
        let (name, path) = Self.brokenModels[index]
        for args in [["classify", "--model", path, TestPaths.sample("chair_cad.pcd")], ["info", path]] {
            let run = try CLI.run(args)
            #expect(run.status == 4, "\(name) \(args[0]): \(run.status) \(run.stderr)")
            #expect(run.stderrLines.count == 1 && run.stderr.contains(path), "\(name) \(args[0]): \(run.stderr)")
            #expect(run.stdout.isEmpty)
        }
    }

    @Test func missingTensorsAreNamed() throws {
        let run = try CLI.run(["classify", "--model", Self.brokenModels[4].1, TestPaths.sample("chair_cad.pcd")])
        #expect(run.stderr.contains("conv3.weight"))
    }

    /// classify's JSON agrees with the library's own prediction on the same prepared cloud.
    @Test func classifyJSONMatchesTheLibrary() throws {
        let sample = TestPaths.sample("chair_scan.pcd")
        let run = try CLI.run(["classify", "--model", Self.modelPath, "--format", "json", "--top", "2", sample])
        #expect(run.status == 0, "\(run.stderr)")
        let row = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let model = try Model.load(Self.modelPath)
        let expected = model.predict([try model.prepare(PointCloud(contentsOf: sample), path: sample)])[0]
        #expect(row["class"] as? String == Self.classes[expected.label])
        #expect(row["path"] as? String == sample)
        let logits = try #require(row["logits"] as? [Double])
        #expect(zip(logits, expected.logits).allSatisfy { abs($0 - Double($1)) < 1e-4 })
        let top = try #require(row["top"] as? [[String: Any]])
        #expect(top.count == 2 && top[0]["class"] as? String == row["class"] as? String)
        let p = try #require(row["probability"] as? Double)
        #expect(abs(p - Double(expected.probabilities[expected.label])) < 1e-5)
    }

    @Test func classifySeveralFilesGivesAnArrayAndReportsBadOnes() throws {
        let run = try CLI.run(["classify", "--model", Self.modelPath, "--format", "json",
                               TestPaths.sample("chair_cad.pcd"), "/no/such.pcd", TestPaths.sample("lamp_cad.ply")])
        #expect(run.status == 5)
        let rows = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 2)
        // One error line for the bad file; the other stderr line is the warning that this model is not calibrated.
        let errors = run.stderrLines.filter { $0.contains("error:") }
        #expect(errors.count == 1 && errors[0].contains("/no/such.pcd"))
        #expect(run.stderrLines.filter { !$0.contains("error:") }.allSatisfy { $0.contains("not calibrated") })
    }

    @Test func noPreprocessRefusesNaN() throws {
        let run = try CLI.run(["classify", "--model", Self.modelPath, "--no-preprocess", TestPaths.sample("table_scene_organized.pcd")])
        #expect(run.status == 3 && run.stderr.contains("NaN"))
    }

    @Test func infoDescribesAModel() throws {
        let run = try CLI.run(["info", "--format", "json", Self.modelPath])
        #expect(run.status == 0, "\(run.stderr)")
        let row = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(row["architecture"] as? String == "pointnet")
        #expect(row["classes"] as? [String] == Self.classes)
        let model = try Model.load(Self.modelPath)
        #expect(row["parameters"] as? Int == model.network.parameters.reduce(0) { $0 + $1.value.count })
    }

    static let shippedModel = TestPaths.root.appendingPathComponent("Models/pointnet-pointda10.safetensors").path

    /// With no --model: $PCDIAG_MODEL first, else the checkout's shipped model.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: shippedModel), "needs Models/pointnet-pointda10.safetensors"))
    func defaultModelAndEnvironmentOverride() throws {
        let shipped = try CLI.run(["classify", "--format", "json", TestPaths.sample("chair_cad.pcd")])
        #expect(shipped.status == 0, "\(shipped.stderr)")
        let row = try #require(JSONSerialization.jsonObject(with: Data(shipped.stdout.utf8)) as? [String: Any])
        #expect(row["class"] as? String == "chair")
        let viaEnvironment = try CLI.run(["classify", "--format", "json", TestPaths.sample("chair_cad.pcd")],
                                         environment: ["PCDIAG_MODEL": Self.modelPath])
        let other = try #require(JSONSerialization.jsonObject(with: Data(viaEnvironment.stdout.utf8)) as? [String: Any])
        #expect(Self.classes.contains(other["class"] as? String ?? ""), "the small 3-class model answered")
        let missing = try CLI.run(["classify", TestPaths.sample("chair_cad.pcd")], environment: ["PCDIAG_MODEL": "/no/model.safetensors"])
        #expect(missing.status == 4 && missing.stderrLines.count == 1)
    }

    @Test func pytorchExportNeedsArchAndClasses() throws {
        // Weights only, no metadata at all.
        var file = try SafeTensors.read(Self.modelPath)
        file.metadata = [:]
        let bare = Self.dir.appendingPathComponent("bare.safetensors").path
        try file.write(to: bare)
        let without = try CLI.run(["classify", "--model", bare, TestPaths.sample("chair_cad.pcd")])
        #expect(without.status == 4 && without.stderr.contains("--classes"))
        let with = try CLI.run(["classify", "--model", bare, "--arch", "pointnet", "--classes", "a,b,c", TestPaths.sample("chair_cad.pcd")])
        // The embedding width (64) is not the default (1024): the shapes say so, clearly.
        #expect(with.status == 4 && with.stderr.contains("shape"), "\(with.stderr)")
    }
}

/// `bench` on the networks: the names scripts rely on, and the peak memory of real commands measured
/// in child processes (one cloud classified needs less than a training step at batch 16).
@Suite struct BenchCommandTests {
    @Test func modelFiguresAndPeakMemory() throws {
        let run = try CLI.run(["bench", "--only", "pointnet", "--repeat", "1", "--format", "json"], timeout: 300)
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        let row = try #require(rows.first)
        #expect(row["model"] as? String == "pointnet")
        for key in ["inference_clouds_per_s", "latency_ms", "saliency_clouds_per_s", "train_clouds_per_s"] {
            #expect((row[key] as? Double ?? 0) > 0, "\(key)")
        }
        let classify = try #require(row["classify_peak_mb"] as? Int), train = try #require(row["train_peak_mb"] as? Int)
        #expect(classify > 10 && classify < train, "classify \(classify) MB, train \(train) MB")
        #expect(row["peak_rss_mb"] as? Int == train)
    }
}

/// Every model shipped in Models/: described by `info` as the architecture its name says, and right
/// on the CAD samples (a chair and a lamp, objects of the ModelNet classes it was trained on).
@Suite struct ShippedModelTests {
    static let models: [String] = {
        let dir = TestPaths.root.appendingPathComponent("Models").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasSuffix(".safetensors") }.sorted().map { "\(dir)/\($0)" }
    }()

    @Test(arguments: models)
    func describedAndRightOnTheCADSamples(model: String) throws {
        let info = try CLI.run(["info", "--format", "json", model])
        #expect(info.status == 0, "\(info.stderr)")
        let arch = (model as NSString).lastPathComponent.components(separatedBy: "-")[0]
        #expect(info.stdout.contains("\"\(arch)\""), "\(info.stdout)")
        let described = try #require(JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        #expect(described["calibrated"] as? Bool == true, "shipped models are calibrated")
        if model.hasSuffix("-scans.safetensors") {
            let adaptation = try #require(described["adaptation"] as? [String: Any], "an adapted model records how")
            #expect((adaptation["target"] as? String)?.contains("scans-sim/train") == true)
        }
        for (sample, expected) in [("chair_cad.pcd", "chair"), ("lamp_cad.ply", "lamp")] {
            let run = try CLI.run(["classify", "--model", model, "--format", "json", TestPaths.sample(sample)])
            #expect(run.status == 0, "\(run.stderr)")
            let row = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            #expect(row["class"] as? String == expected, "\(sample)")
            #expect(row["fragility"] is Double && row["mahalanobis"] is Double, "\(sample)")
        }
    }
}
