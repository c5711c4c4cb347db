import Foundation

/// Charts drawn on the server as inline SVG: no JavaScript, sharp in print, and readable in
/// grey-scale (values are written beside the bars, not told apart by colour).
enum Charts {
    struct Bar {
        let label: String
        let value: Double?
        /// An interval drawn as a whisker over the bar (e.g. a 95% confidence interval).
        var low: Double? = nil
        var high: Double? = nil
    }

    /// Horizontal bars on a 0–100 scale, one row per bar.
    static func bars(_ bars: [Bar], title: String) -> String {
        let labelWidth = 150.0
        let plotWidth = 300.0
        let valueWidth = 60.0
        let row = 28.0
        let width = labelWidth + plotWidth + valueWidth
        let height = row * Double(bars.count) + 24
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 \(Int(width)) \(Int(height))" \
            width="\(Int(width))" height="\(Int(height))" role="img" aria-label="\(HTMLEscape.escape(title))">
            """
        svg += "<title>\(HTMLEscape.escape(title))</title>"
        for tick in stride(from: 0.0, through: 100.0, by: 25.0) {
            let x = labelWidth + plotWidth * tick / 100
            svg += "<line x1=\"\(x)\" y1=\"0\" x2=\"\(x)\" y2=\"\(height - 20)\" stroke=\"#bbb\" stroke-width=\"0.5\"/>"
            svg += "<text x=\"\(x)\" y=\"\(height - 6)\" font-size=\"10\" text-anchor=\"middle\" fill=\"#444\">\(Int(tick))</text>"
        }
        for (index, bar) in bars.enumerated() {
            let y = Double(index) * row
            svg +=
                "<text x=\"\(labelWidth - 8)\" y=\"\(y + 18)\" font-size=\"12\" text-anchor=\"end\" fill=\"#111\">\(HTMLEscape.escape(bar.label))</text>"
            guard let value = bar.value else {
                svg += "<text x=\"\(labelWidth + 4)\" y=\"\(y + 18)\" font-size=\"12\" fill=\"#444\">–</text>"
                continue
            }
            let length = plotWidth * min(max(value, 0), 100) / 100
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 6)\" width=\"\(format(length))\" height=\"16\" fill=\"#555\"/>"
            if let low = bar.low, let high = bar.high {
                let x1 = labelWidth + plotWidth * min(max(low, 0), 100) / 100
                let x2 = labelWidth + plotWidth * min(max(high, 0), 100) / 100
                svg += "<line x1=\"\(format(x1))\" y1=\"\(y + 14)\" x2=\"\(format(x2))\" y2=\"\(y + 14)\" stroke=\"#000\" stroke-width=\"1.5\"/>"
                for x in [x1, x2] {
                    svg += "<line x1=\"\(format(x))\" y1=\"\(y + 9)\" x2=\"\(format(x))\" y2=\"\(y + 19)\" stroke=\"#000\" stroke-width=\"1.5\"/>"
                }
            }
            svg += "<text x=\"\(labelWidth + plotWidth + 6)\" y=\"\(y + 18)\" font-size=\"12\" fill=\"#111\">\(String(format: "%.2f", value))</text>"
        }
        return svg + "</svg>"
    }

    private static func format(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
