import Engine
import Foundation
import Support

/// Everything a training run needs to continue bit for bit, for `train` and `adapt` alike: the
/// tensors (weights, BatchNorm running statistics, any heads) under their own names with their
/// optimiser moments as `optimizer.m.NAME` / `optimizer.v.NAME`, and as metadata the recipe, the
/// log of the epochs done (their count is the schedule's position), the optimiser's step count, the
/// loop's and the dropout layers' generator states and the step's running window. Written atomically.
public struct Checkpoint<Recipe: TrainingRecipe, Report: EpochOutcome> {
    static var marker: String { "pcdiag-checkpoint" }
    /// Format 1 (before the recipe and generators were kept) cannot continue a run exactly.
    static var format: String { "2" }

    public var recipe: Recipe
    public var log: [Report]
    public var optimizerSteps: Int
    public var generator: SeededGenerator
    public var dropoutGenerators: [SeededGenerator]
    public var window: [Double]

    public func write(to path: String, tensors: [Parameter<Float>]) throws(ModelError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // A diverged run (a loss gone to NaN) must still be resumable and its log kept.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        func json(_ value: some Encodable) -> String { String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self) }
        var metadata = [Self.marker: Self.format, "epoch": String(log.count), "recipe": json(recipe), "log": json(log)]
        metadata["optimizer-steps"] = String(optimizerSteps)
        metadata["generator"] = String(generator.state)
        metadata["dropout-generators"] = dropoutGenerators.map { String($0.state) }.joined(separator: " ")
        metadata["window"] = json(window)
        var file = SafeTensors(metadata: metadata)
        for p in tensors {
            file[p.name] = .init(shape: p.value.shape, floats: p.value.array)
            for (i, moment) in p.state.enumerated() {
                file["optimizer.\(["m", "v"][min(i, 1)]).\(p.name)"] = .init(shape: moment.shape, floats: moment.array)
            }
        }
        try file.write(to: path)
    }

    /// Reads a checkpoint, restoring values and moments into `tensors`; a checkpoint of another
    /// format, model or task set is an error naming the file and what does not fit.
    public static func read(_ path: String, into tensors: [Parameter<Float>]) throws(ModelError) -> Checkpoint {
        let file = try SafeTensors.read(path)
        guard let format = file.metadata[marker] else { throw .invalid(path: path, reason: "not a pcdiag training checkpoint") }
        guard format == Self.format else {
            throw .invalid(path: path, reason: "a checkpoint of an older pcdiag, which cannot be continued exactly: delete it to start again")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        let m = file.metadata
        func generator(_ text: Substring) -> SeededGenerator? { UInt64(text).map { SeededGenerator(seed: $0) } }
        guard let recipe = m["recipe"].flatMap({ try? decoder.decode(Recipe.self, from: Data($0.utf8)) }),
              let log = m["log"].flatMap({ try? decoder.decode([Report].self, from: Data($0.utf8)) }),
              m["epoch"] == String(log.count),
              let steps = m["optimizer-steps"].flatMap(Int.init), let loop = m["generator"].flatMap({ generator($0[...]) }),
              let dropouts = m["dropout-generators"].map({ $0.split(separator: " ").map(generator) }), !dropouts.contains(where: { $0 == nil }),
              let window = m["window"].flatMap({ try? decoder.decode([Double].self, from: Data($0.utf8)) }) else {
            throw .invalid(path: path, reason: "the checkpoint's run state is incomplete or not for this kind of training")
        }
        for p in tensors {
            guard let v = try values(file, p.name, count: p.value.count, path: path) else {
                throw .invalid(path: path, reason: "'\(p.name)' is missing: the checkpoint is of another model or task set")
            }
            for i in 0 ..< v.count { p.value[i] = v[i] }
            var moments = [Tensor<Float>]()
            for kind in ["m", "v"] {
                guard let m = try values(file, "optimizer.\(kind).\(p.name)", count: p.value.count, path: path) else { continue }
                moments.append(Tensor(shape: p.value.shape, values: m))
            }
            p.state = moments
        }
        return Checkpoint(recipe: recipe, log: log, optimizerSteps: steps, generator: loop, dropoutGenerators: dropouts.map { $0! },
                          window: window)
    }

    private static func values(_ file: SafeTensors, _ name: String, count: Int, path: String) throws(ModelError) -> [Float]? {
        guard let entry = file[name] else { return nil }
        let v = try entry.floats()
        guard v.count == count else { throw .invalid(path: path, reason: "'\(name)' does not fit this model (\(v.count) values, expected \(count))") }
        return v
    }
}
