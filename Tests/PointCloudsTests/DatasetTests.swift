import Foundation
import PointClouds
import Testing
import TestSupport

@Suite struct DatasetTests {
    /// root/<class>/*.pcd with a few clouds, plus a manifest naming them by relative path.
    static func makeTree() throws -> URL {
        let root = TestPaths.scratch()
        for (label, n) in [("table", 2), ("chair", 3)] {
            let folder = root.appendingPathComponent("set/\(label)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for i in 0 ..< n {
                try PointCloud(positions: [SIMD3(Float(i), 0, 0), SIMD3(0, 1, 0)])
                    .write(to: folder.appendingPathComponent("\(label)_\(i).pcd").path)
            }
            try Data("not a cloud".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        }
        try Data("path,label\nset/table/table_1.pcd,table\n\"set/chair/chair_0.pcd\",chair\n\n".utf8)
            .write(to: root.appendingPathComponent("manifest.csv"))
        return root
    }

    @Test func classFoldersGiveSortedClassesAndSamples() throws {
        let root = try Self.makeTree()
        let set = try LabelledSet(at: root.appendingPathComponent("set").path)
        #expect(set.classes == ["chair", "table"])
        #expect(set.samples.count == 5)
        #expect(set.samples.map(\.path) == set.samples.map(\.path).sorted())
        #expect(set.samples.filter { $0.label == 0 }.allSatisfy { $0.path.contains("/chair/") })
    }

    @Test func manifestPathsAreRelativeToTheCSV() throws {
        let root = try Self.makeTree()
        let set = try LabelledSet(at: root.appendingPathComponent("manifest.csv").path)
        #expect(set.classes == ["chair", "table"])
        #expect(set.samples.map(\.path) == [root.appendingPathComponent("set/chair/chair_0.pcd").path,
                                            root.appendingPathComponent("set/table/table_1.pcd").path])
        #expect(set.samples.map(\.label) == [0, 1])
    }

    @Test func aMalformedManifestNamesItsLine() throws {
        let root = TestPaths.scratch()
        let csv = root.appendingPathComponent("bad.csv")
        try Data("path,label\na.pcd,chair\njust-one-cell\n".utf8).write(to: csv)
        #expect(throws: PointCloudError.invalid(path: csv.path, reason: "line 3: expected 'path,label'")) {
            try LabelledSet(at: csv.path)
        }
    }

    @Test func unlabelledInputsExpandFoldersGlobsAndLists() throws {
        let root = try Self.makeTree()
        let set = root.appendingPathComponent("set").path
        #expect(try CloudPaths.expand([set]).count == 5)
        #expect(try CloudPaths.expand([set + "/chair/*.pcd"]) == (0 ..< 3).map { set + "/chair/chair_\($0).pcd" })
        let list = root.appendingPathComponent("list.txt")
        try Data("# two clouds\nset/table/table_0.pcd\n\nset/chair/chair_2.pcd\n".utf8).write(to: list)
        #expect(try CloudPaths.expand(["@" + list.path, set + "/table/table_0.pcd"])
            == [set + "/table/table_0.pcd", set + "/chair/chair_2.pcd"], "list order kept, duplicates once")
        #expect(throws: PointCloudError.self) { try CloudPaths.expand([set + "/nothing-*.pcd"]) }
    }

    @Test func loaderKeepsOrderAndReportsBadFilesInPlace() throws {
        let root = try Self.makeTree()
        let good = try CloudPaths.expand([root.appendingPathComponent("set").path])
        let paths = [good[0], "/missing.pcd"] + good.dropFirst()
        let results = CloudLoader(preprocessing: .standard(points: 16), threads: 2).load(paths)
        #expect(results.count == paths.count)
        #expect(results.enumerated().allSatisfy { i, r in (try? r.get()) == nil ? i == 1 : true })
        for (path, result) in zip(paths, results) where path != "/missing.pcd" {
            let expected = try Preprocessing.standard(points: 16).apply(to: PointCloud(contentsOf: path)).cloud
            #expect(try result.get() == expected)
        }
    }

    @Test(.enabled(if: TestPaths.hasSharedData, "needs ../shared/data"))
    func modelNet40TestSetLoadsWhole() throws {
        let set = try LabelledSet(at: TestPaths.shared("modelnet40/test"))
        #expect(set.samples.count == 2468)
        #expect(set.classes.count == 40)
        let results = CloudLoader().load(set.samples.map(\.path))
        #expect(results.allSatisfy { (try? $0.get())?.count == 1024 })
    }

    @Test(.enabled(if: TestPaths.hasSharedData, "needs ../shared/data"))
    func pointDA10ManifestHasTenClasses() throws {
        let set = try LabelledSet(at: TestPaths.shared("pointda10-modelnet-test.csv"))
        #expect(set.classes == ["bathtub", "bed", "bookshelf", "cabinet", "chair", "lamp", "monitor", "plant", "sofa", "table"])
        #expect(set.samples.count == 856)
        #expect(set.samples.allSatisfy { FileManager.default.fileExists(atPath: $0.path) })
    }
}
