import Diagnostics
import Engine
import Foundation
import Networks
import Support

/// The passes of an adaptation step. Each adds its parameter gradients to the step's sums
/// (`harvest`); `generator` draws every random choice (augmentation, mixup, deformations, turns).
extension Adapter {
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

    // MARK: Inputs

    /// The rows of `input` augmented in place.
    func augmentBatch(rows: Int, using generator: inout SeededGenerator) {
        let n = input.shape[1]
        for row in 0 ..< rows { options.augmentation.apply(input.pointer + row * n * 3, count: n, using: &generator) }
    }

    /// Rows of `input` replaced by simulated single views, as `sensorSimulation` draws them.
    func simulateViews(rows b: Int, using generator: inout SeededGenerator) {
        guard let simulation = options.sensorSimulation else { return }
        let draws = (0 ..< b).map { _ in simulation.draw(using: &generator) }
        let n = input.shape[1], p = input.pointer, preprocessing = model.metadata.preprocessing
        parallelRanges(b, grain: 1) { rows in
            for r in rows { if let draw = draws[r] { SensorSimulation.replace(p + r * n * 3, count: n, with: draw, preprocessing: preprocessing) } }
        }
    }

    /// `clean` ([b, n, 3] values) copied into `input` and augmented; returns n.
    func loadAugmented(_ clean: [Float], rows b: Int, using generator: inout SeededGenerator) -> Int {
        let n = clean.count / (3 * b)
        input.resize([b, n, 3])
        for i in clean.indices { input[i] = clean[i] }
        augmentBatch(rows: b, using: &generator)
        return n
    }

    // MARK: Passes

    /// Source classification on the clouds at `indices`, PCM-mixed when on: (loss, right answers).
    func classificationPass(_ indices: ArraySlice<Int>, using generator: inout SeededGenerator) -> (loss: Double, correct: Int) {
        source.batch(indices, into: input)
        let b = indices.count, k = source.classes.count, n = source.pointsPerCloud
        simulateViews(rows: b, using: &generator)
        augmentBatch(rows: b, using: &generator)
        let labels = indices.map { source.labels[$0] }
        func oneHot(_ c: Int) -> [Double] { (0 ..< k).map { $0 == c ? 1 : 0 } }
        var targets = labels.map(oneHot)
        var answers = labels
        if options.mixup {
            let lambda = Double.random(in: 0 ... 1, using: &generator)
            let partner = Array(0 ..< b).shuffled(using: &generator)
            let original = input.array
            for r in 0 ..< b {
                let (mixed, share) = PointCloudMixup.mix(original[r * n * 3 ..< (r + 1) * n * 3],
                                                         original[partner[r] * n * 3 ..< (partner[r] + 1) * n * 3],
                                                         lambda: lambda, seed: generator.next())
                for i in mixed.indices { input[r * n * 3 + i] = mixed[i] }
                targets[r] = zip(oneHot(labels[r]), oneHot(labels[partner[r]])).map { share * $0 + (1 - share) * $1 }
                answers[r] = share >= 0.5 ? labels[r] : labels[partner[r]]
            }
        }
        let logits = model.network.forward(input, training: options.batchStatistics)
        let loss = SoftmaxCrossEntropy<Float>(labelSmoothing: options.labelSmoothing)(logits, targets: targets, gradient: lossGradient)
        _ = model.network.backward(lossGradient)
        harvest()
        return (loss, zip(rowArgmax(logits.buffer, width: logits.channels), answers).filter { $0 == $1 }.count)
    }

    /// DefRec on `clean` clouds ([b, n, 3] values), each weighted (0: dropped by the gate): the mean
    /// Chamfer distance over the kept clouds' deformed regions.
    func reconstructionPass(_ clean: [Float], rows b: Int, weights: [Double], using generator: inout SeededGenerator) -> Double {
        guard let head = reconstruction, weights.contains(where: { $0 > 0 }) else { return 0 }
        let n = loadAugmented(clean, rows: b, using: &generator)
        let truth = input.array
        let regions = (0 ..< b).map { RegionDeformation().apply(input.pointer + $0 * n * 3, count: n, using: &generator) }
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
    func rotationPass(_ clean: [Float], rows b: Int, weights: [Double], using generator: inout SeededGenerator) -> Double {
        guard let head = rotation, weights.contains(where: { $0 > 0 }) else { return 0 }
        let n = loadAugmented(clean, rows: b, using: &generator)
        let turns = (0 ..< b).map { _ in Int.random(in: 0 ..< 4, using: &generator) }
        for r in 0 ..< b { QuarterTurn.apply(input.pointer + r * n * 3, count: n, turns: turns[r]) }
        return keepingRunningStatistics {
            let network = model.network
            _ = network.forward(input, training: options.batchStatistics)
            let logits = head.forward(network.globalFeature, training: true)
            let loss = SoftmaxCrossEntropy<Float>()(logits, targets: turns.map { t in (0 ..< 4).map { $0 == t ? 1 : 0 } }, weights: weights,
                                                    gradient: lossGradient)
            lossGradient.multiply(by: options.rotationWeight)
            _ = network.backward(nil, globalFeature: head.backward(lossGradient), pointFeatures: nil)
            harvest()
            return loss
        }
    }

    /// Classification of target clouds at their pseudo-labels (nil: not confident, left out).
    func pseudoLabelPass(_ indices: ArraySlice<Int>, labels: [Int?], weight: Double, using generator: inout SeededGenerator) -> Double {
        guard labels.contains(where: { $0 != nil }) else { return 0 }
        target.batch(indices, into: input)
        augmentBatch(rows: indices.count, using: &generator)
        let k = model.metadata.architecture.classes  // an unlabelled target has one placeholder class
        let logits = model.network.forward(input, training: options.batchStatistics)
        let loss = SoftmaxCrossEntropy<Float>(labelSmoothing: options.labelSmoothing)(
            logits, targets: labels.map { l in (0 ..< k).map { $0 == l ? 1 : 0 } }, weights: labels.map { $0 == nil ? 0 : 1 },
            gradient: lossGradient)
        lossGradient.multiply(by: weight)
        _ = model.network.backward(lossGradient)
        harvest()
        return loss
    }

    /// The self-supervised passes over one batch of clouds from `set` (the target or the source), gated.
    func selfSupervisedPasses(_ set: PreparedSet, _ indices: ArraySlice<Int>, _ run: inout RunState, into tally: inout Tally) {
        set.batch(indices, into: input)
        let b = indices.count
        let clean = input.array
        var skewness: [Double]? = nil
        if options.gate.measures {
            let start = Date()
            skewness = model.network.saliencySkewness(input, alpha: options.saliencyAlpha)
            tally.measurerSeconds += Date().timeIntervalSince(start)
        }
        let keep = options.gate.select(count: b, skewness: skewness, history: &run.window, using: &run.generator)
        tally.kept += keep.filter { $0 }.count
        tally.gated += b
        if let skewness {
            for (s, k) in zip(skewness, keep) {
                if k { tally.skewKept += s; tally.nKept += 1 } else { tally.skewDropped += s; tally.nDropped += 1 }
            }
        }
        let weights = keep.map { $0 ? 1.0 : 0 }
        tally.losses.reconstruction += reconstructionPass(clean, rows: b, weights: weights, using: &run.generator)
        tally.losses.rotation += rotationPass(clean, rows: b, weights: weights, using: &run.generator)
    }
}

private extension Tensor<Float> {
    /// A loss gradient weighted in place by its task's weight.
    func multiply(by factor: Double) {
        let f = Float(factor)
        for i in 0 ..< count { self[i] *= f }
    }
}
