import Foundation

/// The batch report as one self-contained HTML5 document: CSS and SVG charts inline, no script, no
/// external URL of any kind, so the file opens offline, can be mailed, and prints (sections do not
/// break inside a card or chart). Every string that came from data is escaped; a flagged object's
/// render is embedded as it is, being markup that `ViewRender` made.
public func htmlReport(_ data: ReportData) -> String {
    """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>\(escapeHTML(data.title))</title>
    <style>\(ReportSections.style)</style>
    </head>
    <body>
    \(ReportSections.header(data))
    \(ReportSections.summary(data.summary))
    \(ReportSections.shift(data.shift))
    \(ReportSections.scenes(data.scenes))
    \(ReportSections.flagged(data.flagged, summary: data.summary))
    \(data.labelled.map(ReportSections.labelled) ?? "")
    <footer>Made by pcdiag. Self-contained: no scripts, fonts or images are loaded from anywhere.</footer>
    </body>
    </html>

    """
}

/// The report's parts, one function per section, each returning finished markup.
enum ReportSections {
    static func header(_ data: ReportData) -> String {
        """
        <header>
        <h1>\(escapeHTML(data.title))</h1>
        <dl class="meta">
        <dt>Model</dt><dd>\(escapeHTML(data.model))</dd>
        <dt>Inputs</dt><dd>\(escapeHTML(data.inputs))</dd>
        <dt>Generated</dt><dd>\(escapeHTML(data.generated))</dd>
        </dl>
        </header>
        """
    }

    static func summary(_ s: ReportSummary) -> String {
        func card(_ label: String, _ value: String, _ detail: String) -> String {
            "<div class=\"card\"><div class=\"label\">\(label)</div><div class=\"value\">\(value)</div><div class=\"detail\">\(detail)</div></div>"
        }
        let cards = [
            card("Objects", "\(s.objects)", "classified"),
            card("Failed", "\(s.failed)", "could not be read"),
            card("Flagged", "\(s.flagged)", "\(Format.percent(Double(s.flagged), of: Double(s.objects))) of objects"),
            card("Time per object", Format.milliseconds(s.medianMilliseconds), "median; p95 \(Format.milliseconds(s.p95Milliseconds))"),
        ]
        let histogram = s.classHistogram.isEmpty
            ? "<p class=\"note\">No objects were classified.</p>"
            : "<figure class=\"chart\">\(Chart.classBars(s.classHistogram))</figure>"
        return """
            <section id="summary">
            <h2>Summary</h2>
            <div class="cards">\(cards.joined())</div>
            <h3>Predicted classes</h3>
            \(histogram)
            </section>
            """
    }

    static func shift(_ shift: ShiftReport?) -> String {
        guard let shift else {
            return """
                <section id="shift">
                <h2>Domain shift</h2>
                <p class="note">Not checked: the model carries no calibration of its training data to compare the batch with.</p>
                </section>
                """
        }
        let (kind, headline) = shift.looksLikeTraining ? ("same", "Looks like the training data") : ("differs", "Differs from the training data")
        let rows = shift.indicators.map { i in
            """
            <tr\(i.significant ? " class=\"significant\"" : "")><td>\(escapeHTML(i.key))</td><td class="num">\(i.batchCount)</td>\
            <td class="num">\(Format.fixed(i.statistic))</td><td class="num">\(Format.p(i.pValue))</td>\
            <td class="num">\(Format.p(i.adjustedPValue))</td><td class="num">\(Format.fixed(i.cliffsDelta))</td>\
            <td>\(escapeHTML(i.magnitude))</td><td>\(i.significant ? "yes" : "no")</td></tr>
            """
        }
        let table = shift.indicators.isEmpty ? "<p class=\"note\">No indicators were compared.</p>" : """
            <table class="indicators">
            <thead><tr><th>Indicator</th><th class="num">n</th><th class="num">KS D</th><th class="num">p</th>\
            <th class="num">adjusted p</th><th class="num">Cliff's δ</th><th>magnitude</th><th>significant</th></tr></thead>
            <tbody>
            \(rows.joined(separator: "\n"))
            </tbody>
            </table>
            """
        let charts = shift.indicators.map { i in
            "<figure class=\"chart\"><figcaption><strong>\(escapeHTML(i.key))</strong> · D \(Format.fixed(i.statistic)) · adjusted p \(Format.p(i.adjustedPValue))</figcaption>\(Chart.shiftHistogram(i))</figure>"
        }
        return """
            <section id="shift">
            <h2>Domain shift</h2>
            <div class="banner \(kind)"><strong>\(headline).</strong> \(escapeHTML(shift.verdict))</div>
            \(table)
            <div class="charts">\(charts.joined(separator: "\n"))</div>
            </section>
            """
    }

    static func scenes(_ scenes: [SceneCard]) -> String {
        guard !scenes.isEmpty else { return "" }
        let cards = scenes.map { s in
            """
            <article class="object">
            <div class="render">\(s.renderSVG)</div>
            <h3 class="path">\(escapeHTML(s.path))</h3>
            <p>\(s.objects) objects, \(s.fragile) fragile (labels in red)</p>
            </article>
            """
        }
        return """
            <section id="scenes">
            <h2>Scenes</h2>
            <p class="note">Each scene's objects coloured by predicted class, seen from above its support, from the front and from the side; support and background in grey. The per-object cards follow.</p>
            <div class="objects">
            \(cards.joined(separator: "\n"))
            </div>
            </section>
            """
    }

    static func flagged(_ objects: [FlaggedObject], summary: ReportSummary) -> String {
        guard !objects.isEmpty else {
            let note = summary.flagged == 0 ? "Nothing was flagged." : "\(summary.flagged) objects were flagged; none is shown here."
            return "<section id=\"flagged\">\n<h2>Flagged objects</h2>\n<p class=\"note\">\(note)</p>\n</section>"
        }
        let cards = objects.map { o in
            let render = o.renderSVG.map { "<div class=\"render\">\($0)</div>" } ?? ""
            let truth = o.trueClass.map { t in
                let right = t == o.predictedClass
                return "<p class=\"truth \(right ? "right" : "wrong")\">True class <strong>\(escapeHTML(t))</strong>: \(right ? "right" : "wrong")</p>"
            } ?? ""
            let reasons = o.reasons.isEmpty ? "" : "<ul class=\"reasons\">\(o.reasons.map { "<li>\(escapeHTML($0))</li>" }.joined())</ul>"
            return """
                <article class="object">
                \(render)
                <h3 class="path">\(escapeHTML(o.path))</h3>
                <p>Predicted <strong>\(escapeHTML(o.predictedClass))</strong> at \(Format.percent(o.probability, of: 1)), fragility \(Format.fixed(o.fragility))</p>
                \(truth)
                \(reasons)
                </article>
                """
        }
        return """
            <section id="flagged">
            <h2>Flagged objects</h2>
            <p class="note">Showing \(objects.count) of \(summary.flagged) flagged objects, most fragile first.</p>
            <div class="objects">
            \(cards.joined(separator: "\n"))
            </div>
            </section>
            """
    }

    static func labelled(_ l: LabelledReport) -> String {
        """
        <section id="labelled">
        <h2>Accuracy and calibration</h2>
        <div class="cards"><div class="card"><div class="label">Accuracy</div><div class="value">\(Format.percent(l.accuracy, of: 1))</div>\
        <div class="detail">of labelled objects</div></div><div class="card"><div class="label">ECE</div>\
        <div class="value">\(Format.fixed(l.expectedCalibrationError))</div><div class="detail">expected calibration error</div></div></div>
        <h3>Confusion matrix</h3>
        \(confusion(l))
        <div class="pair">
        <div><h3>Reliability</h3><figure class="chart">\(Chart.reliability(l.reliability, ece: l.expectedCalibrationError))\
        <figcaption>Accuracy per confidence bin; on the dashed diagonal a model is calibrated. Numbers are objects per bin.</figcaption></figure></div>
        <div><h3>Error detection</h3>\(auroc(l.errorDetectionAUROC))</div>
        </div>
        </section>
        """
    }

    /// Rows the true class, columns the predicted one; a cell's shade is its share of the row, so a
    /// rare class's mistakes show as clearly as a common one's.
    static func confusion(_ l: LabelledReport) -> String {
        guard !l.classes.isEmpty else { return "<p class=\"note\">No labelled objects.</p>" }
        let head = l.classes.map { "<th class=\"predicted\">\(escapeHTML($0))</th>" }.joined()
        let rows = zip(l.classes, l.confusion).map { name, row in
            let total = row.reduce(0, +)
            let cells = zip(l.classes, row).map { predicted, n in
                let share = total > 0 ? Double(n) / Double(total) : 0
                let shade = String(format: "background:hsl(213,65%%,%.0f%%);color:%@", 98 - 58 * share, share > 0.5 ? "#ffffff" : "#1a1a1a")
                let diagonal = predicted == name ? " diagonal" : ""
                return "<td class=\"cell\(diagonal)\" style=\"\(shade)\" title=\"true \(escapeHTML(name)), predicted \(escapeHTML(predicted))\">\(n)</td>"
            }.joined()
            return "<tr><th class=\"true\">\(escapeHTML(name))</th>\(cells)<td class=\"num total\">\(total)</td></tr>"
        }
        return """
            <div class="scroll"><table class="confusion">
            <thead><tr><th class="corner">true ↓ predicted →</th>\(head)<th class="num">total</th></tr></thead>
            <tbody>
            \(rows.joined(separator: "\n"))
            </tbody>
            </table></div>
            """
    }

    /// Best separating indicator first; 0.5 is chance.
    static func auroc(_ values: [String: Double]) -> String {
        guard !values.isEmpty else { return "<p class=\"note\">No indicators were scored.</p>" }
        let sorted = values.sorted { a, b in
            let (x, y) = (a.value.isNaN ? -1 : a.value, b.value.isNaN ? -1 : b.value)
            return x != y ? x > y : a.key < b.key
        }
        let rows = sorted.map { "<tr><td>\(escapeHTML($0.key))</td><td class=\"num\">\(Format.fixed($0.value))</td></tr>" }
        return """
            <table class="auroc">
            <thead><tr><th>Indicator</th><th class="num">AUROC</th></tr></thead>
            <tbody>
            \(rows.joined(separator: "\n"))
            </tbody>
            </table>
            <p class="note">How well each indicator tells wrong predictions from right ones: 0.5 is chance, 1 perfect.</p>
            """
    }

    static let style = """
        :root { color-scheme: light; --ink: #1a1a1a; --muted: #5f6368; --line: #dadce0; --panel: #f6f7f9; }
        * { box-sizing: border-box; }
        body { margin: 0 auto; max-width: 1180px; padding: 24px 28px 40px; color: var(--ink); background: #ffffff;
               font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Liberation Sans", sans-serif;
               -webkit-print-color-adjust: exact; print-color-adjust: exact; }
        h1 { font-size: 26px; margin: 0 0 8px; }
        h2 { font-size: 20px; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
        h3 { font-size: 16px; margin: 20px 0 8px; }
        .meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; color: var(--muted); }
        .meta dt { font-weight: 600; }
        .meta dd { margin: 0; overflow-wrap: anywhere; }
        .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 12px; }
        .card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
        .card .label { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: 0.04em; }
        .card .value { font-size: 28px; font-weight: 600; }
        .card .detail { color: var(--muted); font-size: 13px; }
        figure { margin: 0; }
        figure.chart svg { max-width: 100%; height: auto; }
        figcaption { color: var(--muted); font-size: 13px; }
        svg text { font: 12px system-ui, "DejaVu Sans", sans-serif; fill: var(--ink); }
        svg .tick, svg .count { font-size: 11px; fill: var(--muted); }
        svg .note { fill: var(--muted); }
        svg .ece { font-size: 13px; font-weight: 600; }
        svg .axis, svg .grid, svg .diagonal { stroke: #9aa0a6; stroke-width: 1; }
        svg .grid { stroke: #eceef1; }
        svg .diagonal { stroke-dasharray: 5 4; stroke: #5f6368; }
        .banner { padding: 12px 16px; border-radius: 8px; border-left: 6px solid; margin-bottom: 14px; }
        .banner.same { background: #e7f5ea; border-color: #2e7d32; }
        .banner.differs { background: linear-gradient(90deg, #fff1dc, #fde3de); border-color: #c2410c; }
        table { border-collapse: collapse; font-size: 14px; }
        th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; }
        thead th { font-weight: 600; color: var(--muted); border-bottom: 2px solid var(--line); }
        .num { text-align: right; font-variant-numeric: tabular-nums; }
        tr.significant td { font-weight: 600; background: #fff6ec; }
        .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 16px; margin-top: 16px; }
        .charts figure { break-inside: avoid; }
        .objects { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 14px; align-items: start; }
        .object { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; break-inside: avoid; }
        .object .render svg { width: 100%; height: auto; display: block; }
        .object .path { font: 600 14px ui-monospace, "DejaVu Sans Mono", monospace; margin: 8px 0 4px; overflow-wrap: anywhere; }
        .object p { margin: 4px 0; }
        .truth.right strong { color: #2e7d32; }
        .truth.wrong strong { color: #c2410c; }
        .reasons { margin: 4px 0 0; padding-left: 20px; color: var(--muted); }
        .scroll { overflow-x: auto; }
        table.confusion td.cell { text-align: center; min-width: 44px; font-variant-numeric: tabular-nums; border: 1px solid #ffffff; }
        table.confusion td.diagonal { outline: 2px solid #1a1a1a; outline-offset: -2px; }
        table.confusion thead th { font-size: 12px; }
        table.confusion th.predicted { text-align: center; }
        table.confusion th.corner { font-weight: 400; }
        .pair { display: flex; flex-wrap: wrap; gap: 48px; align-items: flex-start; }
        .pair figure { max-width: 340px; }
        .note { color: var(--muted); }
        footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
        @media print {
          body { max-width: none; padding: 0; font-size: 12px; }
          section { break-before: auto; }
          h2, h3 { break-after: avoid; }
          .objects { grid-template-columns: 1fr 1fr; }
          .scroll { overflow: visible; }
        }
        """
}
