import Foundation
import PointClouds
import Testing
import TestSupport

/// The formats through the commands: --input-format, --bin-fields and --mesh reach the readers,
/// folders pick up the new extensions, convert writes text and NPY.
@Suite struct FormatCommandTests {
    @Test func inputFormatOverridesTheExtension() throws {
        let dir = TestPaths.scratch()
        let path = dir.appendingPathComponent("scan.dat").path
        try Data("1 2 3\n4 5 6\n".utf8).write(to: URL(fileURLWithPath: path))
        let refused = try CLI.run(["info", path])
        #expect(refused.status == 3 && refused.stderr.contains("unsupported file type '.dat'") && refused.stderr.contains("--input-format"))
        let read = try CLI.run(["info", "--input-format", "xyz", "--format", "csv", path])
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.stdout.contains("\(path),xyz,ascii,2,2,"))
    }

    @Test func binFieldsAndMeshReachTheReaders() throws {
        let dir = TestPaths.scratch()
        var sweep = Data()
        for v: Float in [1, 2, 3, 0.5, 7, 4, 5, 6, 0.25, 8] { sweep.append(le: v) }
        let bin = dir.appendingPathComponent("sweep.bin").path
        try sweep.write(to: URL(fileURLWithPath: bin))
        #expect(try CLI.run(["info", bin]).stderr.contains("40 bytes is not a whole number of 16-byte records"))
        let nuscenes = try CLI.run(["info", "--bin-fields", "x,y,z,intensity,ring", "--format", "json", bin])
        #expect(nuscenes.status == 0 && nuscenes.stdout.contains(#""fields":["x","y","z","intensity","ring"]"#), "\(nuscenes.stdout)\(nuscenes.stderr)")
        let usage = try CLI.run(["info", "--bin-fields", "x,y", bin])
        #expect(usage.status == 2 && usage.stderr.contains("--bin-fields"))

        let off = dir.appendingPathComponent("tri.off").path
        try Data("OFF3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n".utf8).write(to: URL(fileURLWithPath: off))
        for (mesh, points) in [("sample", 2048), ("sample:100", 100), ("vertices", 3)] {
            let run = try CLI.run(["info", "--mesh", mesh, "--format", "json", off])
            #expect(run.status == 0 && run.stdout.contains(#""points":\#(points),"#), "\(mesh): \(run.stdout)\(run.stderr)")
        }
        #expect(try CLI.run(["info", "--mesh", "sample:0", off]).status == 2)
    }

    /// A folder's .txt notes are skipped unless --input-format asks for text.
    @Test func foldersPickTheNewFormats() throws {
        let dir = TestPaths.scratch()
        try Data("1 2 3\n".utf8).write(to: dir.appendingPathComponent("a.xyz"))
        try Data("OFF\n3 0 0\n0 0 0\n1 0 0\n0 1 0\n".utf8).write(to: dir.appendingPathComponent("b.off"))
        try Data("4 5 6\n7 8 9\n".utf8).write(to: dir.appendingPathComponent("c.txt"))
        let plain = try CLI.run(["info", "--format", "jsonl", dir.path])
        #expect(plain.status == 0 && plain.stdout.split(separator: "\n").count == 2, "\(plain.stdout)\(plain.stderr)")
        let text = try CLI.run(["info", "--format", "jsonl", "--input-format", "txt", dir.appendingPathComponent("*.txt").path])
        #expect(text.status == 0 && text.stdout.contains("c.txt") && text.stdout.contains(#""points":2"#), "\(text.stdout)\(text.stderr)")
        // With a format, a folder gives that format's files (text as one family), not the mesh.
        let family = try CLI.run(["info", "--format", "jsonl", "--input-format", "txt", dir.path])
        #expect(family.status == 0 && family.stdout.contains("a.xyz") && family.stdout.contains("c.txt") && !family.stdout.contains("b.off"), "\(family.stdout)\(family.stderr)")
        // A pattern the user wrote takes every file it matches, whatever the extension.
        try Data("1 2 3\n".utf8).write(to: dir.appendingPathComponent("d.dat"))
        let dat = try CLI.run(["info", "--format", "jsonl", "--input-format", "xyz", dir.appendingPathComponent("*.dat").path])
        #expect(dat.status == 0 && dat.stdout.contains("d.dat"), "\(dat.stdout)\(dat.stderr)")
    }

    /// convert writes CSV (header line) and NPY that read back with the same coordinates.
    @Test(arguments: ["csv", "xyz", "npy"])
    func convertWritesTextAndNPY(ext: String) throws {
        let dir = TestPaths.scratch()
        let input = TestPaths.sample("chair_cad.pcd")
        let output = dir.appendingPathComponent("chair.\(ext)").path
        let run = try CLI.run(["convert", input, output])
        #expect(run.status == 0, "\(run.stderr)")
        let original = try PointCloudFile.read(input, options: CloudReadOptions()).cloud
        let back = try PointCloudFile.read(output, options: CloudReadOptions()).cloud
        #expect(back.positions == original.positions)
        if ext != "npy" {
            let first = try String(contentsOfFile: output, encoding: .utf8).prefix { $0 != "\n" }
            #expect(first == original.fieldNames.joined(separator: ext == "csv" ? "," : " ").replacingOccurrences(of: "rgb", with: "red,green,blue"))
        }
        let again = try CLI.run(["convert", input, output])
        #expect(again.status == 6, "an existing output is kept without --force")
    }

    /// A mesh read for a model is sampled to the model's input size (the shipped PointNet's 1,024),
    /// unless --mesh says otherwise; `points` is the file's count before the model's preparation.
    @Test func aMeshIsSampledToTheModelsInputSize() throws {
        let off = TestPaths.root.appendingPathComponent("Tests/Corpus/clouds/valid-off-modelnet.off").path
        let sized = try CLI.run(["classify", "--format", "json", "--no-diagnostics", off])
        #expect(sized.status == 0 && sized.stdout.contains(#""points":1024,"#), "\(sized.stdout)\(sized.stderr)")
        let asked = try CLI.run(["classify", "--format", "json", "--no-diagnostics", "--mesh", "sample:700", off])
        #expect(asked.status == 0 && asked.stdout.contains(#""points":700,"#), "\(asked.stdout)\(asked.stderr)")
    }
}
