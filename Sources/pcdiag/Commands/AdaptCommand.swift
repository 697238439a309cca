import Adaptation
import ArgumentParser
import Foundation
import Output
import Networks
import PointClouds
import Support

extension Gate.Kind: ExpressibleByArgument {}
extension Gate.Threshold: ExpressibleByArgument {}

struct AdaptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapt",
        abstract: "Adapt a trained model to a new sensor from unlabelled scans (multi-task UDA with the SM-DSB gate).",
        discussion: """
            Starts from --model and trains on labelled --source clouds (classification, PCM mixup; with \
            --simulate-views P each source cloud is first, with probability P, replaced by the side of it a \
            sensor sees from a random viewpoint, prepared as a scan) plus self-supervised tasks on unlabelled --target clouds: DefRec region reconstruction and 4-way \
            rotation prediction. The SM-DSB gate measures each target sample's saliency-map skewness with \
            the current network (predicted class, inference-mode BatchNorm) and keeps the self-supervised \
            loss only for the lowest --keep-ratio share (--gate random keeps a random share of the same \
            size, --gate none keeps all); the classification loss is never gated. --self-training-from E \
            adds pseudo-labels from epoch E on: the most confident --pseudo-share of the target clouds \
            predicted as each class. BatchNorm keeps the source model's statistics in every pass \
            (--batch-statistics: each batch's own, as DefRec's reference code).

            The model is chosen on source validation accuracy (--source-val, else a seeded stratified \
            --val-fraction of --source held out; with --simulate-views, the mean of that and the accuracy \
            on one fixed simulated view of each validation cloud); target labels are never used to train or choose — \
            --target-labels reads them from the target's class folders for reporting only. Each epoch is \
            logged on stderr; the JSON report (-o path with .json) holds every epoch's losses, gate \
            statistics and the probe batch's gradient agreement. A checkpoint (-o path + .ckpt) is written \
            atomically after every epoch; --resume continues from it. The adapted model records its \
            provenance and drops the source model's calibration: run 'pcdiag calibrate' on it.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Labelled source set (class folders or CSV manifest), the data the model was trained on.")
    var source: String

    @Option(help: "Unlabelled target clouds: files, folders, globs or @lists (class folders with --target-labels).")
    var target: [String]

    @Option(name: .short, help: "Output model file (.safetensors).")
    var output: String

    @Option(name: .customLong("source-val"), help: "Source validation set for model selection.")
    var sourceVal: String?

    @Option(name: .customLong("val-fraction"), help: "Share of --source held out for validation when --source-val is not given.")
    var valFraction = 0.1

    @Option(help: "Epochs.") var epochs = 10
    @Option(name: .customLong("batch-size"), help: "Clouds per batch (source and target each).") var batchSize = 32
    @Option(help: "Learning rate (Adam, cosine-annealed to 1/100 of it).") var lr = 1e-4
    @Option(name: .customLong("weight-decay"), help: "Weight decay.") var weightDecay = 1e-4
    @Option(name: .customLong("label-smoothing"), help: "Label smoothing of the classification losses.") var labelSmoothing = 0.2
    @Flag(name: .customLong("no-mixup"), help: "Source classification without PCM mixup.") var noMixup = false
    @Option(name: .customLong("simulate-views"), help: "Share of source clouds replaced, in each batch, by a simulated single view of themselves (occlusion from a random viewpoint, prepared as a scan); 0: off.")
    var simulateViews = 0.0
    @Option(name: .customLong("view-severities"), help: "Occlusion severities of the simulated views, FIRST:LAST within 1…5 (the sensor 10, 4, 2.5, 1.8, 1.4 radii away).")
    var viewSeverities = "1:3"
    @Option(name: .customLong("defrec-weight"), help: "Weight of DefRec reconstruction (0: off).") var defrecWeight = 0.5
    @Option(name: .customLong("rotation-weight"), help: "Weight of rotation prediction (0: off).") var rotationWeight = 0.5
    @Flag(name: .customLong("ssl-on-source"), help: "Also run the self-supervised tasks on source batches.") var sslOnSource = false
    @Flag(name: .customLong("batch-statistics"), help: "BatchNorm normalises with each batch's statistics and updates its running ones (DefRec's reference code); default: the source model's statistics, frozen.")
    var batchStatistics = false
    @Option(help: "Gate of the self-supervised loss: none, skewness (SM-DSB) or random.") var gate = Gate.Kind.skewness
    @Option(name: .customLong("keep-ratio"), help: "ρ: share of each batch the gate keeps.") var keepRatio = 0.5
    @Option(name: .customLong("gate-threshold"), help: "batch (the batch's own ρ-quantile) or running (recent batches').")
    var gateThreshold = Gate.Threshold.batch
    @Option(help: "α of the measurer's saliency map.") var alpha = 1.0
    @Option(name: .customLong("self-training-from"), help: "First epoch (1-based) with target pseudo-labels; off by default.")
    var selfTrainingFrom: Int?
    @Option(name: .customLong("pseudo-share"), help: "Share of each predicted class pseudo-labelled (most confident first), first:last epoch of self-training.")
    var pseudoShare = "0.2:0.6"
    @Option(name: .customLong("pseudo-weight"), help: "Weight of the pseudo-label loss.") var pseudoWeight = 1.0
    @Flag(name: .customLong("target-labels"), help: "Report target accuracy from the target's class folders (never used to train or choose).")
    var targetLabels = false
    @Option(help: "Stop after this many epochs without a better source validation accuracy.") var patience: Int?
    @Option(help: "Use a seeded subset of at most N clouds of each set (quick runs).") var limit: Int?
    @Option(help: "Seed of the heads, shuffles, augmentation, mixup, deformations and gate.") var seed: UInt64 = 0
    @Flag(help: "Continue from the checkpoint beside -o.") var resume = false
    @Flag(help: "Overwrite an existing output model.") var force = false
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard epochs >= 1, batchSize >= 2, lr > 0, (0 ..< 1).contains(valFraction) || sourceVal != nil else {
            throw ValidationError("--epochs ≥ 1, --batch-size ≥ 2, --lr > 0 and 0 ≤ --val-fraction < 1 are required")
        }
        guard keepRatio > 0 && keepRatio <= 1 else { throw ValidationError("--keep-ratio must be in (0, 1]") }
        guard (0 ... 1).contains(simulateViews) else { throw ValidationError("--simulate-views must be in [0, 1]") }
        guard defrecWeight >= 0, rotationWeight >= 0, pseudoWeight >= 0 else { throw ValidationError("task weights must be ≥ 0") }
        if let selfTrainingFrom, !(1 ... epochs).contains(selfTrainingFrom) {
            throw ValidationError("--self-training-from must be an epoch between 1 and --epochs")
        }
        _ = try shares()
        _ = try severities()
        if let limit, limit < batchSize { throw ValidationError("--limit must be at least --batch-size") }
    }

    func shares() throws -> (Double, Double) {
        guard let shares = Self.pair(pseudoShare, within: 0.0 ... 1) else {
            throw ValidationError("--pseudo-share must be S or FIRST:LAST with values in [0, 1]")
        }
        return shares
    }

    func severities() throws -> ClosedRange<Int> {
        guard let (first, last) = Self.pair(viewSeverities, within: 1 ... 5), first <= last else {
            throw ValidationError("--view-severities must be S or FIRST:LAST with 1 ≤ FIRST ≤ LAST ≤ 5")
        }
        return first ... last
    }

    /// "S" (both the same) or "FIRST:LAST", each within `range`; nil for anything else.
    static func pair<T: LosslessStringConvertible & Comparable>(_ text: String, within range: ClosedRange<T>) -> (T, T)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { T(String($0)) }
        guard (1 ... 2).contains(parts.count), let first = parts[0], let last = parts.last!, range.contains(first), range.contains(last) else {
            return nil
        }
        return (first, last)
    }

    var checkpointPath: String { output + ".ckpt" }
    var reportPath: String { (output.hasSuffix(".safetensors") ? String(output.dropLast(12)) : output) + ".json" }

    var options: AdaptationOptions {
        get throws {
            var o = AdaptationOptions()
            o.epochs = epochs
            o.batchSize = batchSize
            o.learningRate = lr
            o.weightDecay = weightDecay
            o.labelSmoothing = labelSmoothing
            o.mixup = !noMixup
            o.sensorSimulation = simulateViews > 0 ? SensorSimulation(probability: simulateViews, severities: try severities()) : nil
            o.reconstructionWeight = defrecWeight
            o.rotationWeight = rotationWeight
            o.selfSupervisedOnSource = sslOnSource
            o.batchStatistics = batchStatistics
            o.gate = Gate(kind: gate, keepRatio: keepRatio, threshold: gateThreshold)
            o.saliencyAlpha = alpha
            let (first, last) = try shares()
            o.selfTraining = selfTrainingFrom.map { SelfTraining(fromEpoch: $0, startShare: first, endShare: last, weight: pseudoWeight) }
            o.seed = seed
            return o
        }
    }

    func run() throws {
        let console = global.console
        // --resume continues a checkpoint; without one it must not replace what is there.
        let continuing = resume && FileManager.default.fileExists(atPath: checkpointPath)
        try CommandFailure.checkOutputs([output, reportPath], force: force || continuing, resumable: true)
        let sourceModelPath = try modelOptions.resolvedPath()
        let model = try modelOptions.load()
        let options = try options
        var (sourceSet, _) = try LabelledData.load(source, for: model, console: console)
        sourceSet = subset(sourceSet)
        let validation: PreparedSet
        if let sourceVal {
            validation = try LabelledData.load(sourceVal, for: model, console: console).set
        } else {
            (sourceSet, validation) = sourceSet.split(holdingOut: valFraction, seed: seed)
        }
        let (targetSet, truth) = try loadTarget(model, console)
        guard sourceSet.count >= batchSize, targetSet.count >= 1, validation.count >= 1 else {
            throw CommandFailure(status: .badInput, message: "\(source): \(sourceSet.count) source clouds for training, fewer than one batch of \(batchSize)")
        }
        let adapter = Adapter(model: model, options: options, source: sourceSet, validation: validation, target: targetSet, targetLabels: truth)
        if resume && FileManager.default.fileExists(atPath: checkpointPath) {
            try adapter.resume(from: checkpointPath)
            console.info("resumed from \(checkpointPath) after epoch \(adapter.epoch)")
        }
        console.info("adapt: \(model.metadata.architecture.name), \(sourceSet.count) source clouds (+\(validation.count) validation), "
            + "\(targetSet.count) target clouds\(truth == nil ? "" : " (labels for reporting only)"); \(options.recipe)")
        var metadata = model.metadata
        var sinceBest = 0
        while adapter.epoch < epochs {
            let bar = console.progress(total: sourceSet.count / batchSize * batchSize, label: "epoch \(adapter.epoch + 1)/\(epochs)")
            var last = 0
            let e = adapter.runEpoch { done in
                bar.advance(by: done - last)
                last = done
            }
            bar.finish()
            console.info(Self.line(e, of: epochs))
            if e.isBest {
                sinceBest = 0
                metadata.adaptation = AdaptationRecord(
                    sourceModel: sourceModelPath, sourceData: source, targetData: target.joined(separator: " "), epoch: e.epoch, epochs: epochs,
                    seed: seed, recipe: options.recipe, sourceValidationAccuracy: e.sourceValidationAccuracy,
                    command: (["pcdiag"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
                // The source model's calibration describes other weights: dropped, not carried over.
                try Model(metadata: metadata, network: model.network).save(to: output)
            } else {
                sinceBest += 1
            }
            try adapter.checkpoint(to: checkpointPath)
            try writeReport(adapter, sourceModel: sourceModelPath)
            if let patience, sinceBest >= patience {
                console.info("no better source validation accuracy in \(patience) epochs: stopping")
                break
            }
        }
        let chosen = adapter.log.last { $0.isBest }
        var r = Record()
        r["model"] = .string(output)
        r["report"] = .string(reportPath)
        r["epoch"] = chosen.map { .int($0.epoch) } ?? .null
        r["source_validation_accuracy"] = chosen.map { .double($0.sourceValidationAccuracy) } ?? .null
        r["target_accuracy"] = chosen?.targetAccuracy.map(Value.double) ?? .null
        RecordPrinter(format: .jsonl, columns: []).emit(r)
        console.warning("\(output) is not calibrated for diagnostics: run 'pcdiag calibrate --model \(output) --data \(source) -o \(output) --force'")
    }

    func subset(_ set: PreparedSet) -> PreparedSet {
        guard let limit, set.count > limit else { return set }
        var rng = SeededGenerator(seed: seed)
        return set.subset(Array(0 ..< set.count).shuffled(using: &rng).prefix(limit).sorted())
    }

    /// The target clouds, and their labels in the model's class order when asked for (reporting only).
    func loadTarget(_ model: Model, _ console: Console) throws -> (PreparedSet, [Int]?) {
        if targetLabels {
            guard target.count == 1 else { throw CommandFailure(status: .usage, message: "--target-labels needs one class-folder --target") }
            let set = subset(try LabelledData.load(target[0], for: model, console: console).set)
            return (set, set.labels)
        }
        let paths = try CloudPaths.expand(target)
        let (set, failures) = try PreparedSet.load(LabelledSet(unlabelled: paths), preprocessing: model.metadata.preprocessing)
        for f in failures { console.warning("skipped \(f)") }
        guard set.count > 0 else { throw CommandFailure(status: .badInput, message: "\(target.joined(separator: " ")): no usable target clouds") }
        return (subset(set), nil)
    }

    func writeReport(_ adapter: Adapter, sourceModel: String) throws {
        struct Report: Encodable {
            var model: String, sourceModel: String, source: String, target: String, recipe: String
            var options: AdaptationOptions
            var selectedEpoch: Int?
            var epochs: [AdaptationEpoch]
        }
        let report = Report(model: output, sourceModel: sourceModel, source: source, target: target.joined(separator: " "),
                            recipe: adapter.options.recipe, options: adapter.options, selectedEpoch: adapter.log.last { $0.isBest }?.epoch,
                            epochs: adapter.log)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(report).write(to: URL(fileURLWithPath: reportPath), options: .atomic)
        } catch {
            throw CommandFailure(status: .output, message: "\(reportPath): cannot write the report (\(error.localizedDescription))")
        }
    }

    static func line(_ e: AdaptationEpoch, of epochs: Int) -> String {
        var parts = [String(format: "epoch %d/%d  cls %.4f", e.epoch, epochs, e.losses.classification)]
        if e.losses.reconstruction > 0 { parts.append(String(format: "defrec %.4f", e.losses.reconstruction)) }
        if e.losses.rotation > 0 { parts.append(String(format: "rot %.4f", e.losses.rotation)) }
        if e.losses.pseudo > 0 { parts.append(String(format: "pseudo %.4f", e.losses.pseudo)) }
        parts.append(String(format: "src-val %.2f%%", e.sourceValidationAccuracy * 100)
            + (e.sourceViewValidationAccuracy.map { String(format: " views %.2f%%", $0 * 100) } ?? "") + (e.isBest ? " (best)" : ""))
        if let g = e.gate {
            parts.append(String(format: "kept %.0f%%", g.keptFraction * 100))
            if let k = g.meanSkewnessKept, let d = g.meanSkewnessDropped { parts.append(String(format: "skew kept %.2f / dropped %.2f", k, d)) }
        }
        if let a = e.agreement { parts.append(String(format: "cos low %.3f high %.3f", a.lowSkewness, a.highSkewness)) }
        if let p = e.pseudoLabels {
            parts.append(String(format: "pseudo-labelled %.0f%%", p.fraction * 100) + (p.accuracy.map { String(format: " (%.1f%% right)", $0 * 100) } ?? ""))
        }
        if let t = e.targetAccuracy { parts.append(String(format: "target %.2f%%", t * 100)) }
        parts.append(String(format: "%.0fs (measurer %.0fs)", e.seconds, e.measurerSeconds))
        return parts.joined(separator: "  ")
    }
}
