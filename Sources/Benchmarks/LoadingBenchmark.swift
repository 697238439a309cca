import Foundation
import PointClouds
import Support

/// How fast clouds come off the disk: the figures `pcdiag bench --data` reports (medians over repeats).
///
/// Four measurements of the same files on `threads` workers: reading their bytes only (the file
/// system's ceiling), loading them through PCL, loading plus the standard preprocessing, and loading
/// plus preprocessing with floor removal.
public struct LoadingBenchmark: Sendable {
    public var threads: Int
    public var repeats: Int
    /// How the files are read (the loading measurements; the format benchmark reads each format as it is).
    public var reading: CloudReadOptions

    public init(threads: Int = Parallelism.workers, repeats: Int = 5, reading: CloudReadOptions = CloudReadOptions()) {
        precondition(threads >= 1 && repeats >= 1)
        self.threads = threads
        self.repeats = repeats
        self.reading = reading
    }

    public struct Measurement: Sendable, Equatable {
        public var name: String
        public var clouds: Int
        /// Median wall-clock time for all the clouds, in seconds.
        public var seconds: Double
        public var cloudsPerSecond: Double { Double(clouds) / seconds }
    }

    /// The clouds of a data set: a CSV manifest's paths, or every cloud file below a folder (a
    /// class-folder tree included). Throws when there are none.
    public func paths(in data: String) throws(PointCloudError) -> [String] {
        let paths = data.lowercased().hasSuffix(".csv") && reading.format?.isText != true
            ? try LabelledSet(at: data, reading: reading).samples.map(\.path) : try CloudPaths.expand([data], reading: reading)
        guard !paths.isEmpty else { throw .invalid(path: data, reason: "no clouds to load") }
        return paths
    }

    /// The four measurements, in the order above. Files that fail to load count as loaded (their
    /// error is the work done); the bytes-only read is the baseline the others compare to.
    public func run(_ paths: [String]) -> [Measurement] {
        let floor = Preprocessing.standard().adding(FloorRemoval().step)
        let runs: [(String, () -> Void)] = [
            ("read bytes", { _ = parallelMap(paths.count, workers: threads) { (try? Data(contentsOf: URL(fileURLWithPath: paths[$0])))?.count ?? 0 } }),
            ("load (PCL)", { _ = CloudLoader(threads: threads, reading: reading).load(paths) }),
            ("load + preprocess", { _ = CloudLoader(preprocessing: .standard(), threads: threads, reading: reading).load(paths) }),
            ("load + preprocess with floor removal", { _ = CloudLoader(preprocessing: floor, threads: threads, reading: reading).load(paths) }),
        ]
        return runs.map { name, body in Measurement(name: name, clouds: paths.count, seconds: Timing.median(repeats: repeats, body)) }
    }
}
