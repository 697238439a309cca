import Diagnostics
import Engine
import Foundation
import Networks
import Support

/// Multi-task unsupervised domain adaptation of a trained model (DESIGN §3): each step sums the
/// gradients of separate passes — source classification (PCM-mixed), DefRec reconstruction and
/// rotation prediction on target clouds (each sample admitted by the gate), pseudo-labelled target
/// clouds when self-training — and takes one Adam step. BatchNorm keeps the source model's statistics
/// unless `batchStatistics` is set (then passes are separate so it sees one domain at a time, as in
/// the reference implementations). Target labels, when given, are only reported.
public final class Adapter {
    public let model: Model
    public let options: AdaptationOptions
    public let source: PreparedSet
    public let validation: PreparedSet
    /// The validation clouds as simulated single views, when the recipe simulates views: the model is
    /// then chosen on the mean of both accuracies.
    public let validationViews: PreparedSet?
    /// Target clouds; their `labels` are placeholders unless `targetLabels` is set.
    public let target: PreparedSet
    public let targetLabels: [Int]?
    let reconstruction: ReconstructionHead<Float>?
    let rotation: MLPHead<Float>?
    public private(set) var epoch = 0
    public private(set) var bestAccuracy: Double?
    public private(set) var log: [AdaptationEpoch] = []
    var adam: Adam<Float>
    var rng: SeededGenerator
    let schedule: CosineSchedule
    var skewnessHistory: [Double] = []
    let gradientSums: [Tensor<Float>]
    let input = Tensor<Float>(shape: [0]), lossGradient = Tensor<Float>(shape: [0])
    let outputGradient = Tensor<Float>(shape: [0])

    public init(model: Model, options: AdaptationOptions, source: PreparedSet, validation: PreparedSet, target: PreparedSet,
                targetLabels: [Int]? = nil) {
        precondition(targetLabels == nil || targetLabels!.count == target.count, "one target label per target cloud")
        self.model = model
        self.options = options
        self.source = source
        self.validation = validation
        validationViews = options.sensorSimulation?.views(of: validation, preprocessing: model.metadata.preprocessing, seed: options.seed)
        self.target = target
        self.targetLabels = targetLabels
        let arch = model.metadata.architecture
        let (c, g) = (arch.pointFeatureChannels, arch.globalFeatureChannels)
        reconstruction = options.reconstructionWeight > 0
            ? ReconstructionHead(pointChannels: c, globalChannels: g, seed: options.seed) : nil
        rotation = options.rotationWeight > 0 ? MLPHead("ssl.rotation", widths: [g, 256, 4], seed: options.seed) : nil
        adam = Adam(learningRate: options.learningRate, weightDecay: options.weightDecay)
        rng = SeededGenerator(seed: options.seed)
        schedule = CosineSchedule(base: options.learningRate, minimum: options.learningRate / 100, epochs: options.epochs)
        let headParameters = (reconstruction?.parameters ?? []) + (rotation?.parameters ?? [])
        gradientSums = (model.network.parameters + headParameters).map { Tensor(shape: $0.value.shape) }
    }

    /// Everything the optimiser updates: the network and the heads.
    var trainable: [Parameter<Float>] { model.network.parameters + (reconstruction?.parameters ?? []) + (rotation?.parameters ?? []) }
    /// Everything a checkpoint holds.
    var state: [Parameter<Float>] {
        model.network.stateTensors + (reconstruction.map { $0.parameters + $0.buffers } ?? []) + (rotation.map { $0.parameters + $0.buffers } ?? [])
    }
    var selfSupervised: Bool { reconstruction != nil || rotation != nil }

    // MARK: Gradient bookkeeping

    /// Adds this pass's parameter gradients to the step's sums and clears them, so a layer the next
    /// pass does not reach (the classifier in a self-supervised pass) contributes nothing twice.
    func harvest() {
        for (p, sum) in zip(trainable, gradientSums) {
            let g = p.grad.pointer, s = sum.pointer
            for i in 0 ..< sum.count { s[i] += g[i]; g[i] = 0 }
        }
    }

    func applySums() {
        for (p, sum) in zip(trainable, gradientSums) {
            p.grad.copy(from: sum)
            sum.fill(0)
        }
    }

    /// Runs `body` and puts the network's BatchNorm running statistics back afterwards: inputs unlike
    /// what the model will classify (rotated clouds, probes) must not move them.
    func keepingRunningStatistics<R>(_ body: () -> R) -> R {
        let saved = model.network.buffers.map(\.value.array)
        defer { for (p, values) in zip(model.network.buffers, saved) { for i in values.indices { p.value[i] = values[i] } } }
        return body()
    }

    // MARK: Passes

    /// The rows of `input` augmented in place.
    func augmentBatch(rows: Int) {
        let n = input.shape[1]
        for row in 0 ..< rows { options.augmentation.apply(input.pointer + row * n * 3, count: n, using: &rng) }
    }

    /// Rows of `input` replaced by simulated single views, as `sensorSimulation` draws them.
    func simulateViews(rows b: Int) {
        guard let simulation = options.sensorSimulation else { return }
        let draws = (0 ..< b).map { _ in simulation.draw(using: &rng) }
        let n = input.shape[1], p = input.pointer, preprocessing = model.metadata.preprocessing
        parallelRanges(b, grain: 1) { rows in
            for r in rows { if let draw = draws[r] { SensorSimulation.replace(p + r * n * 3, count: n, with: draw, preprocessing: preprocessing) } }
        }
    }

    /// `clean` ([b, n, 3] values) copied into `input` and augmented; returns n.
    func loadAugmented(_ clean: [Float], rows b: Int) -> Int {
        let n = clean.count / (3 * b)
        input.resize([b, n, 3])
        for i in clean.indices { input[i] = clean[i] }
        augmentBatch(rows: b)
        return n
    }

    /// Source classification on the clouds at `indices`, PCM-mixed when on: (loss, right answers).
    func classificationPass(_ indices: ArraySlice<Int>) -> (loss: Double, correct: Int) {
        source.batch(indices, into: input)
        let b = indices.count, k = source.classes.count, n = source.pointsPerCloud
        simulateViews(rows: b)
        augmentBatch(rows: b)
        let labels = indices.map { source.labels[$0] }
        func oneHot(_ c: Int) -> [Double] { (0 ..< k).map { $0 == c ? 1 : 0 } }
        var targets = labels.map(oneHot)
        var answers = labels
        if options.mixup {
            let lambda = Double.random(in: 0 ... 1, using: &rng)
            let partner = Array(0 ..< b).shuffled(using: &rng)
            let original = input.array
            for r in 0 ..< b {
                let (mixed, share) = PointCloudMixup.mix(original[r * n * 3 ..< (r + 1) * n * 3],
                                                         original[partner[r] * n * 3 ..< (partner[r] + 1) * n * 3],
                                                         lambda: lambda, seed: rng.next())
                for i in mixed.indices { input[r * n * 3 + i] = mixed[i] }
                targets[r] = zip(oneHot(labels[r]), oneHot(labels[partner[r]])).map { share * $0 + (1 - share) * $1 }
                answers[r] = share >= 0.5 ? labels[r] : labels[partner[r]]
            }
        }
        let logits = model.network.forward(input, training: options.batchStatistics)
        let loss = SoftmaxCrossEntropy<Float>(labelSmoothing: options.labelSmoothing)(logits, targets: targets, gradient: lossGradient)
        _ = model.network.backward(lossGradient)
        harvest()
        return (loss, (0 ..< b).filter { argmax(logits, row: $0) == answers[$0] }.count)
    }

    /// DefRec on `clean` clouds ([b, n, 3] values), each weighted (0: dropped by the gate): the mean
    /// Chamfer distance over the kept clouds' deformed regions.
    func reconstructionPass(_ clean: [Float], rows b: Int, weights: [Double]) -> Double {
        guard let head = reconstruction, weights.contains(where: { $0 > 0 }) else { return 0 }
        let n = loadAugmented(clean, rows: b)
        let truth = input.array
        let regions = (0 ..< b).map { RegionDeformation().apply(input.pointer + $0 * n * 3, count: n, using: &rng) }
        let network = model.network
        _ = network.forward(input, training: options.batchStatistics)
        let out = head.forward(points: network.pointFeatures, global: network.globalFeature, training: true)
        outputGradient.resize(out.shape)
        outputGradient.fill(0)
        let total = weights.reduce(0, +)
        var loss = 0.0
        for r in 0 ..< b where weights[r] > 0 {
            func point(_ values: (Int) -> Float, _ i: Int) -> SIMD3<Float> {
                let base = (r * n + i) * 3
                return SIMD3(values(base), values(base + 1), values(base + 2))
            }
            let region = regions[r]
            let (d, g) = chamferDistance(predicted: region.map { point({ out[$0] }, $0) }, truth: region.map { point({ truth[$0] }, $0) })
            let w = weights[r] / total
            loss += w * d
            let scale = Float(w * options.reconstructionWeight)
            for (i, gi) in zip(region, g) {
                let base = (r * n + i) * 3
                outputGradient[base] += scale * gi.x
                outputGradient[base + 1] += scale * gi.y
                outputGradient[base + 2] += scale * gi.z
            }
        }
        let (dPoints, dGlobal) = head.backward(outputGradient)
        _ = network.backward(nil, globalFeature: dGlobal, pointFeatures: dPoints)
        harvest()
        return loss
    }

    /// Rotation prediction on `clean` clouds, each weighted: the weighted cross-entropy. The rotated
    /// clouds never move BatchNorm's running statistics.
    func rotationPass(_ clean: [Float], rows b: Int, weights: [Double]) -> Double {
        guard let head = rotation, weights.contains(where: { $0 > 0 }) else { return 0 }
        let n = loadAugmented(clean, rows: b)
        let turns = (0 ..< b).map { _ in Int.random(in: 0 ..< 4, using: &rng) }
        for r in 0 ..< b { QuarterTurn.apply(input.pointer + r * n * 3, count: n, turns: turns[r]) }
        return keepingRunningStatistics {
            let network = model.network
            _ = network.forward(input, training: options.batchStatistics)
            let logits = head.forward(network.globalFeature, training: true)
            let loss = SoftmaxCrossEntropy<Float>()(logits, targets: turns.map { t in (0 ..< 4).map { $0 == t ? 1 : 0 } }, weights: weights,
                                                    gradient: lossGradient)
            scale(lossGradient, by: options.rotationWeight)
            _ = network.backward(nil, globalFeature: head.backward(lossGradient), pointFeatures: nil)
            harvest()
            return loss
        }
    }

    /// Classification of target clouds at their pseudo-labels (nil: not confident, left out).
    func pseudoLabelPass(_ indices: ArraySlice<Int>, labels: [Int?], weight: Double) -> Double {
        guard labels.contains(where: { $0 != nil }) else { return 0 }
        target.batch(indices, into: input)
        augmentBatch(rows: indices.count)
        let k = model.metadata.architecture.classes  // an unlabelled target has one placeholder class
        let logits = model.network.forward(input, training: options.batchStatistics)
        let loss = SoftmaxCrossEntropy<Float>(labelSmoothing: options.labelSmoothing)(
            logits, targets: labels.map { l in (0 ..< k).map { $0 == l ? 1 : 0 } }, weights: labels.map { $0 == nil ? 0 : 1 },
            gradient: lossGradient)
        scale(lossGradient, by: weight)
        _ = model.network.backward(lossGradient)
        harvest()
        return loss
    }

    // MARK: Steps and epochs

    struct Tally {
        var losses = AdaptationEpoch.Losses()
        var steps = 0, correct = 0, seen = 0, kept = 0, gated = 0
        var skewKept = 0.0, skewDropped = 0.0, nKept = 0, nDropped = 0
        var measurerSeconds = 0.0
    }

    /// The self-supervised passes over one batch of clouds from `set` (the target or the source), gated.
    func selfSupervisedPasses(_ set: PreparedSet, _ indices: ArraySlice<Int>, into tally: inout Tally) {
        set.batch(indices, into: input)
        let b = indices.count
        let clean = input.array
        var skewness: [Double]? = nil
        if options.gate.measures {
            let start = Date()
            skewness = model.network.saliencySkewness(input, alpha: options.saliencyAlpha)
            tally.measurerSeconds += Date().timeIntervalSince(start)
        }
        let keep = options.gate.select(count: b, skewness: skewness, history: &skewnessHistory, using: &rng)
        tally.kept += keep.filter { $0 }.count
        tally.gated += b
        if let skewness {
            for (s, k) in zip(skewness, keep) {
                if k { tally.skewKept += s; tally.nKept += 1 } else { tally.skewDropped += s; tally.nDropped += 1 }
            }
        }
        let weights = keep.map { $0 ? 1.0 : 0 }
        tally.losses.reconstruction += reconstructionPass(clean, rows: b, weights: weights)
        tally.losses.rotation += rotationPass(clean, rows: b, weights: weights)
    }

    func step(source sourceIndices: ArraySlice<Int>, target targetIndices: ArraySlice<Int>, pseudo: [Int?]?, into tally: inout Tally) {
        let (loss, correct) = classificationPass(sourceIndices)
        tally.losses.classification += loss
        tally.correct += correct
        tally.seen += sourceIndices.count
        if selfSupervised {
            selfSupervisedPasses(target, targetIndices, into: &tally)
            if options.selfSupervisedOnSource { selfSupervisedPasses(source, sourceIndices, into: &tally) }
        }
        if let pseudo, let weight = options.selfTraining?.weight {
            tally.losses.pseudo += pseudoLabelPass(targetIndices, labels: targetIndices.map { pseudo[$0] }, weight: weight)
        }
        tally.steps += 1
        applySums()
        adam.step(trainable)
    }

    /// Runs one epoch; `progress` gets the number of source clouds done after each step.
    public func runEpoch(progress: (Int) -> Void = { _ in }) -> AdaptationEpoch {
        let start = Date()
        let rate = schedule.rate(epoch: epoch)
        adam.learningRate = rate
        let b = options.batchSize
        var pseudo: [Int?]? = nil
        var pseudoReport: AdaptationEpoch.PseudoLabels? = nil
        if let st = options.selfTraining, let share = st.share(epoch: epoch + 1, of: options.epochs) {
            let labels = SelfTraining.select(model.predict(target), share: share)
            pseudo = labels
            let chosen = labels.indices.filter { labels[$0] != nil }
            pseudoReport = .init(share: share, fraction: Double(chosen.count) / Double(max(target.count, 1)),
                                 accuracy: targetLabels.flatMap { truth in
                                     chosen.isEmpty ? nil : Double(chosen.filter { labels[$0] == truth[$0] }.count) / Double(chosen.count)
                                 })
        }
        let order = Array(0 ..< source.count).shuffled(using: &rng)
        var targetOrder = [Int]()
        var tally = Tally()
        for s in 0 ..< source.count / b {
            if targetOrder.count < b { targetOrder += Array(0 ..< target.count).shuffled(using: &rng) }
            let targetBatch = targetOrder.prefix(b)
            targetOrder.removeFirst(min(b, targetOrder.count))
            step(source: order[s * b ..< (s + 1) * b], target: targetBatch, pseudo: pseudo, into: &tally)
            progress((s + 1) * b)
        }
        let validationAccuracy = model.evaluate(validation).overallAccuracy
        let viewAccuracy = validationViews.map { model.evaluate($0).overallAccuracy }
        let selectionScore = viewAccuracy.map { (validationAccuracy + $0) / 2 } ?? validationAccuracy
        let targetAccuracy = targetLabels.map { truth in
            Evaluation(classes: target.classes, truth: truth, predicted: model.predict(target).map(\.label)).overallAccuracy
        }
        let agreement = selfSupervised ? probeAgreement() : nil
        epoch += 1
        let isBest = selectionScore >= (bestAccuracy ?? -1)
        if isBest { bestAccuracy = selectionScore }
        let steps = Double(max(tally.steps, 1))
        var losses = tally.losses
        losses.classification /= steps
        losses.reconstruction /= steps
        losses.rotation /= steps
        losses.pseudo /= steps
        let gate = selfSupervised
            ? AdaptationEpoch.GateStatistics(keptFraction: Double(tally.kept) / Double(max(tally.gated, 1)),
                                             meanSkewnessKept: tally.nKept > 0 ? tally.skewKept / Double(tally.nKept) : nil,
                                             meanSkewnessDropped: tally.nDropped > 0 ? tally.skewDropped / Double(tally.nDropped) : nil)
            : nil
        let report = AdaptationEpoch(epoch: epoch, learningRate: rate, seconds: Date().timeIntervalSince(start),
                                     measurerSeconds: tally.measurerSeconds, losses: losses,
                                     sourceTrainAccuracy: Double(tally.correct) / Double(max(tally.seen, 1)),
                                     sourceValidationAccuracy: validationAccuracy,
                                     sourceViewValidationAccuracy: viewAccuracy, isBest: isBest, gate: gate, agreement: agreement,
                                     pseudoLabels: pseudoReport, targetAccuracy: targetAccuracy)
        log.append(report)
        return report
    }

    // MARK: Gradient agreement

    /// SM-DSB's premise, measured on a fixed probe batch of target clouds: the cosine between the
    /// classification gradient (oracle target labels when given, else a fixed source batch) and the
    /// self-supervised gradient of the batch's lower-skewness half, of its higher half, and of all of
    /// it, over the parameters both reach. Leaves weights, statistics and the training sequence as
    /// they were.
    func probeAgreement() -> AdaptationEpoch.Agreement {
        var probeRng = SeededGenerator(seed: options.seed ^ 0x5052_4F42_45)
        let b = min(options.batchSize, target.count)
        let targetRows = Array(Array(0 ..< target.count).shuffled(using: &probeRng).prefix(b))
        let sourceRows = Array(Array(0 ..< source.count).shuffled(using: &probeRng).prefix(b))
        let saved = (rng, skewnessHistory)
        defer { (rng, skewnessHistory) = saved }
        return keepingRunningStatistics {
            func gradient(_ body: () -> Void) -> [Float] {
                for s in gradientSums { s.fill(0) }
                rng = SeededGenerator(seed: probeRng.state)
                body()
                let flat = gradientSums.flatMap(\.array)
                for s in gradientSums { s.fill(0) }
                return flat
            }
            target.batch(targetRows[...], into: input)
            let clean = input.array
            let skewness = model.network.saliencySkewness(input, alpha: options.saliencyAlpha)
            let low = Set(skewness.indices.sorted { (skewness[$0], $0) < (skewness[$1], $1) }.prefix(b / 2))
            func ssl(_ rows: (Int) -> Bool) -> [Float] {
                gradient {
                    let weights = (0 ..< b).map { rows($0) ? 1.0 : 0 }
                    _ = reconstructionPass(clean, rows: b, weights: weights)
                    _ = rotationPass(clean, rows: b, weights: weights)
                }
            }
            let reference: [Float]
            let kind: String
            if let truth = targetLabels {
                kind = "target-oracle"
                reference = gradient {
                    target.batch(targetRows[...], into: input)
                    let logits = model.network.forward(input, training: options.batchStatistics)
                    _ = SoftmaxCrossEntropy<Float>(labelSmoothing: options.labelSmoothing)(logits, labels: targetRows.map { truth[$0] },
                                                                                          gradient: lossGradient)
                    _ = model.network.backward(lossGradient)
                    harvest()
                }
            } else {
                kind = "source"
                reference = gradient {
                    source.batch(sourceRows[...], into: input)
                    let logits = model.network.forward(input, training: options.batchStatistics)
                    _ = SoftmaxCrossEntropy<Float>(labelSmoothing: options.labelSmoothing)(logits, labels: sourceRows.map { source.labels[$0] },
                                                                                          gradient: lossGradient)
                    _ = model.network.backward(lossGradient)
                    harvest()
                }
            }
            let (lowGradient, highGradient) = (ssl(low.contains), ssl { !low.contains($0) })
            // Both halves saw the same deformations and turns, and each loss is a mean over its samples,
            // so the whole batch's gradient is their mean weighted by size (the cosine ignores the scale).
            let (nLow, nHigh) = (Float(low.count), Float(b - low.count))
            let allGradient = zip(lowGradient, highGradient).map { nLow * $0 + nHigh * $1 }
            // The shared parameters: those the self-supervised loss reaches (not the classifier, not the heads).
            let reached = reference.indices.filter { allGradient[$0] != 0 && reference[$0] != 0 }
            return .init(reference: kind, lowSkewness: cosine(reference, lowGradient, reached),
                         highSkewness: cosine(reference, highGradient, reached), all: cosine(reference, allGradient, reached))
        }
    }

    // MARK: Checkpoints

    /// Writes everything needed to resume: weights, heads, optimiser moments, counters, generator
    /// state, the running gate window and the log so far. Atomic.
    public func checkpoint(to path: String) throws(ModelError) {
        let encoder = JSONEncoder()
        try Checkpoint.write(to: path, state: state, metadata: [
            "epoch": String(epoch), "steps": String(adam.steps), "rng": String(rng.state),
            "best": bestAccuracy.map { String($0) } ?? "",
            "options": String(decoding: (try? encoder.encode(options)) ?? Data(), as: UTF8.self),
            "log": String(decoding: (try? encoder.encode(log)) ?? Data(), as: UTF8.self),
            "gate-window": String(decoding: (try? encoder.encode(skewnessHistory)) ?? Data(), as: UTF8.self),
        ])
    }

    /// Restores a checkpoint written by `checkpoint(to:)` with the same options (`epochs` aside).
    public func resume(from path: String) throws(ModelError) {
        let metadata = try Checkpoint.read(path, into: state)
        let decoder = JSONDecoder()
        guard let e = metadata["epoch"].flatMap(Int.init), let steps = metadata["steps"].flatMap(Int.init),
              let generator = metadata["rng"].flatMap(UInt64.init),
              let saved = metadata["options"].flatMap({ try? decoder.decode(AdaptationOptions.self, from: Data($0.utf8)) }),
              let savedLog = metadata["log"].flatMap({ try? decoder.decode([AdaptationEpoch].self, from: Data($0.utf8)) }) else {
            throw .invalid(path: path, reason: "not a pcdiag adaptation checkpoint")
        }
        // Only the number of epochs may change: a finished run can be continued for more.
        var comparable = saved
        comparable.epochs = options.epochs
        guard comparable == options else { throw .invalid(path: path, reason: "the checkpoint was made with other adaptation options") }
        epoch = e
        adam.resume(atStep: steps)
        rng = SeededGenerator(seed: generator)
        bestAccuracy = metadata["best"].flatMap(Double.init)
        log = savedLog
        skewnessHistory = metadata["gate-window"].flatMap { try? decoder.decode([Double].self, from: Data($0.utf8)) } ?? []
    }
}

func argmax(_ logits: Tensor<Float>, row: Int) -> Int {
    let k = logits.channels
    return (0 ..< k).max { logits[row * k + $0] < logits[row * k + $1] }!
}

func scale(_ t: Tensor<Float>, by factor: Double) {
    let f = Float(factor)
    for i in 0 ..< t.count { t[i] *= f }
}

/// Cosine similarity of two vectors over the entries at `indices`; 0 when either is zero there.
func cosine(_ a: [Float], _ b: [Float], _ indices: [Int]) -> Double {
    var dot = 0.0, na = 0.0, nb = 0.0
    for i in indices {
        dot += Double(a[i]) * Double(b[i])
        na += Double(a[i]) * Double(a[i])
        nb += Double(b[i]) * Double(b[i])
    }
    return na > 0 && nb > 0 ? dot / (na * nb).squareRoot() : 0
}
