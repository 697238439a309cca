import Diagnostics
import Foundation
import PointClouds
import Report
import Support
import Testing
import TestSupport

/// The batch report: its calibration arithmetic by hand, its document checked by an independent HTML
/// parser (Python's), its charts' bar heights by hand, and the whole page rendered by headless Chromium
/// when that is installed (`scripts/setup` installs it).
@Suite struct ReportTests {
    // MARK: Calibration

    @Test func reliabilityBinsAndECEMatchAHandComputation() {
        let bins = ReliabilityBin.bins(confidences: [0.95, 0.92, 0.85, 0.55, 0.52, 0.15],
                                       correct: [true, true, false, true, false, false])
        #expect(bins.count == 10)
        #expect(bins.map(\.count) == [0, 1, 0, 0, 0, 2, 0, 0, 1, 2])
        #expect(abs(bins[9].meanConfidence - 0.935) < 1e-12 && bins[9].accuracy == 1)
        #expect(abs(bins[5].meanConfidence - 0.535) < 1e-12 && bins[5].accuracy == 0.5)
        #expect(bins[8].accuracy == 0 && bins[1].accuracy == 0)
        #expect(abs(bins[3].lower - 0.3) < 1e-12 && abs(bins[3].upper - 0.4) < 1e-12)
        #expect(bins[2].meanConfidence == 0 && bins[2].accuracy == 0, "empty bins hold zeros")
        // (2 · |1 − 0.935| + |0 − 0.85| + 2 · |0.5 − 0.535| + |0 − 0.15|) / 6 = 1.2 / 6
        #expect(abs(expectedCalibrationError(bins) - 0.2) < 1e-12)
    }

    @Test func binEdges() {
        let bins = ReliabilityBin.bins(confidences: [1, 0, .nan, 1.5, 0.25], correct: [true, false, true, true, true], count: 4)
        #expect(bins.map(\.count) == [1, 1, 0, 2], "1 and above go to the last bin, 0.25 opens the second, NaN is left out")
        #expect(expectedCalibrationError(bins) == 0.25 * 0 + 0.25 * 0.75 + 0.5 * 0, "only the 0.25 bin is off: right at confidence 0.25")
        #expect(expectedCalibrationError(ReliabilityBin.bins(confidences: [], correct: [])).isNaN)
    }

    // MARK: The document

    @Test(.enabled(if: Python.available, "needs /usr/bin/python3 to parse the HTML independently"))
    func documentIsBalancedAndLoadsNothing() throws {
        let file = try Self.write(htmlReport(Sample.full()), "full")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let result = try Subprocess.run(Python.path, ["-c", Python.checkHTML, file.path], timeout: 30)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("ok"), "\(result.stdout)")
        let empty = try Self.write(htmlReport(Sample.empty()), "empty")
        defer { try? FileManager.default.removeItem(at: empty.deletingLastPathComponent()) }
        let emptyResult = try Subprocess.run(Python.path, ["-c", Python.checkHTML, empty.path], timeout: 30)
        #expect(emptyResult.status == 0, "\(emptyResult.stdout)\(emptyResult.stderr)")
    }

    @Test func dataStringsAreEscaped() {
        let html = htmlReport(Sample.full())
        #expect(!html.contains(Sample.evilPath))
        #expect(!html.contains("<b>&\""))
        #expect(html.contains("evil/&lt;b&gt;&amp;&quot;x&#39;.pcd"))
        #expect(!html.contains("<script"), "a class named <script> stays text")
        #expect(html.contains("&lt;script&gt;"))
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<title>pcdiag batch report</title>"))
    }

    @Test(arguments: [true, false])
    func bannerFollowsTheVerdict(looksLikeTraining: Bool) throws {
        var data = Sample.full()
        data.shift?.looksLikeTraining = looksLikeTraining
        let html = htmlReport(data)
        let banner = try #require(html.firstMatch(of: /<div class="banner (\w+)"><strong>([^<]*)<\/strong>/))
        #expect(banner.1 == (looksLikeTraining ? "same" : "differs"))
        #expect(banner.2 == (looksLikeTraining ? "Looks like the training data." : "Differs from the training data."))
        #expect(html.contains("2 of 6 indicators differ (adjusted p &lt; 0.05)"))
    }

    @Test func everyFlaggedObjectIsShown() {
        let data = Sample.full(), html = htmlReport(data)
        for object in data.flagged where object.path != Sample.evilPath {
            #expect(html.contains("<h3 class=\"path\">\(object.path)</h3>"), "\(object.path)")
        }
        #expect(html.components(separatedBy: "<article class=\"object\">").count - 1 == data.flagged.count)
        #expect(html.components(separatedBy: "<g id=\"front\">").count - 1 == data.flagged.filter { $0.renderSVG != nil }.count,
                "each render is embedded as is")
        #expect(html.contains("<p class=\"truth wrong\">True class <strong>chair</strong>: wrong</p>"))
        #expect(html.contains("<p class=\"truth right\">True class <strong>table</strong>: right</p>"))
        #expect(html.contains("<li>saliency skewness 4.1 (training p99 2.7)</li>"))
    }

    @Test func confusionCellsHoldTheGivenCounts() throws {
        let data = Sample.full(), labelled = try #require(data.labelled)
        let html = htmlReport(data)
        let cells = html.matches(of: /<td class="cell[^"]*" style="[^"]*" title="true ([^"]*), predicted ([^"]*)">(\d+)<\/td>/)
        #expect(cells.count == labelled.classes.count * labelled.classes.count)
        for (k, cell) in cells.enumerated() {
            let (row, column) = (k / labelled.classes.count, k % labelled.classes.count)
            #expect(Int(cell.3) == labelled.confusion[row][column])
            #expect(String(cell.1) == escapeForTest(labelled.classes[row]) && String(cell.2) == escapeForTest(labelled.classes[column]))
        }
        #expect(html.components(separatedBy: "class=\"cell diagonal\"").count - 1 == labelled.classes.count)
    }

    /// Batch values 0.5, 0.5, 1.5, 19.5 and reference quantiles 0, 10, 20 share the range [0, 20]: 20
    /// bins of width 1. Batch densities: 2/4, 1/4, 0 …, 1/4; the reference puts 1/2 on each half,
    /// 0.05 per unit. So, scaled to the tallest bar: batch 1, ½, 0 …, ½ and reference 0.1 everywhere.
    @Test func shiftHistogramHeightsMatchAHandComputation() throws {
        let (batch, reference) = try Self.bars(values: [0.5, 0.5, 1.5, 19.5], quantiles: [0, 10, 20])
        #expect(batch.count == 20 && reference.count == 20)
        let tallest = try #require(batch.map(\.height).max())
        #expect(tallest > 50)
        let expected = [1, 0.5] + [Double](repeating: 0, count: 17) + [0.5]
        #expect(zip(batch, expected).allSatisfy { abs($0.height - $1 * tallest) < 0.02 }, "\(batch.map(\.height))")
        #expect(reference.allSatisfy { abs($0.height - 0.1 * tallest) < 0.02 }, "\(reference.map(\.height))")
        #expect(Set(batch.map { ($0.y + $0.height) * 100 }.map { $0.rounded() }).count == 1, "bars stand on one baseline")
    }

    /// Every value and quantile equal: the range widens to ±0.5 and all mass lands in the middle bin.
    @Test func constantIndicatorDrawsOneBar() throws {
        let (batch, reference) = try Self.bars(values: [3, 3, 3], quantiles: [3, 3, 3])
        let tallest = try #require(batch.map(\.height).max())
        #expect(tallest > 0)
        #expect(batch.indices.filter { batch[$0].height > 0 } == [10])
        #expect(reference.indices.filter { reference[$0].height > 0 } == [10])
        #expect(abs(reference[10].height - tallest) < 0.02)
    }

    @Test func emptyCasesRenderSensibly() {
        let html = htmlReport(Sample.empty())
        #expect(html.contains("No objects were classified."))
        #expect(html.contains("Nothing was flagged."))
        #expect(html.contains("Not checked"), "no shift section without calibration")
        #expect(!html.contains("class=\"banner"))
        #expect(!html.contains("id=\"labelled\""))
        #expect(html.contains("<div class=\"value\">0</div><div class=\"detail\">– of objects</div>"))
        #expect(html.contains("<div class=\"value\">–</div><div class=\"detail\">median; p95 –</div>"), "no unit on a missing time")
        #expect(!Self.showsNaN(html))

        var unshown = Sample.empty()
        unshown.summary.flagged = 3
        #expect(htmlReport(unshown).contains("3 objects were flagged; none is shown here."))

        var data = Sample.full()
        data.shift?.indicators[0].pValue = .nan
        data.shift?.indicators[0].adjustedPValue = .nan
        data.shift?.indicators[0].batchValues = []
        let nan = htmlReport(data)
        #expect(nan.contains("<td class=\"num\">–</td><td class=\"num\">–</td>"))
        #expect(nan.contains(">no values</text>") == false, "the reference alone is still drawn")
        #expect(!Self.showsNaN(nan))
    }

    // MARK: Headless Chromium

    static let chromium: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
                return "\(dir)/\(name)"
            }
        }
        print("note: ReportTests: no chromium on PATH, the rendering test is skipped (scripts/setup installs it)")
        return nil
    }()

    /// The page as a browser draws it: no console message or uncaught error, a 1280 × 2000 screenshot
    /// that is a valid PNG and far from blank (Python decodes it when it is there). The screenshot is
    /// kept, and its path printed, for a person to look at.
    @Test(.enabled(if: chromium != nil, "needs chromium on PATH (scripts/setup installs it)"), .timeLimit(.minutes(1)))
    func chromiumRendersThePage() throws {
        let file = try Self.write(htmlReport(Sample.full()), "chromium")
        let folder = file.deletingLastPathComponent()
        let png = folder.appendingPathComponent("report.png")
        let started = Date()
        let run = try Subprocess.run(Self.chromium!, [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            "--user-data-dir=\(folder.appendingPathComponent("profile").path)",
            "--enable-logging=stderr", "--v=0",
            "--screenshot=\(png.path)", "--window-size=1280,2000", file.absoluteString,
        ], timeout: 40)
        let seconds = Date().timeIntervalSince(started)
        try? FileManager.default.removeItem(at: folder.appendingPathComponent("profile"))
        print("note: ReportTests: chromium took \(String(format: "%.1f", seconds)) s; screenshot at \(png.path)")
        #expect(run.status == 0, "\(run.stderr.suffix(2000))")
        let console = run.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") || $0.contains("Uncaught") }
        #expect(console.isEmpty, "\(console)")

        let bytes = try [UInt8](Data(contentsOf: png))
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        try #require(bytes.count > 24, "no room for a PNG header")
        let width = bytes[16 ..< 20].reduce(0) { $0 << 8 | Int($1) }, height = bytes[20 ..< 24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 1280 && height == 2000)
        #expect(bytes.count > 80_000, "a blank page of this size compresses to about 14 kB; this one is \(bytes.count) bytes")

        if Python.available {
            let decoded = try Subprocess.run(Python.path, ["-c", Python.inkInPNG, png.path], timeout: 60)
            #expect(decoded.status == 0, "\(decoded.stderr)")
            let ink = Int(decoded.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            #expect(ink > 300_000, "non-white channel values: \(ink) of \(1280 * 2000 * 3); a nearly blank page has about 4 000")
        }
    }

    // MARK: Helpers

    static func write(_ html: String, _ name: String) throws -> URL {
        let url = TestPaths.scratch("report-\(name)").appendingPathComponent("report.html")
        try html.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    static func showsNaN(_ html: String) -> Bool {
        html.range(of: #"\bnan\b"#, options: [.regularExpression, .caseInsensitive]) != nil
    }

    struct Bar { var y: Double, height: Double }

    /// The batch and reference bars of the one indicator's histogram, in bin order.
    static func bars(values: [Double], quantiles: [Double]) throws -> (batch: [Bar], reference: [Bar]) {
        var data = Sample.empty()
        data.shift = ShiftReport(looksLikeTraining: true, verdict: "probe", indicators: [
            IndicatorShift(key: "probe", batchCount: values.count, statistic: 0.1, pValue: 0.5, adjustedPValue: 0.5, cliffsDelta: 0,
                           magnitude: "negligible", significant: false, batchValues: values, referenceQuantiles: quantiles),
        ])
        let html = htmlReport(data)
        func bars(_ kind: String) -> [Bar] {
            html.matches(of: /<rect class="(\w+)" x="[\d.]+" y="([\d.-]+)" width="[\d.]+" height="([\d.-]+)"\/>/)
                .filter { $0.1 == kind }
                .map { Bar(y: Double($0.2)!, height: Double($0.3)!) }
        }
        return (bars("batch"), bars("reference"))
    }
}

private func escapeForTest(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
}

/// Report data to draw: a full one (every section, awkward strings included) and an empty one.
private enum Sample {
    static let evilPath = "evil/<b>&\"x'.pcd"
    static let classes = ["bathtub", "bed", "chair", "desk", "dresser", "monitor", "night_stand", "sofa", "table", "<script>"]

    static func empty() -> ReportData {
        ReportData(title: "pcdiag batch report", generated: "2025-01-01 12:00", model: "none", inputs: "nothing",
                   summary: ReportSummary(objects: 0, failed: 0, flagged: 0, classHistogram: [],
                                          medianMilliseconds: .nan, p95Milliseconds: .nan))
    }

    static func full() -> ReportData {
        var random = SeededGenerator(seed: 7)
        let histogram = zip(classes, [12, 40, 96, 30, 22, 51, 18, 64, 70, 3]).map { ClassCount(name: $0, count: $1) }
        let keys = ["skewness", "kurtosis", "gini", "top10Mass", "mspScore", "energy"]
        let indicators = keys.enumerated().map { k, key -> IndicatorShift in
            let shifted = k < 2
            let values = (0 ..< 200).map { _ in random.normal() + (shifted ? 0.8 : 0) }
            let reference = (0 ... 20).map { q in Double(q - 10) / 4 }  // a uniform-ish reference, [−2.5, 2.5]
            return IndicatorShift(key: key, batchCount: values.count, statistic: shifted ? 0.31 : 0.06,
                                  pValue: shifted ? 2.4e-9 : 0.41, adjustedPValue: shifted ? 1.4e-8 : 0.82,
                                  cliffsDelta: shifted ? 0.42 : 0.03, magnitude: shifted ? "medium" : "negligible",
                                  significant: shifted, batchValues: values, referenceQuantiles: reference)
        }
        let render = ViewRender(points: cloud(&random), values: (0 ..< 300).map { Float($0 % 37) }, title: "chair_0901.pcd").svg()
        let flagged = [
            FlaggedObject(path: "scans/chair_0901.pcd", predictedClass: "sofa", probability: 0.41, fragility: 0.93,
                          reasons: ["saliency skewness 4.1 (training p99 2.7)", "margin 0.03"], trueClass: "chair", renderSVG: render),
            FlaggedObject(path: evilPath, predictedClass: "<script>", probability: 0.52, fragility: 0.88,
                          reasons: ["energy −3.2 (training p1 −5.9)", "reason with <i>markup</i> & \"quotes\""], renderSVG: render),
            FlaggedObject(path: "scans/a/very/long/folder/name/that/keeps/going/and/going/table_0400_scan_with_a_long_name.pcd",
                          predictedClass: "table", probability: 0.64, fragility: 0.71, reasons: ["top-10 % mass 0.61"], trueClass: "table",
                          renderSVG: render),
            FlaggedObject(path: "scans/desk_0201.pcd", predictedClass: "desk", probability: 0.70, fragility: 0.66, reasons: [], renderSVG: nil),
        ]
        let n = classes.count
        let confusion = (0 ..< n).map { r in (0 ..< n).map { c in r == c ? 20 + 3 * r : (r + 2 * c) % 7 == 0 ? r + c : 0 } }
        let confidences = (0 ..< 400).map { _ in 0.3 + 0.7 * random.uniform() }
        let correct = confidences.map { random.uniform() < $0 - 0.05 }
        let bins = ReliabilityBin.bins(confidences: confidences, correct: correct)
        let labelled = LabelledReport(classes: classes, confusion: confusion, accuracy: 0.874, reliability: bins,
                                      expectedCalibrationError: expectedCalibrationError(bins),
                                      errorDetectionAUROC: ["mspScore": 0.81, "skewness": 0.57, "energy": 0.78, "gini": .nan])
        return ReportData(title: "pcdiag batch report", generated: "2025-01-01 12:00 UTC",
                          model: "Models/pointnet-modelnet10.safetensors (PointNet, 10 classes, 1024 points)",
                          inputs: "scans/ (409 files)",
                          summary: ReportSummary(objects: 406, failed: 3, flagged: 24, classHistogram: histogram,
                                                 medianMilliseconds: 8.4, p95Milliseconds: 14.9),
                          shift: ShiftReport(looksLikeTraining: false, verdict: "2 of 6 indicators differ (adjusted p < 0.05)",
                                             indicators: indicators),
                          flagged: flagged, labelled: labelled)
    }

    /// A chair-like cloud: a seat, a back and four legs, 300 points.
    static func cloud(_ random: inout SeededGenerator) -> [SIMD3<Float>] {
        (0 ..< 300).map { i in
            let (u, v) = (Float(random.uniform()), Float(random.uniform()))
            switch i % 3 {
            case 0: return SIMD3(u - 0.5, v - 0.5, 0)
            case 1: return SIMD3(u - 0.5, 0.5, v)
            default:
                let leg = i % 4
                return SIMD3(leg % 2 == 0 ? -0.45 : 0.45, leg < 2 ? -0.45 : 0.45, -0.6 * u)
            }
        }
    }
}

/// Fixture data that is the same on every run.
private extension SeededGenerator {
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Box–Muller.
    mutating func normal() -> Double {
        (-2 * log(max(uniform(), 1e-300))).squareRoot() * cos(2 * Double.pi * uniform())
    }
}

/// Runs a program with a time limit, its output in files (a chatty child never blocks on a pipe).
private enum Subprocess {
    struct Result { var status: Int32, stdout: String, stderr: String }

    static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval) throws -> Result {
        let scratch = TestPaths.scratch("subprocess")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("stdout"), err = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            return Result(status: -1, stdout: "", stderr: "timed out after \(timeout) s")
        }
        return Result(status: process.terminationStatus, stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
    }
}

/// Python scripts that check what the report produced without sharing any of its code.
private enum Python {
    static let path = "/usr/bin/python3"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// Every non-void element closed in order, nothing loaded from anywhere (only namespace URIs may
    /// name a host), no script with a source, no link element.
    static let checkHTML = #"""
        import re, sys
        from html.parser import HTMLParser
        VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'}
        NAMESPACES = {'http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xhtml', 'http://www.w3.org/1999/xlink'}
        text = open(sys.argv[1], encoding='utf-8').read()
        problems = []
        class Check(HTMLParser):
            def __init__(self):
                super().__init__(convert_charrefs=True)
                self.stack = []
            def handle_starttag(self, tag, attrs):
                names = dict(attrs)
                if tag == 'link': problems.append('link element')
                if tag == 'script' and 'src' in names: problems.append('script src')
                for a in ('src', 'href', 'xlink:href'):
                    if a in names and not (names[a] or '').startswith('#'): problems.append(f'{tag} {a}={names[a]}')
                if tag not in VOID: self.stack.append((tag, self.getpos()))
            def handle_endtag(self, tag):
                if not self.stack: problems.append(f'</{tag}> closes nothing at {self.getpos()}'); return
                open_tag, at = self.stack.pop()
                if open_tag != tag: problems.append(f'<{open_tag}> from {at} closed by </{tag}> at {self.getpos()}')
        check = Check()
        check.feed(text)
        check.close()
        problems += [f'unclosed <{t}> from {at}' for t, at in check.stack]
        problems += [f'URL {u}' for u in re.findall(r'https?://[^\s"\'<>)]+', text) if u not in NAMESPACES]
        problems += ['CSS import or url()' for _ in re.findall(r'@import|url\(', text)]
        if not text.lower().startswith('<!doctype html>'): problems.append('no doctype')
        print('\n'.join(problems) if problems else 'ok')
        sys.exit(1 if problems else 0)
        """#

    /// The number of colour channel values below 255 in an 8-bit RGB(A) PNG, after undoing the
    /// scanline filters.
    static let inkInPNG = #"""
        import struct, sys, zlib
        data = open(sys.argv[1], 'rb').read()
        pos, idat = 8, b''
        while pos < len(data):
            n, kind = struct.unpack('>I4s', data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + n]
            assert zlib.crc32(kind + body) == struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])[0], kind
            if kind == b'IHDR': w, h, depth, colour = struct.unpack('>IIBB', body[:10])
            if kind == b'IDAT': idat += body
            pos += 12 + n
        assert depth == 8 and colour in (2, 6)
        bpp = 3 if colour == 2 else 4
        raw, stride, prev, ink = zlib.decompress(idat), w * bpp, bytearray(w * bpp), 0
        for y in range(h):
            f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
            if f == 1:
                for i in range(bpp, stride): line[i] = (line[i] + line[i - bpp]) & 255
            elif f == 2:
                line = bytearray((a + b) & 255 for a, b in zip(line, prev))
            elif f == 3:
                for i in range(stride): line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
            elif f == 4:
                for i in range(stride):
                    a, b = (line[i - bpp] if i >= bpp else 0), prev[i]
                    c = prev[i - bpp] if i >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            rgb = line if bpp == 3 else bytes(v for i, v in enumerate(line) if i % 4 != 3)
            ink += len(rgb) - rgb.count(255)
            prev = line
        print(ink)
        """#
}

