import Foundation
import PointClouds

/// Three orthographic views of a cloud coloured by a per-point value (a saliency map), drawn without a
/// display: as SVG (one circle per point and view) or as PNG (rasterised here, written uncompressed
/// inside a valid zlib stream). Views, left to right: from above (x right, y up), from the front
/// (x right, z up, looking along +y) and from the side (y right, z up, looking along −x); nearer points
/// are drawn last. One scale for the three, so sizes compare.
public struct ViewRender {
    public var points: [SIMD3<Float>]
    public var colors: [PointCloud.Color]
    public var title: String
    public var panel = 300, header = 36, radius = 2.0

    public init(points: [SIMD3<Float>], values: [Float], title: String) {
        precondition(points.count == values.count, "one value per point")
        self.points = points
        colors = Colormap.colors(for: values)
        self.title = title
    }

    public var width: Int { 3 * panel }
    public var height: Int { panel + header }

    /// Per view: every point's pixel position, in drawing order (far to near).
    func projected() -> [[(x: Double, y: Double, index: Int)]] {
        guard !points.isEmpty else { return [[], [], []] }
        let lo = points.reduce(points[0]) { pointwiseMin($0, $1) }, hi = points.reduce(points[0]) { pointwiseMax($0, $1) }
        let centre = (lo + hi) / 2, extent = max(Double((hi - lo).max()), 1e-12)
        let scale = Double(panel) * 0.9 / extent
        // (horizontal axis, vertical axis, depth axis, depth sign: +1 draws larger depth last)
        let views: [(Int, Int, Int, Double)] = [(0, 1, 2, 1), (0, 2, 1, -1), (1, 2, 0, -1)]
        return views.enumerated().map { v, view in
            let order = points.indices.sorted { view.3 * Double(points[$0][view.2]) < view.3 * Double(points[$1][view.2]) }
            return order.map { i in
                let p = points[i]
                return (Double(v * panel) + Double(panel) / 2 + Double(p[view.0] - centre[view.0]) * scale,
                        Double(header) + Double(panel) / 2 - Double(p[view.1] - centre[view.1]) * scale, i)
            }
        }
    }

    public func svg() -> String {
        func hex(_ c: PointCloud.Color) -> String { String(format: "#%02x%02x%02x", c.r, c.g, c.b) }
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)">
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text x="8" y="24" font-family="sans-serif" font-size="16">\(escapeHTML(title))</text>

            """
        for (v, view) in projected().enumerated() {
            out += "<g id=\"\(["top", "front", "side"][v])\">\n"
            for p in view {
                out += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%@\"/>\n", p.x, p.y, radius, hex(colors[p.index]))
            }
            out += "</g>\n"
        }
        return out + "</svg>\n"
    }

    public func png() -> [UInt8] {
        var pixels = [UInt8](repeating: 255, count: width * height * 3)
        let r = radius, reach = Int(r.rounded(.up))
        for view in projected() {
            for p in view {
                let c = colors[p.index]
                for dy in -reach ... reach {
                    for dx in -reach ... reach where Double(dx * dx + dy * dy) <= r * r {
                        let x = Int(p.x.rounded()) + dx, y = Int(p.y.rounded()) + dy
                        guard x >= 0, x < width, y >= 0, y < height else { continue }
                        let at = (y * width + x) * 3
                        (pixels[at], pixels[at + 1], pixels[at + 2]) = (c.r, c.g, c.b)
                    }
                }
            }
        }
        return PNG.encode(rgb: pixels, width: width, height: height)
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
