import Engine
import PointClouds
import Support

/// A labelled set loaded and prepared once, held as one flat array of points: what training and
/// evaluation iterate over. Every cloud has `pointsPerCloud` points.
public struct PreparedSet: Sendable {
    public var classes: [String]
    public var paths: [String]
    public var labels: [Int]
    /// clouds × pointsPerCloud × 3 coordinates.
    public var points: [Float]
    public var pointsPerCloud: Int

    public var count: Int { labels.count }

    /// Loads `set` with `preprocessing` (which must end by sampling a fixed number of points). Files that
    /// fail are left out and returned with their errors.
    public static func load(_ set: LabelledSet, preprocessing: Preprocessing,
                            threads: Int = Parallelism.workers) throws(PointCloudError) -> (set: PreparedSet, failures: [PointCloudError]) {
        guard let size = preprocessing.fixedSize else {
            throw .invalidArgument("the preprocessing must sample a fixed number of points")
        }
        let results = CloudLoader(preprocessing: preprocessing, threads: threads).load(set.samples.map(\.path))
        var prepared = PreparedSet(classes: set.classes, paths: [], labels: [], points: [], pointsPerCloud: size)
        prepared.points.reserveCapacity(set.samples.count * size * 3)
        var failures = [PointCloudError]()
        for (sample, result) in zip(set.samples, results) {
            switch result {
            case .success(let cloud):
                prepared.paths.append(sample.path)
                prepared.labels.append(sample.label)
                for p in cloud.positions { prepared.points.append(p.x); prepared.points.append(p.y); prepared.points.append(p.z) }
            case .failure(let error):
                failures.append(error)
            }
        }
        return (prepared, failures)
    }

    /// Cloud `index` as a point cloud.
    public func cloud(_ index: Int) -> PointCloud {
        let base = index * pointsPerCloud * 3
        return PointCloud(positions: (0 ..< pointsPerCloud).map { j in
            SIMD3(points[base + j * 3], points[base + j * 3 + 1], points[base + j * 3 + 2])
        })
    }

    /// The clouds at `indices` as a [clouds, points, 3] tensor, written into `into`.
    public func batch(_ indices: ArraySlice<Int>, into tensor: Tensor<Float>) {
        let stride = pointsPerCloud * 3
        tensor.resize([indices.count, pointsPerCloud, 3])
        points.withUnsafeBufferPointer { src in
            for (row, i) in indices.enumerated() {
                (tensor.pointer + row * stride).update(from: src.baseAddress! + i * stride, count: stride)
            }
        }
    }
}

extension Preprocessing {
    /// The number of points every prepared cloud has, when the last sampling step fixes it.
    public var fixedSize: Int? {
        for step in steps.reversed() { if case .sample(let n, _) = step { return n } }
        return nil
    }
}
