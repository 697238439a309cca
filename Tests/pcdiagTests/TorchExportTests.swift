import Foundation
import Testing
import TestSupport

/// pcdiag models go back out: the reference PyTorch networks (and ONNX Runtime, through the export
/// script) load them and give pcdiag's logits. Runs where a Python with torch and safetensors is
/// found ($PCDIAG_PYTHON, /tmp/torchenv/bin/python, python3); skipped, and says so, elsewhere.
@Suite struct TorchExportTests {
    static func imports(_ python: String, _ modules: String) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-c", "import \(modules)"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    static let python: String? = {
        let candidates = [ProcessInfo.processInfo.environment["PCDIAG_PYTHON"], "/tmp/torchenv/bin/python", "python3"].compactMap { $0 }
        return candidates.first { imports($0, "torch, safetensors, numpy") }
    }()

    @Test(.enabled(if: python != nil, "no Python with torch, safetensors and numpy ($PCDIAG_PYTHON, /tmp/torchenv/bin/python, python3)"))
    func theReferenceNetworksGivePcdiagsLogits() throws {
        let python = try #require(Self.python)
        let onnx = Self.imports(python, "onnx, onnxruntime")
        let models = ["Models/pointnet-pointda10.safetensors", "Models/dgcnn-pointda10.safetensors"].map { TestPaths.root.appendingPathComponent($0).path }
        let p = Process()
        let out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, TestPaths.root.appendingPathComponent("scripts/check-torch-export.py").path, "--pcdiag", CLI.binary.path]
            + (onnx ? ["--onnx"] : []) + models
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let checks = text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(checks.count == models.count * (onnx ? 2 : 1), "\(text)")
        for check in checks {
            #expect(check["ok"] as? Bool == true && check["same_class"] as? Bool == true, "\(check)")
        }
        #expect(p.terminationStatus == 0, "\(text)")
    }
}
