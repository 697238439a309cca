import ArgumentParser
import Output
import Pipelines

/// `--scene` for `classify` and `batch`: inputs are scenes, cut into objects as `segment` cuts them.
struct SceneOptions: ParsableArguments {
    @Flag(help: "Each input is a whole scene: cut it into objects (as pcdiag segment does) and examine each object.") var scene = false
    @Option(name: .customLong("scene-output"), help: "With --scene: write each scene with its objects' class, probability and fragility (.ply or .pcd for one scene, a folder for several).")
    var sceneOutput: String?
    @OptionGroup var segmentation: SegmentationOptionGroup

    func validate(raw: Bool) throws {
        if sceneOutput != nil && !scene { throw ValidationError("--scene-output needs --scene") }
        if scene && raw { throw ValidationError("--scene prepares each object as the model was trained; it cannot be combined with --no-preprocess") }
    }

    /// Puts the scene settings into `plan`; refuses scene outputs that exist, unless `force`.
    func plan(_ plan: inout BatchPlan, for items: [InputItem], force: Bool) throws {
        guard scene else { return }
        plan.scene = segmentation.options
        if let sceneOutput {
            plan.sceneOutputs = try SceneOutputs.paths(sceneOutput, for: items.map(\.path))
            try CommandFailure.checkOutputs(Array(plan.sceneOutputs.values), force: force)
        }
    }
}
