import Networks
import PointClouds
import Support

/// Simulated scans of labelled source clouds: a source cloud replaced by the side of it a depth
/// sensor would see from a random viewpoint (the `occlusion` corruption at a random severity: by
/// default 1–3, the sensor 10, 4 or 2.5 radii away), prepared again as the model prepares a scan (re-centred,
/// rescaled, resampled with repeats). A single view is the largest part of the CAD → scan gap (one
/// severity-1 occlusion already costs the source PointNet a third of its accuracy), and source labels
/// carry over to it unchanged; the target's unlabelled scans still drive the self-supervised tasks.
public struct SensorSimulation: Sendable, Equatable, Codable {
    /// The share of source clouds replaced by a simulated view, drawn per cloud and batch.
    public var probability: Double
    public var severities: ClosedRange<Int>

    public init(probability: Double, severities: ClosedRange<Int> = 1 ... 3) {
        precondition((0 ... 1).contains(probability), "a probability")
        precondition(severities.lowerBound >= 1 && severities.upperBound <= 5, "occlusion severities are 1…5")
        self.probability = probability
        self.severities = severities
    }

    public var summary: String {
        "\(Int((probability * 100).rounded())) % of source clouds as single views (occlusion severity \(severities.lowerBound)–\(severities.upperBound))"
    }

    /// The draw for one cloud: nil (left as it is) or the occlusion and its seed.
    public func draw(using rng: inout SeededGenerator) -> (corruption: Corruption, seed: UInt64)? {
        let taken = Double.random(in: 0 ..< 1, using: &rng) < probability
        let corruption = Corruption(.occlusion, severity: Int.random(in: severities, using: &rng))
        let seed = rng.next()
        return taken ? (corruption, seed) : nil
    }

    /// The view of the `n` points stored xyz-interleaved at `p`, prepared by `preprocessing` (which must
    /// give `n` points), written back in place. Returns false, leaving the points, when it cannot be
    /// prepared.
    @discardableResult
    public static func replace(_ p: UnsafeMutablePointer<Float>, count n: Int, with draw: (corruption: Corruption, seed: UInt64),
                               preprocessing: Preprocessing) -> Bool {
        let cloud = PointCloud(positions: (0 ..< n).map { SIMD3(p[3 * $0], p[3 * $0 + 1], p[3 * $0 + 2]) })
        let view = draw.corruption.apply(to: cloud, seed: draw.seed)
        guard let prepared = try? preprocessing.apply(to: view).cloud, prepared.count == n else { return false }
        for (i, v) in prepared.positions.enumerated() {
            p[3 * i] = v.x; p[3 * i + 1] = v.y; p[3 * i + 2] = v.z
        }
        return true
    }

    /// Every cloud of `set` as one simulated view (each cloud's draw seeded by `seed` and its index, so
    /// the set is the same in every epoch and run): the source validation set as the sensor would see it.
    public func views(of set: PreparedSet, preprocessing: Preprocessing, seed: UInt64) -> PreparedSet {
        var out = set
        let n = set.pointsPerCloud
        let always = SensorSimulation(probability: 1, severities: severities)  // draws are never nil
        out.points.withUnsafeMutableBufferPointer { points in
            let p = points.baseAddress!
            parallelRanges(set.count, grain: 1) { clouds in
                for i in clouds {
                    var rng = SeededGenerator(seed: seed ^ FNV1a.hash("view \(i)"))
                    Self.replace(p + i * n * 3, count: n, with: always.draw(using: &rng)!, preprocessing: preprocessing)
                }
            }
        }
        return out
    }
}
