import Foundation

/// A batch's values and a training reference given only by its quantiles, as two densities over one
/// set of equal-width bins, so the two shapes compare on one axis whatever the sample sizes.
///
/// The bins span the smallest to the largest of both (non-finite values left out); a span of zero
/// (every value equal) is widened to ±0.5 so that the single bar still has a width. The reference
/// puts equal probability mass between consecutive quantiles, spread uniformly over that interval
/// (all of it into one bin when the two quantiles are equal). Both integrate to 1 when present.
struct ShiftHistogram {
    var lower: Double
    var upper: Double
    /// Density per bin; all zero when there are no batch values (or no reference quantiles).
    var batch: [Double]
    var reference: [Double]

    var width: Double { (upper - lower) / Double(batch.count) }

    /// nil when neither side has a finite value.
    init?(values: [Double], quantiles: [Double], bins: Int = 20) {
        let values = values.filter(\.isFinite), quantiles = quantiles.filter(\.isFinite).sorted()
        let all = values + quantiles
        guard var lo = all.min(), var hi = all.max() else { return nil }
        if hi - lo <= 0 {
            lo -= 0.5
            hi += 0.5
        }
        lower = lo
        upper = hi
        let width = (hi - lo) / Double(bins)
        func bin(_ x: Double) -> Int { min(max(Int((x - lo) / width), 0), bins - 1) }

        batch = [Double](repeating: 0, count: bins)
        for v in values { batch[bin(v)] += 1 / (Double(values.count) * width) }

        reference = [Double](repeating: 0, count: bins)
        if quantiles.count == 1 { reference[bin(quantiles[0])] = 1 / width }
        let mass = 1 / Double(max(quantiles.count - 1, 1))
        for (a, b) in zip(quantiles, quantiles.dropFirst()) {
            guard b > a else {
                reference[bin(a)] += mass / width
                continue
            }
            for i in bin(a) ... bin(b) {
                let overlap = min(b, lo + Double(i + 1) * width) - max(a, lo + Double(i) * width)
                if overlap > 0 { reference[i] += mass * overlap / (b - a) / width }
            }
        }
    }
}

/// The report's charts, as inline SVG elements sized in CSS pixels (they scale down with the page).
enum Chart {
    /// Colours shared by the charts and the page's legend swatches.
    static let batchColour = "#3b6fb6", referenceColour = "#e07b00"

    /// Horizontal bars, one per class in the order given, with the count after each bar.
    static func classBars(_ classes: [ClassCount]) -> String {
        let rowHeight = 22.0, barMax = 420.0
        let longest = classes.map(\.name.count).max() ?? 0
        let labelWidth = Double(min(max(longest, 4), 28)) * 7.5 + 12
        let most = Double(classes.map(\.count).max() ?? 0)
        let width = labelWidth + barMax + 70, height = Double(classes.count) * rowHeight + 4
        var svg = String(format: "<svg class=\"class-bars\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"objects per predicted class\">\n",
                         width, height, width, height)
        for (row, c) in classes.enumerated() {
            let y = Double(row) * rowHeight + 2
            let name = c.name.count > 28 ? String(c.name.prefix(27)) + "…" : c.name
            let bar = most > 0 ? Double(c.count) / most * barMax : 0
            svg += String(format: "<g><title>%@: %d</title><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" class=\"label\">%@</text>",
                          escapeHTML(c.name), c.count, labelWidth - 8, y + 15, escapeHTML(name))
            svg += String(format: "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%@\"/>",
                          labelWidth, y + 2, bar, rowHeight - 6, batchColour)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" class=\"value\">%d</text></g>\n", labelWidth + bar + 6, y + 15, c.count)
        }
        return svg + "</svg>"
    }

    /// The batch's distribution of one indicator (filled bars) over the training reference (outlined
    /// bars), both as densities on shared bins; the taller of the two fills the plot's height.
    static func shiftHistogram(_ indicator: IndicatorShift) -> String {
        let width = 360.0, plotTop = 26.0, plotHeight = 100.0, left = 8.0, right = 8.0
        let height = plotTop + plotHeight + 22, plotWidth = width - left - right, base = plotTop + plotHeight
        var svg = String(format: "<svg class=\"shift\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%@: batch against training reference\">\n",
                         width, height, width, height, escapeHTML(indicator.key))
        svg += legend(x: left, y: 6, items: [("batch (n = \(indicator.batchCount))", batchColour, true), ("training reference", referenceColour, false)])
        guard let histogram = ShiftHistogram(values: indicator.batchValues, quantiles: indicator.referenceQuantiles) else {
            return svg + String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"note\">no values</text>\n</svg>", width / 2, plotTop + plotHeight / 2)
        }
        let tallest = max(histogram.batch.max() ?? 0, histogram.reference.max() ?? 0)
        let scale = tallest > 0 ? plotHeight / tallest : 0, barWidth = plotWidth / Double(histogram.batch.count)
        for (kind, densities) in [("batch", histogram.batch), ("reference", histogram.reference)] {
            let paint = kind == "batch"
                ? "fill=\"\(batchColour)\" fill-opacity=\"0.55\""
                : "fill=\"\(referenceColour)\" fill-opacity=\"0.12\" stroke=\"\(referenceColour)\" stroke-width=\"1.5\""
            svg += "<g class=\"\(kind)\" \(paint)>\n"
            for (i, d) in densities.enumerated() {
                let h = d * scale
                svg += String(format: "<rect class=\"%@\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>\n",
                              kind, left + Double(i) * barWidth, base - h, barWidth, h)
            }
            svg += "</g>\n"
        }
        svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>\n", left, base, left + plotWidth, base)
        let ticks = [(histogram.lower, "start"), ((histogram.lower + histogram.upper) / 2, "middle"), (histogram.upper, "end")]
        for (i, (value, anchor)) in ticks.enumerated() {
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%@\" class=\"tick\">%@</text>\n",
                          left + Double(i) * plotWidth / 2, base + 15, anchor, Format.short(value))
        }
        return svg + "</svg>"
    }

    /// Accuracy per confidence bin as bars against the diagonal of perfect calibration, each bar's
    /// count above it, the ECE in the corner. Empty bins draw nothing.
    static func reliability(_ bins: [ReliabilityBin], ece: Double) -> String {
        let size = 280.0, left = 44.0, top = 12.0, bottom = 40.0, right = 12.0
        let width = left + size + right, height = top + size + bottom
        func x(_ v: Double) -> Double { left + v * size }
        func y(_ v: Double) -> Double { top + (1 - v) * size }
        var svg = String(format: "<svg class=\"reliability\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"reliability diagram\">\n",
                         width, height, width, height)
        for t in stride(from: 0.0, through: 1.0, by: 0.2) {
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>\n", x(0), y(t), x(1), y(t))
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" class=\"tick\">%.1f</text>\n", x(0) - 5, y(t) + 4, t)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"tick\">%.1f</text>\n", x(t), y(0) + 15, t)
        }
        for bin in bins where bin.count > 0 {
            svg += String(format: "<rect class=\"bin\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%@\" fill-opacity=\"0.75\" stroke=\"#ffffff\"><title>confidence %.2f–%.2f: %d objects, mean confidence %.3f, accuracy %.3f</title></rect>\n",
                          x(bin.lower), y(bin.accuracy), (bin.upper - bin.lower) * size, bin.accuracy * size, batchColour,
                          bin.lower, bin.upper, bin.count, bin.meanConfidence, bin.accuracy)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"count\">%d</text>\n",
                          x((bin.lower + bin.upper) / 2), y(bin.accuracy) - 4, bin.count)
        }
        svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"diagonal\"/>\n", x(0), y(0), x(1), y(1))
        svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" class=\"ece\">ECE %@</text>\n", x(0) + 8, y(1) + 18, Format.fixed(ece))
        svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"axis-title\">confidence</text>\n", x(0.5), height - 6)
        svg += String(format: "<text transform=\"translate(12 %.1f) rotate(-90)\" text-anchor=\"middle\" class=\"axis-title\">accuracy</text>\n", y(0.5))
        return svg + "</svg>"
    }

    /// A row of swatches with labels; `filled` false draws an outlined swatch, as the reference bars are.
    static func legend(x: Double, y: Double, items: [(label: String, colour: String, filled: Bool)]) -> String {
        var svg = "<g class=\"legend\">", at = x
        for item in items {
            let paint = item.filled ? "fill=\"\(item.colour)\" fill-opacity=\"0.55\"" : "fill=\"\(item.colour)\" fill-opacity=\"0.12\" stroke=\"\(item.colour)\" stroke-width=\"1.5\""
            svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" %@/>", at, y, paint)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\">%@</text>", at + 17, y + 10, escapeHTML(item.label))
            at += 17 + Double(item.label.count) * 6.2 + 18
        }
        return svg + "</g>\n"
    }
}
