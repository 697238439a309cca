import Diagnostics
import Engine
import Networks
import Support

extension Adapter {
    /// SM-DSB's premise, measured on a fixed probe batch of target clouds: the cosine between the
    /// classification gradient (oracle target labels when given, else a fixed source batch) and the
    /// self-supervised gradient of the batch's lower-skewness half, of its higher half, and of all of
    /// it, over the parameters both reach. Draws from its own generator and leaves weights and
    /// statistics as they were, so the run goes on as if it had not been measured.
    func probeAgreement() -> AdaptationEpoch.Agreement {
        var probeGenerator = SeededGenerator(seed: options.seed ^ 0x5052_4F42_45)
        let b = min(options.batchSize, target.count)
        let targetRows = randomSubset(b, of: target.count, using: &probeGenerator)
        let sourceRows = randomSubset(b, of: source.count, using: &probeGenerator)
        return keepingRunningStatistics {
            /// The summed gradient of what `body` runs; every body draws the same random sequence.
            func gradient(_ body: (inout SeededGenerator) -> Void) -> [Float] {
                for s in gradientSums { s.fill(0) }
                var generator = SeededGenerator(seed: probeGenerator.state)
                body(&generator)
                let flat = gradientSums.flatMap(\.array)
                for s in gradientSums { s.fill(0) }
                return flat
            }
            target.batch(targetRows[...], into: input)
            let clean = input.array
            let skewness = model.network.saliencySkewness(input, alpha: options.saliencyAlpha)
            let low = Set(skewness.indices.sorted { (skewness[$0], $0) < (skewness[$1], $1) }.prefix(b / 2))
            func selfSupervised(_ rows: (Int) -> Bool) -> [Float] {
                gradient { generator in
                    let weights = (0 ..< b).map { rows($0) ? 1.0 : 0 }
                    _ = reconstructionPass(clean, rows: b, weights: weights, using: &generator)
                    _ = rotationPass(clean, rows: b, weights: weights, using: &generator)
                }
            }
            func classification(_ set: PreparedSet, _ rows: [Int], labels: [Int]) -> [Float] {
                gradient { _ in
                    set.batch(rows[...], into: input)
                    let logits = model.network.forward(input, training: options.batchStatistics)
                    _ = SoftmaxCrossEntropy<Float>(labelSmoothing: options.labelSmoothing)(logits, labels: labels, gradient: lossGradient)
                    _ = model.network.backward(lossGradient)
                    harvest()
                }
            }
            let (kind, reference) = targetLabels.map { truth in ("target-oracle", classification(target, targetRows, labels: targetRows.map { truth[$0] })) }
                ?? ("source", classification(source, sourceRows, labels: sourceRows.map { source.labels[$0] }))
            let (lowGradient, highGradient) = (selfSupervised(low.contains), selfSupervised { !low.contains($0) })
            // Both halves saw the same deformations and turns, and each loss is a mean over its samples,
            // so the whole batch's gradient is their mean weighted by size (the cosine ignores the scale).
            let (nLow, nHigh) = (Float(low.count), Float(b - low.count))
            let allGradient = zip(lowGradient, highGradient).map { nLow * $0 + nHigh * $1 }
            // The shared parameters: those the self-supervised loss reaches (not the classifier, not the heads).
            let reached = reference.indices.filter { allGradient[$0] != 0 && reference[$0] != 0 }
            return .init(reference: kind, lowSkewness: cosine(reference, lowGradient, over: reached),
                         highSkewness: cosine(reference, highGradient, over: reached), all: cosine(reference, allGradient, over: reached))
        }
    }
}

/// Cosine similarity of two vectors over the entries at `indices`; 0 when either is zero there.
private func cosine(_ a: [Float], _ b: [Float], over indices: [Int]) -> Double {
    var dot = 0.0, na = 0.0, nb = 0.0
    for i in indices {
        dot += Double(a[i]) * Double(b[i])
        na += Double(a[i]) * Double(a[i])
        nb += Double(b[i]) * Double(b[i])
    }
    return na > 0 && nb > 0 ? dot / (na * nb).squareRoot() : 0
}
