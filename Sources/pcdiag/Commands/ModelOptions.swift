import ArgumentParser
import Diagnostics
import Foundation
import Output
import Networks
import PointClouds

/// Which model a command uses, and how to read a PyTorch export that carries no pcdiag metadata.
struct ModelOptions: ParsableArguments {
    @Option(help: "Model file (.safetensors). Default: $PCDIAG_MODEL, the checkout's or the installed Models/pointnet-pointda10.safetensors.")
    var model: String?

    @Option(help: "Architecture of a PyTorch export without metadata: pointnet or dgcnn.")
    var arch: String?

    @Option(help: "Class names of a PyTorch export, comma-separated, in output order.")
    var classes: String?

    @Flag(name: .customLong("remove-floor"), help: "Add floor removal to the model's preprocessing, before centring: depth scans of standing objects (z up) with the floor around them. A model that adapt or calibrate writes records it.")
    var removeFloor = false

    static let defaultModelName = "pointnet-pointda10.safetensors"

    func validate() throws {
        if let arch, !["pointnet", "dgcnn"].contains(arch) { throw ValidationError("--arch must be pointnet or dgcnn") }
    }

    /// The model file to use: --model, then $PCDIAG_MODEL, then Models/ beside the binary's checkout or
    /// install prefix.
    func resolvedPath() throws -> String {
        if let model { return model }
        if let env = ProcessInfo.processInfo.environment["PCDIAG_MODEL"], !env.isEmpty { return env }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = executable.deletingLastPathComponent()
        var candidates = [dir.appendingPathComponent("../share/pcdiag/Models/\(Self.defaultModelName)").standardized.path]
        while dir.path != "/" {
            candidates.append(dir.appendingPathComponent("Models/\(Self.defaultModelName)").path)
            dir = dir.deletingLastPathComponent()
        }
        candidates.append(FileManager.default.currentDirectoryPath + "/Models/\(Self.defaultModelName)")
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw CommandFailure(status: .model, message: "no model found: give --model FILE or set PCDIAG_MODEL")
        }
        return found
    }

    func load() throws -> Model {
        let names = classes.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        let architecture: Architecture? = arch.map { a in
            let n = names?.count ?? 0
            return a == "dgcnn" ? .dgcnn(classes: n) : .pointnet(classes: n)
        }
        if architecture != nil && names == nil {
            throw CommandFailure(status: .usage, message: "--arch needs --classes (the class names, in output order)")
        }
        var model = try Model.load(try resolvedPath(), architecture: architecture, classes: names)
        if removeFloor { model.metadata.preprocessing = model.metadata.preprocessing.adding(FloorRemoval().step) }
        return model
    }

    /// The model with what its file stores for diagnostics; unusable stored diagnostics are a model error.
    func diagnostician(for model: Model) throws -> Diagnostician {
        do {
            return try Diagnostician(model: model)
        } catch {
            throw CommandFailure(status: .model, message: "\(try resolvedPath()): \(error)")
        }
    }
}
