/// How well a segmentation finds the objects of a ground truth, pooled over any number of scenes.
///
/// Per ground-truth object, its best IoU with any predicted segment (points counted over the valid
/// points only). Recall: the share of objects whose best IoU is at least 0.5. Weighted overlap (WOv):
/// Σ |object| · best IoU / Σ |object|. Precision: the share of predicted segments of at least
/// `minimumSegment` points that match some object at IoU ≥ 0.5. Scores add up (`+`) object by object,
/// not scene by scene, so a pooled figure weighs every object of every scene alike.
public struct SegmentationScore: Sendable, Equatable {
    public static let matchIoU = 0.5
    public static let minimumSegment = 50

    public var objects = 0
    public var recalled = 0
    public var objectPoints = 0
    /// Σ |object| · best IoU.
    public var weightedIoU = 0.0
    /// Predicted segments of at least `minimumSegment` points, and how many of them match an object.
    public var segments = 0
    public var matchedSegments = 0

    public init() {}

    /// Scores one scene. `truth` and `predicted` hold an id per point (0: no object); points whose
    /// `valid` entry is false are left out (mOSD: label 0, the sensor saw nothing).
    public init(truth: [UInt32], predicted: [UInt32], valid: [Bool]? = nil) {
        precondition(truth.count == predicted.count && (valid?.count ?? truth.count) == truth.count,
                     "one truth, prediction and validity entry per point")
        var truthSize = [UInt32: Int](), segmentSize = [UInt32: Int](), overlap = [SIMD2<UInt32>: Int]()
        for i in truth.indices where valid?[i] ?? true {
            let t = truth[i], s = predicted[i]
            if t > 0 { truthSize[t, default: 0] += 1 }
            if s > 0 { segmentSize[s, default: 0] += 1 }
            if t > 0 && s > 0 { overlap[SIMD2(t, s), default: 0] += 1 }
        }
        var bestOfSegment = [UInt32: Double]()
        var bestOfObject = [UInt32: Double]()
        for (pair, shared) in overlap {
            let iou = Double(shared) / Double(truthSize[pair.x]! + segmentSize[pair.y]! - shared)
            bestOfObject[pair.x] = max(bestOfObject[pair.x] ?? 0, iou)
            bestOfSegment[pair.y] = max(bestOfSegment[pair.y] ?? 0, iou)
        }
        for (t, size) in truthSize {
            let best = bestOfObject[t] ?? 0
            objects += 1
            objectPoints += size
            weightedIoU += Double(size) * best
            if best >= Self.matchIoU { recalled += 1 }
        }
        for (s, size) in segmentSize where size >= Self.minimumSegment {
            segments += 1
            if (bestOfSegment[s] ?? 0) >= Self.matchIoU { matchedSegments += 1 }
        }
    }

    /// NaN when there are no objects (or, for precision, no segments).
    public var recall: Double { Double(recalled) / Double(objects) }
    public var weightedOverlap: Double { weightedIoU / Double(objectPoints) }
    public var precision: Double { Double(matchedSegments) / Double(segments) }

    public static func + (a: SegmentationScore, b: SegmentationScore) -> SegmentationScore {
        var s = a
        s.objects += b.objects
        s.recalled += b.recalled
        s.objectPoints += b.objectPoints
        s.weightedIoU += b.weightedIoU
        s.segments += b.segments
        s.matchedSegments += b.matchedSegments
        return s
    }
}

extension PointCloud {
    /// The ground truth of an mOSD scene from its `label` field (or `field`): label 0 is an invalid point,
    /// 1–9 the table, 10·k … 10·k + 9 (k ≥ 2) object k (an occluded object's pieces share k).
    /// Returns the object id per point (0: none) and which points are valid; nil when there is no such field.
    public func mosdTruth(field: String = "label") -> (object: [UInt32], valid: [Bool])? {
        guard let f = self.field(named: field), f.components == 1 else { return nil }
        let labels = f.values.map { $0 >= 0 && $0 < 4e9 ? UInt32($0) : 0 }
        return (labels.map { $0 >= 20 ? $0 / 10 : 0 }, labels.map { $0 != 0 })
    }
}
