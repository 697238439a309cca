import Diagnostics
import Foundation
import Networks
import PointClouds
import Testing
import TestSupport

/// `pcdiag saliency`: the map it writes is the library's for the prepared cloud, with the field and
/// colours viewers use; outputs are never overwritten unless asked; bad arguments are one-line errors.
@Suite struct SaliencyCommandTests {
    static let dir = TestPaths.scratch("saliency-command")
    static let model = ModelCommandTests.modelPath

    @Test func writesTheLibrarysMapWithFieldAndColours() throws {
        let sample = TestPaths.sample("chair_scan.pcd"), out = Self.dir.appendingPathComponent("chair.ply").path
        try? FileManager.default.removeItem(atPath: out)
        let run = try CLI.run(["saliency", "--model", Self.model, "--format", "json", "-o", out, sample])
        #expect(run.status == 0, "\(run.stderr)")
        let row = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let written = try PointCloud(contentsOf: out)
        let loaded = try Model.load(Self.model)
        let prepared = try loaded.prepare(PointCloud(contentsOf: sample), path: sample)
        let map = loaded.saliency([prepared])[0]
        #expect(written.positions == prepared.positions)
        let field = try #require(written.field(named: "scalar_saliency"))
        #expect(zip(field.values, map.values).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) })
        #expect(abs((row["skewness"] as? Double ?? .nan) - map.skewness) < 1e-6)
        #expect(row["explained"] as? String == row["class"] as? String)
        let colors = try #require(written.colors)
        #expect(Set(colors).count > 10, "a colour ramp, not one colour")
        // The most salient point is drawn dark red, darker than the neutral grey of the points at exactly 0.
        let hi = map.values.indices.max { map.values[$0] < map.values[$1] }!
        let zero = try #require(map.values.firstIndex(of: 0), "a saliency map has exact zeros")
        func luma(_ c: PointCloud.Color) -> Int { 299 * Int(c.r) + 587 * Int(c.g) + 114 * Int(c.b) }
        #expect(colors[hi].r > 2 * colors[hi].b && luma(colors[hi]) < luma(colors[zero]))
        #expect(colors[zero].r == colors[zero].g && colors[zero].g == colors[zero].b)

        let again = try CLI.run(["saliency", "--model", Self.model, "-o", out, sample])
        #expect(again.status == 6 && again.stderrLines.count == 1 && again.stderr.contains(out))
        #expect(try PointCloud(contentsOf: out) == written, "left as it was")
        #expect(try CLI.run(["saliency", "--model", Self.model, "-o", out, "--force", sample]).status == 0)
    }

    @Test func severalInputsGoToAFolder() throws {
        let folder = Self.dir.appendingPathComponent("maps")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let run = try CLI.run(["saliency", "--model", Self.model, "-o", folder.path, "--format", "jsonl",
                               TestPaths.sample("chair_cad.pcd"), TestPaths.sample("lamp_cad.ply")])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.split(separator: "\n").count == 2)
        for name in ["chair_cad.saliency.ply", "lamp_cad.saliency.ply"] {
            #expect(try PointCloud(contentsOf: folder.appendingPathComponent(name).path).field(named: "scalar_saliency") != nil)
        }
        let toFile = try CLI.run(["saliency", "--model", Self.model, "-o", Self.dir.appendingPathComponent("one.ply").path,
                                  TestPaths.sample("chair_cad.pcd"), TestPaths.sample("lamp_cad.ply")])
        #expect(toFile.status == 2 && toFile.stderrLines.count == 1 && toFile.stdout.isEmpty)
    }

    @Test func givenLabelIsExplainedAndUnknownOnesRefused() throws {
        let sample = TestPaths.sample("chair_cad.pcd")
        let run = try CLI.run(["saliency", "--model", Self.model, "--label", "lamp", "--format", "json", sample])
        let row = try #require(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(row["explained"] as? String == "lamp")
        let bad = try CLI.run(["saliency", "--model", Self.model, "--label", "spaceship", sample])
        #expect(bad.status == 2 && bad.stderrLines.count == 1 && bad.stderr.contains("spaceship"))
    }
}

/// `--render`: three views as SVG (one circle per point and view) and as PNG, the PNG checked by an
/// independent reader (Python's zlib and CRC) when python3 is there.
@Suite struct SaliencyRenderTests {
    @Test func svgHasThreeViewsOfEveryPoint() throws {
        let svg = SaliencyCommandTests.dir.appendingPathComponent("chair.svg").path
        try? FileManager.default.removeItem(atPath: svg)
        let run = try CLI.run(["saliency", "--model", SaliencyCommandTests.model, "--render", svg, TestPaths.sample("chair_cad.pcd")])
        #expect(run.status == 0, "\(run.stderr)")
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(text.hasPrefix("<svg") && text.hasSuffix("</svg>\n"))
        #expect(text.components(separatedBy: "<circle").count - 1 == 3 * 256, "the small model sees 256 points")
        for view in ["top", "front", "side"] { #expect(text.contains("<g id=\"\(view)\">")) }
        #expect(try CLI.run(["saliency", "--model", SaliencyCommandTests.model, "--render", svg, TestPaths.sample("chair_cad.pcd")]).status == 6)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs python3 to read the PNG independently"))
    func pngIsValid() throws {
        let png = SaliencyCommandTests.dir.appendingPathComponent("chair.png").path
        try? FileManager.default.removeItem(atPath: png)
        let run = try CLI.run(["saliency", "--model", SaliencyCommandTests.model, "--render", png, TestPaths.sample("chair_cad.pcd")])
        #expect(run.status == 0, "\(run.stderr)")
        let script = """
            import struct, sys, zlib
            data = open(sys.argv[1], 'rb').read()
            assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
            pos, idat = 8, b''
            while pos < len(data):
                n, kind = struct.unpack('>I4s', data[pos:pos + 8])
                body = data[pos + 8:pos + 8 + n]
                assert zlib.crc32(kind + body) == struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])[0], kind
                if kind == b'IHDR': w, h = struct.unpack('>II', body[:8])
                if kind == b'IDAT': idat += body
                pos += 12 + n
            raw = zlib.decompress(idat)
            assert len(raw) == h * (1 + 3 * w)
            coloured = sum(1 for y in range(h) for x in range(w) if raw[y * (1 + 3 * w) + 1 + 3 * x: y * (1 + 3 * w) + 4 + 3 * x] != b'\\xff\\xff\\xff')
            print(w, h, coloured)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, png]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let words = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(process.terminationStatus == 0)
        #expect(words.count == 3 && words[0] == 900 && words[1] == 336)
        #expect(words.count == 3 && words[2] > 1000, "points were drawn")
    }
}
