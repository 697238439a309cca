import Benchmarks
import Foundation
import PointClouds
import Testing
import TestSupport

/// The loading benchmark on a tiny set made here: which files it times and what it reports.
@Suite struct LoadingBenchmarkTests {
    @Test func aFolderAManifestAndAnEmptyFolder() throws {
        let root = TestPaths.scratch()
        var names = [String]()
        for (k, name) in ["a/1.pcd", "a/2.ply", "b/3.pcd"].enumerated() {
            let url = root.appendingPathComponent("set/\(name)")
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try PointCloud(positions: (0 ..< 300 + k).map { SIMD3(Float($0 % 7), Float($0 % 11), Float($0) / 100) }).write(to: url.path)
            names.append(url.path)
        }
        #expect(try LoadingBenchmark().paths(in: root.appendingPathComponent("set").path) == names)
        let manifest = root.appendingPathComponent("set.csv")
        try "path,label\nset/b/3.pcd,b\nset/a/1.pcd,a\n".write(to: manifest, atomically: true, encoding: .utf8)
        #expect(try LoadingBenchmark().paths(in: manifest.path) == [names[0], names[2]], "the manifest's files, sorted")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("empty"), withIntermediateDirectories: true)
        #expect(throws: PointCloudError.self) { try LoadingBenchmark().paths(in: root.appendingPathComponent("empty").path) }

        let measurements = LoadingBenchmark(threads: 2, repeats: 1).run(names)
        #expect(measurements.map(\.name) == ["read bytes", "load (PCL)", "load + preprocess", "load + preprocess with floor removal"])
        #expect(measurements.allSatisfy { $0.clouds == 3 && $0.seconds > 0 && $0.cloudsPerSecond == 3 / $0.seconds })
    }

    /// Every format's copies of the same clouds read back whole (the benchmark checks it), PCD first.
    @Test func everyFormatIsTimedOnTheSameClouds() throws {
        let root = TestPaths.scratch()
        let names = try (0 ..< 3).map { k -> String in
            let path = root.appendingPathComponent("\(k).pcd").path
            try PointCloud(positions: (0 ..< 100 + k).map { SIMD3(Float($0 % 7) / 3, -Float($0 % 11), Float($0) / 100) }).write(to: path)
            return path
        }
        let scratch = root.appendingPathComponent("formats")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let measurements = try LoadingBenchmark(threads: 2, repeats: 1).readingFormats(names, scratch: scratch.path)
        #expect(measurements.map(\.name) == LoadingBenchmark.formats.map(\.name) && measurements.first?.name == "pcd binary (PCL)")
        #expect(measurements.allSatisfy { $0.clouds == 3 && $0.seconds > 0 })
        #expect(!FileManager.default.fileExists(atPath: scratch.path), "the copies are removed")
    }
}
