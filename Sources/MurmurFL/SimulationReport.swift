import Foundation

/// A self-contained HTML report of a run: a summary table and inline SVG line plots of test
/// accuracy and loss per round. No scripts, no external assets: it opens from disk anywhere.
public enum SimulationReport {
    /// The HTML page.
    public static func html(title: String, summary: [(String, String)], history: [RoundRecord]) -> String {
        let acc = history.compactMap { r in r.accuracy.map { (Double(r.round), $0 * 100) } }
        let loss = history.compactMap { r in r.loss.map { (Double(r.round), $0) } }
        let train = history.map { (Double($0.round), $0.trainLoss) }
        var rows = ""
        for (k, v) in summary { rows += "<tr><th>\(escape(k))</th><td>\(escape(v))</td></tr>\n" }
        var table = "<tr><th>round</th><th>accuracy</th><th>loss</th><th>train loss</th><th>clients</th><th>dropped</th><th>seconds</th></tr>\n"
        for r in history {
            table += "<tr><td>\(r.round)</td><td>\(r.accuracy.map { String(format: "%.2f %%", $0 * 100) } ?? "")</td>"
            table += "<td>\(r.loss.map { String(format: "%.4f", $0) } ?? "")</td><td>\(String(format: "%.4f", r.trainLoss))</td>"
            table += "<td>\(r.completed)/\(r.selected)</td><td>\(r.dropped + r.stragglers)</td><td>\(String(format: "%.3f", r.seconds))</td></tr>\n"
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}
            table{border-collapse:collapse;margin:1em 0}th,td{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}
            .plots{display:flex;flex-wrap:wrap;gap:1em}
            </style></head><body>
            <h1>\(escape(title))</h1>
            <table>\(rows)</table>
            <div class="plots">
            \(lineChart(title: "Test accuracy (%)", series: [("test accuracy", acc, "#1f77b4")]))
            \(lineChart(title: "Loss", series: [("test loss", loss, "#d62728"), ("train loss", train, "#ff7f0e")]))
            </div>
            <h2>Rounds</h2>
            <table>\(table)</table>
            </body></html>

            """
    }

    /// An SVG line chart with axes, ticks and a legend.
    public static func lineChart(title: String, series: [(String, [(Double, Double)], String)], width: Int = 460, height: Int = 300) -> String {
        let points = series.flatMap { $0.1 }
        let left = 56.0, right = 16.0, top = 28.0, bottom = 40.0
        let w = Double(width) - left - right, h = Double(height) - top - bottom
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">"
        svg += "<text x=\"\(width / 2)\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">\(escape(title))</text>"
        guard let minX = points.map(\.0).min(), let maxX = points.map(\.0).max(),
            let minY0 = points.map(\.1).min(), let maxY0 = points.map(\.1).max()
        else { return svg + "<text x=\"20\" y=\"60\">no data</text></svg>" }
        let padY = max((maxY0 - minY0) * 0.05, 1e-9)
        let minY = minY0 - padY, maxY = maxY0 + padY
        let sx = { (x: Double) in left + (maxX == minX ? w / 2 : (x - minX) / (maxX - minX) * w) }
        let sy = { (y: Double) in top + h - (y - minY) / (maxY - minY) * h }
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(w)\" height=\"\(h)\" fill=\"none\" stroke=\"#888\"/>"
        for i in 0...4 {
            let y = minY + (maxY - minY) * Double(i) / 4
            let py = sy(y)
            svg += "<line x1=\"\(left)\" y1=\"\(py)\" x2=\"\(left + w)\" y2=\"\(py)\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(py + 4)\" text-anchor=\"end\" font-size=\"11\">\(String(format: "%.3g", y))</text>"
            let x = minX + (maxX - minX) * Double(i) / 4
            svg += "<text x=\"\(sx(x))\" y=\"\(top + h + 16)\" text-anchor=\"middle\" font-size=\"11\">\(String(format: "%.0f", x))</text>"
        }
        svg += "<text x=\"\(left + w / 2)\" y=\"\(Double(height) - 6)\" text-anchor=\"middle\" font-size=\"12\">round</text>"
        for (i, (name, pts, color)) in series.enumerated() where !pts.isEmpty {
            let path = pts.map { String(format: "%.2f,%.2f", sx($0.0), sy($0.1)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>"
            let ly = top + 14 + Double(i) * 16
            svg += "<rect x=\"\(left + w - 114)\" y=\"\(ly - 12)\" width=\"110\" height=\"16\" fill=\"white\" fill-opacity=\"0.85\"/>"
            svg += "<line x1=\"\(left + w - 110)\" y1=\"\(ly - 4)\" x2=\"\(left + w - 92)\" y2=\"\(ly - 4)\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            svg += "<text x=\"\(left + w - 88)\" y=\"\(ly)\" font-size=\"11\">\(escape(name))</text>"
        }
        return svg + "</svg>"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
