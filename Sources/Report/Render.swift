import Foundation
import PointClouds

/// Three orthographic views of a cloud coloured by a per-point value (a saliency map), drawn without a
/// display: as SVG (one circle per point and view) or as PNG (rasterised here, text in a built-in
/// bitmap font, written uncompressed inside a valid zlib stream).
///
/// Layout, `width` × `height` (900 × 336 by default): the title across the top; the views left to
/// right, each labelled — from above (x right, y up), from the front (x right, z up, looking along +y)
/// and from the side (y right, z up, looking along −x) — at one scale for the three, so sizes compare;
/// along the bottom a colour bar of the `Colormap` scale with the values at its ticks and the share of
/// points at exactly 0. Zeros are drawn first, small and grey; the others in order of their rank's
/// magnitude, so the most salient points lie on top.
public struct ViewRender {
    public var points: [SIMD3<Float>]
    public var values: [Float]
    public var colors: [PointCloud.Color]
    public var title: String
    /// Width of one view; height of the views' band; the title band above it and the colour bar's below.
    public var panel = 300, viewHeight = 260, header = 36, footer = 40
    /// Radius of a point with a non-zero value, and of one at zero, in pixels.
    public var radius = 2.0, zeroRadius = 1.2
    /// What the footer explains: the saliency colour bar, or named colours (a scene's classes).
    public var legend = Legend.saliencyRank
    /// Text drawn in every view at a point's place (a scene's object ids).
    public var annotations = [Annotation]()

    public enum Legend: Sendable {
        case saliencyRank
        case swatches([(name: String, color: PointCloud.Color)])
    }

    public struct Annotation: Sendable {
        public var at: SIMD3<Float>
        public var text: String
        public var color: PointCloud.Color

        public init(at: SIMD3<Float>, text: String, color: PointCloud.Color) { (self.at, self.text, self.color) = (at, text, color) }
    }

    public static let background = PointCloud.Color(r: 255, g: 255, b: 255)
    static let ink = PointCloud.Color(r: 34, g: 34, b: 34)
    static let muted = PointCloud.Color(r: 100, g: 100, b: 100)
    public static let viewNames = ["top", "front", "side"]

    public init(points: [SIMD3<Float>], values: [Float], title: String) {
        precondition(points.count == values.count, "one value per point")
        self.points = points
        self.values = values
        colors = Colormap.colors(for: values)
        self.title = title
    }

    public var width: Int { 3 * panel }
    public var height: Int { header + viewHeight + footer }

    /// Per view: every point's pixel position, in drawing order (zeros, then by rank magnitude).
    func projected() -> [[(x: Double, y: Double, index: Int)]] {
        guard let place = projection() else { return [[], [], []] }
        let ranks = SaliencyScale(values)
        let order = points.indices.sorted { abs(ranks.position(values[$0])) < abs(ranks.position(values[$1])) }
        return (0 ..< 3).map { v in
            order.map { i in
                let (x, y) = place(points[i], v)
                return (x, y, i)
            }
        }
    }

    /// Where a point lands in view `v`, in pixels: one scale for the three views, the points' box centred.
    func projection() -> ((SIMD3<Float>, Int) -> (x: Double, y: Double))? {
        guard !points.isEmpty else { return nil }
        let lo = points.reduce(points[0]) { pointwiseMin($0, $1) }, hi = points.reduce(points[0]) { pointwiseMax($0, $1) }
        let centre = (lo + hi) / 2, extent = max(Double((hi - lo).max()), 1e-12)
        let scale = Double(min(panel, viewHeight)) * 0.9 / extent
        let (panel, header, viewHeight) = (panel, header, viewHeight)
        // (horizontal axis, vertical axis)
        let views: [(Int, Int)] = [(0, 1), (0, 2), (1, 2)]
        return { p, v in
            let view = views[v]
            return (Double(v * panel) + Double(panel) / 2 + Double(p[view.0] - centre[view.0]) * scale,
                    Double(header) + Double(viewHeight) / 2 - Double(p[view.1] - centre[view.1]) * scale)
        }
    }

    /// The annotations, in each view.
    func annotationMarks() -> [Mark] {
        guard let place = projection() else { return [] }
        return (0 ..< 3).flatMap { v in
            annotations.map { a in
                let (x, y) = place(a.at, v)
                return Mark.text(x: Int(x.rounded()), y: Int(y.rounded()) - 4, a.text, scale: 1, a.color, .middle)
            }
        }
    }

    /// Along the bottom: the colour bar, or the swatches.
    func legendMarks() -> [Mark] {
        guard case .swatches(let entries) = legend else { return colorBar() }
        var marks = [Mark](), x = 12
        let y = header + viewHeight + 8
        for (name, color) in entries {
            marks.append(.box(x: x, y: y, width: 8, height: 8, color))
            marks.append(.text(x: x + 12, y: y, name, scale: 1, Self.ink, .start))
            x += 24 + BitmapFont.width(name, scale: 1)
        }
        return marks
    }

    /// Text and boxes around the views, in pixels; `y` is the top of the text.
    enum Mark {
        case text(x: Int, y: Int, String, scale: Int, PointCloud.Color, Anchor)
        case box(x: Int, y: Int, width: Int, height: Int, PointCloud.Color)
    }
    enum Anchor: String { case start, middle, end }

    /// The title (at half size if it is long, cut short if still too long) and the view labels.
    func labels() -> [Mark] {
        var marks = [Mark]()
        var titleScale = 2, text = title
        if BitmapFont.width(text, scale: 2) > width - 16 { titleScale = 1 }
        let fits = (width - 16) / (BitmapFont.advance * titleScale)
        if text.unicodeScalars.count > fits { text = String(String.UnicodeScalarView(text.unicodeScalars.prefix(fits - 3))) + "..." }
        marks.append(.text(x: 8, y: (header - 8 * titleScale) / 2, text, scale: titleScale, Self.ink, .start))
        for (v, name) in Self.viewNames.enumerated() {
            marks.append(.text(x: v * panel + 8, y: header + 6, name, scale: 2, Self.muted, .start))
            if v > 0 { marks.append(.box(x: v * panel, y: header + 4, width: 1, height: viewHeight - 8, PointCloud.Color(r: 225, g: 225, b: 225))) }
        }
        return marks
    }

    /// The colour bar: the colours of the ranks present, the values at its ticks, the share of zeros.
    func colorBar() -> [Mark] {
        var marks = [Mark]()
        let scale = SaliencyScale(values)
        let barX = width / 2 - 150, barWidth = 300, barY = header + viewHeight + 6, barHeight = 10
        let low = scale.hasNegative ? -1.0 : 0, high = scale.hasPositive ? 1.0 : 0
        marks.append(.text(x: barX - 12, y: barY + 1, "saliency rank", scale: 1, Self.ink, .end))
        let zeroShare = scale.count > 0 ? 100 * Double(scale.zeros) / Double(scale.count) : 0
        marks.append(.box(x: barX + barWidth + 12, y: barY + 1, width: 8, height: 8, Colormap.zero))
        marks.append(.text(x: barX + barWidth + 24, y: barY + 1, String(format: "= 0: %.0f%% of points", zeroShare), scale: 1, Self.ink, .start))
        guard high > low else {
            marks.append(.text(x: barX + barWidth / 2, y: barY + 1, "every value is 0", scale: 1, Self.ink, .middle))
            return marks
        }
        let step = 3
        for x in stride(from: 0, to: barWidth, by: step) {
            let t = low + (high - low) * (Double(x) + Double(step) / 2) / Double(barWidth)
            marks.append(.box(x: barX + x, y: barY, width: step, height: barHeight, Colormap.diverging(t)))
        }
        let ticks = stride(from: low, through: high, by: 0.5)
        for t in ticks {
            let x = barX + Int(((t - low) / (high - low) * Double(barWidth)).rounded())
            marks.append(.box(x: min(x, barX + barWidth - 1), y: barY + barHeight, width: 1, height: 3, Self.ink))
            let anchor: Anchor = t == low ? .start : t == high ? .end : .middle
            marks.append(.text(x: x, y: barY + barHeight + 5, Self.format(scale.value(at: t)), scale: 1, Self.ink, anchor))
        }
        return marks
    }

    /// A tick's value in a few characters: 3 significant digits.
    static func format(_ v: Float) -> String {
        v == 0 ? "0" : String(format: "%.3g", Double(v))
    }

    static func svgElement(_ mark: Mark) -> String {
        switch mark {
        case .text(let x, let y, let text, let scale, let color, let anchor):
            // The bitmap font's baseline is its seventh row.
            "<text x=\"\(x)\" y=\"\(y + 7 * scale)\" font-size=\"\(scale == 1 ? 10 : 16)\" fill=\"\(hex(color))\" "
                + "text-anchor=\"\(anchor.rawValue)\">\(escapeHTML(text))</text>\n"
        case .box(let x, let y, let w, let h, let color):
            "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(w)\" height=\"\(h)\" fill=\"\(hex(color))\"/>\n"
        }
    }

    func isZero(_ i: Int) -> Bool { values[i] == 0 || values[i].isNaN }

    static func hex(_ c: PointCloud.Color) -> String { String(format: "#%02x%02x%02x", c.r, c.g, c.b) }

    public func svg() -> String {
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="sans-serif">
            <rect width="100%" height="100%" fill="\(Self.hex(Self.background))"/>

            """
        for (v, view) in projected().enumerated() {
            out += "<g id=\"\(Self.viewNames[v])\">\n"
            for p in view {
                let r = isZero(p.index) ? zeroRadius : radius
                out += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%@\"/>\n", p.x, p.y, r, Self.hex(colors[p.index]))
            }
            out += "</g>\n"
        }
        for (id, marks) in [("labels", labels() + annotationMarks()), ("colorbar", legendMarks())] {
            out += "<g id=\"\(id)\">\n" + marks.map(Self.svgElement).joined() + "</g>\n"
        }
        return out + "</svg>\n"
    }

    public func png() -> [UInt8] {
        var image = Raster(width: width, height: height, fill: Self.background)
        for view in projected() {
            for p in view {
                let r = isZero(p.index) ? zeroRadius : radius
                image.disc(x: p.x, y: p.y, radius: r, colors[p.index])
            }
        }
        for mark in labels() + annotationMarks() + legendMarks() {
            switch mark {
            case .text(let x, let y, let text, let scale, let color, let anchor):
                let w = BitmapFont.width(text, scale: scale)
                let left = anchor == .start ? x : anchor == .middle ? x - w / 2 : x - w
                image.text(text, x: left, y: y, scale: scale, color)
            case .box(let x, let y, let w, let h, let color):
                image.fill(x: x, y: y, width: w, height: h, color)
            }
        }
        return PNG.encode(rgb: image.pixels, width: width, height: height)
    }
}

/// An RGB image being drawn: discs, boxes and bitmap text, clipped to the image.
struct Raster {
    let width: Int, height: Int
    var pixels: [UInt8]

    init(width: Int, height: Int, fill: PointCloud.Color) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for at in stride(from: 0, to: pixels.count, by: 3) { (pixels[at], pixels[at + 1], pixels[at + 2]) = (fill.r, fill.g, fill.b) }
    }

    mutating func set(_ x: Int, _ y: Int, _ c: PointCloud.Color) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        let at = (y * width + x) * 3
        (pixels[at], pixels[at + 1], pixels[at + 2]) = (c.r, c.g, c.b)
    }

    mutating func disc(x: Double, y: Double, radius r: Double, _ c: PointCloud.Color) {
        let reach = Int(r.rounded(.up)), cx = Int(x.rounded()), cy = Int(y.rounded())
        for dy in -reach ... reach {
            for dx in -reach ... reach where Double(dx * dx + dy * dy) <= r * r { set(cx + dx, cy + dy, c) }
        }
    }

    mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ c: PointCloud.Color) {
        for py in y ..< y + h { for px in x ..< x + w { set(px, py, c) } }
    }

    mutating func text(_ text: String, x: Int, y: Int, scale: Int, _ c: PointCloud.Color) {
        for (k, character) in text.unicodeScalars.enumerated() {
            let left = x + k * BitmapFont.advance * scale
            for column in 0 ..< BitmapFont.glyphWidth {
                for row in 0 ..< BitmapFont.glyphHeight where BitmapFont.isSet(character, column: column, row: row) {
                    fill(x: left + column * scale, y: y + row * scale, width: scale, height: scale, c)
                }
            }
        }
    }
}

/// A PNG writer for 8-bit RGB images: each scanline with filter 0, the image data in stored (not
/// compressed) deflate blocks — valid for every PNG reader, and no compression library needed.
enum PNG {
    static func encode(rgb: [UInt8], width: Int, height: Int) -> [UInt8] {
        var raw = [UInt8]()
        raw.reserveCapacity(height * (1 + width * 3))
        for y in 0 ..< height {
            raw.append(0)
            raw += rgb[(y * width * 3) ..< ((y + 1) * width * 3)]
        }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65_535, raw.count - offset), last: UInt8 = offset + n == raw.count ? 1 : 0
            zlib += [last, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            zlib += raw[offset ..< offset + n]
            offset += n
        } while offset < raw.count
        zlib += bigEndian(adler32(raw))
        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]  // 8 bits, RGB, deflate, filter 0, no interlace
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", zlib) + chunk("IEND", [])
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return b << 16 | a
    }

    static let crcTable: [UInt32] = (0 ..< 256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0 ..< 8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        ~data.reduce(0xFFFF_FFFF as UInt32) { crcTable[Int(($0 ^ UInt32($1)) & 0xFF)] ^ ($0 >> 8) }
    }
}
