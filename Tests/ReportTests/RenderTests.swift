import Foundation
import PointClouds
@testable import Report
import Testing

@Suite struct ColormapTests {
    static func luma(_ c: PointCloud.Color) -> Double { 0.299 * Double(c.r) + 0.587 * Double(c.g) + 0.114 * Double(c.b) }

    /// Signed ranks counted by hand: positives 1 2 3 4, negatives −1 −5, three zeros and a NaN.
    @Test func scaleRanksEachSignSeparately() {
        let scale = SaliencyScale([0, 3, -5, 0, 1, .nan, 4, -1, 2, 0])
        #expect(scale.zeros == 4 && scale.count == 10 && scale.hasPositive && scale.hasNegative)
        #expect([Float(1), 2, 3, 4].map(scale.position) == [0.25, 0.5, 0.75, 1])
        #expect(scale.position(-1) == -0.5 && scale.position(-5) == -1 && scale.position(0) == 0 && scale.position(.nan) == 0)
        #expect(scale.position(2.5) == 0.5 && scale.position(100) == 1, "values between and beyond rank like their neighbours")
        #expect(scale.value(at: 1) == 4 && scale.value(at: 0.5) == 2 && scale.value(at: 0.3) == 2 && scale.value(at: 0.25) == 1)
        #expect(scale.value(at: -1) == -5 && scale.value(at: -0.5) == -1 && scale.value(at: 0) == 0)
        #expect(SaliencyScale([0, 1, 2]).value(at: -1) == 0, "no negative side")
    }

    /// Both ends dark (they must show on the white background), zeros a light neutral grey, each half
    /// darkening steadily towards its end.
    @Test func endsContrastWithTheBackgroundAndZerosAreNeutral() {
        let background = ViewRender.background
        for end in [Colormap.diverging(1), Colormap.diverging(-1)] {
            #expect(end != background && Self.luma(end) < 100, "\(end)")
        }
        #expect(Colormap.diverging(1).r > Colormap.diverging(1).b && Colormap.diverging(-1).b > Colormap.diverging(-1).r, "red up, blue down")
        let zero = Colormap.diverging(0)
        #expect(zero == Colormap.zero && zero != background && zero.r == zero.g && zero.g == zero.b)
        for sign in [1.0, -1.0] {
            let luma = (1 ... 50).map { Self.luma(Colormap.diverging(sign * Double($0) / 50)) }
            #expect(zip(luma, luma.dropFirst()).allSatisfy { $1 < $0 + 0.5 }, "darker towards the end")
            #expect(luma[0] - luma[49] > 100)
        }
    }

    /// A map that is mostly zeros with a heavy tail still spreads over the whole scale.
    @Test func aMostlyZeroHeavyTailedMapUsesTheWholeScale() {
        var values = [Float](repeating: 0, count: 700)
        values += (1 ... 300).map { Float(pow(Double($0), 4)) * 1e-12 }
        let colors = Colormap.colors(for: values)
        #expect(colors.prefix(700).allSatisfy { $0 == Colormap.zero })
        #expect(colors[999] == Colormap.diverging(1) && colors[849] == Colormap.diverging(0.5))
        #expect(Set(colors.suffix(300).map(\.packed)).count > 50, "the tail's ranks get distinct colours")
    }
}

/// A cloud with a known most salient point: corners of a cube at zero saliency, a ring of points with
/// small values, and one point above the centre (the top view's centre pixel) with the largest value.
@Suite struct RenderTests {
    static let title = "chair_0901.pcd: chair 0.853 <saliency>"

    static func scene() -> (points: [SIMD3<Float>], values: [Float]) {
        var points = [SIMD3<Float>]()
        var values = [Float]()
        for corner in 0 ..< 8 {
            points.append(SIMD3(corner & 1 == 0 ? -1 : 1, corner & 2 == 0 ? -1 : 1, corner & 4 == 0 ? -1 : 1))
            values.append(0)
        }
        for k in 0 ..< 40 {
            let angle = Float(k) / 40 * 2 * .pi
            points.append(SIMD3(0.8 * cos(angle), 0.8 * sin(angle), -0.5))
            values.append(Float(k + 1) * (k % 2 == 0 ? 1e-4 : -1e-4))
        }
        points.append(SIMD3(0, 0, 0.9))
        values.append(0.5)
        return (points, values)
    }

    @Test func svgHasLabelsAColourBarAndACirclePerPointAndView() throws {
        let (points, values) = Self.scene()
        let svg = ViewRender(points: points, values: values, title: Self.title).svg()
        #expect(svg.components(separatedBy: "<circle").count - 1 == 3 * points.count, "the colour bar draws no circles")
        for view in ["top", "front", "side"] {
            #expect(svg.contains("<g id=\"\(view)\">") && svg.contains(">\(view)</text>"), "\(view)")
        }
        #expect(svg.contains(">chair_0901.pcd: chair 0.853 &lt;saliency&gt;</text>"))
        let bar = try #require(svg.components(separatedBy: "<g id=\"colorbar\">").last?.components(separatedBy: "</g>").first)
        #expect(bar.components(separatedBy: "<rect").count - 1 > 50, "a bar of colour steps")
        // Ticks: the most negative value (−0.004), the middle ranks, 0 and the largest (0.5).
        for tick in [">-0.004<", ">0<", ">0.5<"] { #expect(bar.contains(tick), "\(tick)") }
        #expect(bar.contains("= 0: 16% of points"), "8 of 49 points are zero")
        #expect(bar.contains(Self.hex(Colormap.diverging(1))) || bar.contains(Self.hex(Colormap.diverging(0.99))))
    }

    @Test func aSceneRenderNamesItsColoursAndLabelsItsObjectsInEveryView() throws {
        let (points, values) = Self.scene()
        var render = ViewRender(points: points, values: values, title: "2 objects, 1 fragile")
        let red = PointCloud.Color(r: 200, g: 0, b: 0)
        render.legend = .swatches([(name: "chair", color: .init(r: 78, g: 121, b: 167)), (name: "lamp", color: .init(r: 242, g: 142, b: 43))])
        render.annotations = [.init(at: SIMD3(0, 0, 0.9), text: "#1!", color: red), .init(at: SIMD3(0.8, 0, -0.5), text: "#2", color: ViewRender.background)]
        let svg = render.svg()
        let legend = try #require(svg.components(separatedBy: "<g id=\"colorbar\">").last?.components(separatedBy: "</g>").first)
        #expect(legend.contains(">chair</text>") && legend.contains(">lamp</text>") && legend.contains("#4e79a7") && !legend.contains("saliency rank"))
        #expect(svg.components(separatedBy: ">#1!</text>").count - 1 == 3 && svg.components(separatedBy: "fill=\"#c80000\"").count - 1 == 3)
        // Labels land where their point does: #1! above the top view's centre, where that point is drawn.
        let place = try #require(render.projection())
        let top = place(SIMD3<Float>(0, 0, 0.9), 0)
        #expect(svg.contains("<text x=\"\(Int(top.x.rounded()))\" y=\"\(Int(top.y.rounded()) - 4 + 7)\""))
        // The PNG draws the red label's pixels.
        let image = try DecodedPNG(render.png())
        #expect(image.count(in: 0 ..< image.width, 0 ..< render.header + render.viewHeight) { $0 == red } > 10)
    }

    @Test func pngDecodesAndShowsTheMostSalientPoint() throws {
        let (points, values) = Self.scene()
        let render = ViewRender(points: points, values: values, title: Self.title)
        let image = try DecodedPNG(render.png())
        #expect(image.width == render.width && image.height == render.height)
        #expect(image.width == 900 && image.height == 336)
        // The top view is centred on the cloud's bounding box: the point above its centre lands in the
        // middle of the first panel, drawn over everything else.
        let salient = image.pixel(render.panel / 2, render.header + render.viewHeight / 2)
        #expect(salient != ViewRender.background && salient == Colormap.diverging(1), "\(salient)")
        // The title and the view labels are ink on the background; the colour bar holds both ends' shades.
        #expect(image.count(in: 0 ..< 400, 0 ..< render.header) { $0 != ViewRender.background } > 200)
        let footer = render.header + render.viewHeight ..< render.height
        #expect(image.count(in: 0 ..< image.width, footer) { Self.near($0, Colormap.diverging(1)) } > 0)
        #expect(image.count(in: 0 ..< image.width, footer) { Self.near($0, Colormap.diverging(-1)) } > 0)
        #expect(image.count(in: 0 ..< image.width, 0 ..< image.height) { $0 == ViewRender.background } > image.width * image.height / 2)
    }

    @Test func emptyAndAllZeroMapsStillRender() throws {
        let empty = ViewRender(points: [], values: [], title: "")
        #expect(try DecodedPNG(empty.png()).width == 900)
        #expect(empty.svg().contains("every value is 0"))
        let flat = ViewRender(points: [[0, 0, 0], [1, 1, 1]], values: [0, 0], title: "flat")
        #expect(flat.svg().contains("= 0: 100% of points"))
    }

    static func hex(_ c: PointCloud.Color) -> String { String(format: "#%02x%02x%02x", c.r, c.g, c.b) }

    static func near(_ a: PointCloud.Color, _ b: PointCloud.Color) -> Bool {
        abs(Int(a.r) - Int(b.r)) + abs(Int(a.g) - Int(b.g)) + abs(Int(a.b) - Int(b.b)) <= 24
    }
}

/// An 8-bit RGB PNG read back without the renderer's code: chunk CRCs (bit by bit), the zlib header and
/// Adler-32, stored deflate blocks, filter-0 scanlines. Throws on anything else.
struct DecodedPNG {
    struct Invalid: Error, CustomStringConvertible { var description: String }

    let width: Int, height: Int
    let rgb: [UInt8]

    init(_ bytes: [UInt8]) throws {
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw Invalid(description: "signature") }
        func u32(_ at: Int) -> Int { bytes[at ..< at + 4].reduce(0) { $0 << 8 | Int($1) } }
        var at = 8, idat = [UInt8](), header: [UInt8]?
        while at < bytes.count {
            let length = u32(at), type = String(decoding: bytes[at + 4 ..< at + 8], as: UTF8.self)
            let body = Array(bytes[at + 4 ..< at + 8 + length])
            guard Self.crc32(body) == u32(at + 8 + length) else { throw Invalid(description: "CRC of \(type)") }
            if type == "IHDR" { header = Array(body.dropFirst(4)) }
            if type == "IDAT" { idat += body.dropFirst(4) }
            at += 12 + length
        }
        guard let header, header.count == 13, header[8] == 8, header[9] == 2 else { throw Invalid(description: "not 8-bit RGB") }
        width = header[0 ..< 4].reduce(0) { $0 << 8 | Int($1) }
        height = header[4 ..< 8].reduce(0) { $0 << 8 | Int($1) }
        guard idat.count > 6, (Int(idat[0]) << 8 | Int(idat[1])) % 31 == 0, idat[0] & 0x0F == 8 else { throw Invalid(description: "zlib header") }
        var raw = [UInt8](), p = 2, last = false
        while !last {
            last = idat[p] & 1 == 1
            guard idat[p] >> 1 & 3 == 0 else { throw Invalid(description: "only stored blocks are read here") }
            let n = Int(idat[p + 1]) | Int(idat[p + 2]) << 8, complement = Int(idat[p + 3]) | Int(idat[p + 4]) << 8
            guard n ^ complement == 0xFFFF else { throw Invalid(description: "stored block length") }
            raw += idat[p + 5 ..< p + 5 + n]
            p += 5 + n
        }
        var a = 1, b = 0
        for byte in raw { a = (a + Int(byte)) % 65_521; b = (b + a) % 65_521 }
        guard idat[p ..< p + 4].reduce(0, { $0 << 8 | Int($1) }) == b << 16 | a else { throw Invalid(description: "Adler-32") }
        let stride = 1 + 3 * width
        guard raw.count == height * stride, (0 ..< height).allSatisfy({ raw[$0 * stride] == 0 }) else { throw Invalid(description: "scanlines") }
        rgb = (0 ..< height).flatMap { raw[$0 * stride + 1 ..< ($0 + 1) * stride] }
    }

    func pixel(_ x: Int, _ y: Int) -> PointCloud.Color {
        let at = (y * width + x) * 3
        return PointCloud.Color(r: rgb[at], g: rgb[at + 1], b: rgb[at + 2])
    }

    func count(in xs: Range<Int>, _ ys: Range<Int>, where test: (PointCloud.Color) -> Bool) -> Int {
        ys.reduce(0) { sum, y in sum + xs.filter { test(pixel($0, y)) }.count }
    }

    static func crc32(_ data: [UInt8]) -> Int {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0 ..< 8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return Int(~crc)
    }
}
