import ArgumentParser
import Networks

/// The optimisation settings `train` and `adapt` share, with their checks; each command's defaults
/// are its recipe's own.
struct OptimisationOptions<Recipe: TrainingRecipe>: ParsableArguments {
    @Option(help: "Epochs.") var epochs = Recipe().epochs
    @Option(name: .customLong("batch-size"), help: "Clouds per step (adapt: source and target each).") var batchSize = Recipe().batchSize
    @Option(help: "Learning rate, cosine-annealed to 1/100 of it.") var lr = Recipe().learningRate
    @Option(name: .customLong("weight-decay"), help: "Weight decay.") var weightDecay = Recipe().weightDecay
    @Option(name: .customLong("label-smoothing"), help: "Label smoothing of the classification losses.") var labelSmoothing = Recipe().labelSmoothing
    @Option(help: "Seed of everything drawn at random: initialisation, shuffles, augmentation and the recipe's tasks.") var seed = Recipe().seed

    func validate() throws {
        guard epochs >= 1, batchSize >= 2, lr > 0 else { throw ValidationError("--epochs ≥ 1, --batch-size ≥ 2 and --lr > 0 are required") }
    }

    /// The recipe's defaults with these settings.
    var recipe: Recipe {
        var r = Recipe()
        (r.epochs, r.batchSize, r.learningRate, r.weightDecay, r.labelSmoothing, r.seed) = (epochs, batchSize, lr, weightDecay, labelSmoothing, seed)
        return r
    }
}
