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

    public init(classes: [String], paths: [String], labels: [Int], points: [Float], pointsPerCloud: Int) {
        precondition(paths.count == labels.count && points.count == labels.count * pointsPerCloud * 3, "one path, label and cloud per sample")
        (self.classes, self.paths, self.labels, self.points, self.pointsPerCloud) = (classes, paths, labels, points, pointsPerCloud)
    }

    /// Loads `set` with `preprocessing` (which must end by sampling a fixed number of points). Files that
    /// fail are left out and returned with their errors. `progress` counts files, out of `set.samples.count`.
    public static func load(_ set: LabelledSet, preprocessing: Preprocessing, threads: Int = Parallelism.workers,
                            reading: CloudReadOptions = CloudReadOptions(), progress: (Int) -> Void = { _ in }) throws(PointCloudError) -> (set: PreparedSet, failures: [PointCloudError]) {
        guard let size = preprocessing.fixedSize else {
            throw .invalidArgument("the preprocessing must sample a fixed number of points")
        }
        // In chunks, so that progress moves while a large set loads; a chunk keeps every worker busy.
        let loader = CloudLoader(preprocessing: preprocessing, threads: threads, reading: reading), paths = set.samples.map(\.path)
        var results = [Result<PointCloud, PointCloudError>]()
        for start in stride(from: 0, to: paths.count, by: 64) {
            let chunk = Array(paths[start ..< min(start + 64, paths.count)])
            results += loader.load(chunk)
            progress(chunk.count)
        }
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

extension PreparedSet {
    /// The clouds at `indices`, in that order.
    public func subset(_ indices: [Int]) -> PreparedSet {
        let stride = pointsPerCloud * 3
        var points = [Float]()
        points.reserveCapacity(indices.count * stride)
        for i in indices { points.append(contentsOf: self.points[i * stride ..< (i + 1) * stride]) }
        return PreparedSet(classes: classes, paths: indices.map { paths[$0] }, labels: indices.map { labels[$0] },
                           points: points, pointsPerCloud: pointsPerCloud)
    }

    /// A seeded stratified split: about `fraction` of each class (at least one cloud of a class with two
    /// or more) held out. Returns (kept, held out), each in the set's order.
    public func split(holdingOut fraction: Double, seed: UInt64) -> (kept: PreparedSet, heldOut: PreparedSet) {
        var rng = SeededGenerator(seed: seed)
        var held = Set<Int>()
        for c in classes.indices {
            let members = labels.indices.filter { labels[$0] == c }
            guard members.count >= 2 else { continue }
            let n = min(members.count - 1, max(1, Int((fraction * Double(members.count)).rounded())))
            held.formUnion(members.shuffled(using: &rng).prefix(n))
        }
        return (subset(labels.indices.filter { !held.contains($0) }), subset(labels.indices.filter(held.contains)))
    }
}
