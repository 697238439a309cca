import ArgumentParser
import Diagnostics
import Networks
import Output
import Pipelines
import PointClouds

/// Which model a command uses, how to read a PyTorch export that carries no pcdiag metadata, and
/// what a file needs before the model's own preprocessing.
struct ModelOptions: ParsableArguments {
    @Option(help: "Model file (.safetensors). Default: $PCDIAG_MODEL, the checkout's or the installed Models/pointnet-pointda10.safetensors.")
    var model: String?
    @Option(help: "Architecture of a PyTorch export without metadata: pointnet or dgcnn.") var arch: String?
    @Option(help: "Class names of a PyTorch export, comma-separated, in output order.") var classes: String?
    @OptionGroup var conditioning: ConditioningOptions

    func validate() throws {
        if let arch, !["pointnet", "dgcnn"].contains(arch) { throw ValidationError("--arch must be pointnet or dgcnn") }
    }

    /// The model file to use: --model, then $PCDIAG_MODEL, then Models/ beside the binary's checkout or
    /// install prefix.
    func resolvedPath() throws -> String {
        try Self.resolve(model)
    }

    static func resolve(_ model: String?) throws -> String {
        guard let path = model ?? DefaultModel.path(executable: CommandLine.arguments[0]) else {
            throw CommandFailure(status: .model, message: "no model found: give --model FILE or set PCDIAG_MODEL")
        }
        return path
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
        model.metadata.preprocessing = model.metadata.preprocessing.conditioning(conditioning.steps)
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

    /// The batch runner for `model`; warns when its diagnoses will have no fragility score.
    func runner(for model: Model, plan: BatchPlan, console: Console) throws -> BatchRunner {
        do {
            let runner = try BatchRunner(model: model, plan: plan, console: console)
            if plan.diagnose && runner.diagnostician?.calibration == nil {
                console.warning("the model is not calibrated: no fragility score and no shift test (pcdiag calibrate)")
            }
            return runner
        } catch {
            throw CommandFailure(status: .model, message: "\(try resolvedPath()): \(error)")
        }
    }
}
