import Foundation

/// Text from data (paths, class names, reasons, titles) made safe for HTML and SVG text and quoted
/// attribute values.
func escapeHTML(_ text: String) -> String {
    text.reduce(into: "") { out, c in out += htmlEntities[c] ?? String(c) }
}

private let htmlEntities: [Character: String] = ["&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"]

/// Numbers as the report prints them: a dash for NaN, so a missing statistic never reads as a value.
enum Format {
    static let missing = "–"

    /// Fixed decimals.
    static func fixed(_ x: Double, _ decimals: Int = 3) -> String {
        guard x.isFinite else { return x.isNaN ? missing : (x > 0 ? "∞" : "−∞") }
        return String(format: "%.\(decimals)f", x)
    }

    /// Three significant digits, for axis ends whose scale is unknown in advance.
    static func short(_ x: Double) -> String {
        guard x.isFinite else { return fixed(x) }
        return String(format: "%.3g", x)
    }

    /// p-values: three decimals, scientific below 0.001 so that tiny ones stay distinguishable.
    static func p(_ x: Double) -> String {
        guard x.isFinite else { return fixed(x) }
        return x < 0.001 ? String(format: "%.1e", x) : String(format: "%.3f", x)
    }

    /// A duration with its unit, or a bare dash when it was not measured.
    static func milliseconds(_ x: Double) -> String {
        x.isFinite ? String(format: "%.1f ms", x) : missing
    }

    /// `part` as a percentage of `whole`; a dash when there is no whole.
    static func percent(_ part: Double, of whole: Double) -> String {
        whole > 0 ? String(format: "%.1f %%", 100 * part / whole) : missing
    }
}
