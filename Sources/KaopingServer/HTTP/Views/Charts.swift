// Views: rendering Mustache templates from page models, charts as SVG, and the respondent's
// form; the page models themselves are in Pages/.

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

    /// One decimal, for coordinates. Written by hand because `String(format:)` is slow on
    /// Linux, and a scatter of a province's branches writes fifty thousand of them.
    static func format(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }
}

extension Charts {
    struct Point {
        /// The branch's name, written beside its point where it fits.
        let name: String
        /// Its code, written beside the point instead where the name does not fit.
        let code: String
        let x: Double
        let y: Double
        let link: String

        /// Shown on hover and read by screen readers.
        var label: String { "\(code) \(name)" }
    }

    /// Points on two 0–100 axes with dashed lines at `xLine` and `yLine`, the four quadrants
    /// named in their corners, and each point a link (its code and name shown on hover and to
    /// screen readers). Each point is named beside it where its name fits without covering
    /// another point, name or corner, by its code where only that fits, and otherwise only on
    /// hover and in the table below the chart; the more points, the smaller they are drawn.
    /// Drawn in black and grey, so that it prints.
    static func scatter(
        _ points: [Point],
        xLine: Double,
        yLine: Double,
        xLabel: String,
        yLabel: String,
        corners: (topRight: String, bottomRight: String, topLeft: String, bottomLeft: String),
        title: String
    ) -> String {
        let margin = 44.0
        let plot = 400.0
        let size = plot + margin * 2
        func x(_ value: Double) -> Double { margin + plot * min(max(value, 0), 100) / 100 }
        func y(_ value: Double) -> Double { margin + plot * (1 - min(max(value, 0), 100) / 100) }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" class="chart scatter" viewBox="0 0 \(Int(size)) \(Int(size))" \
            width="\(Int(size))" height="\(Int(size))" role="img" aria-label="\(HTMLEscape.escape(title))">
            """
        svg += "<title>\(HTMLEscape.escape(title))</title>"
        svg += "<rect x=\"\(margin)\" y=\"\(margin)\" width=\"\(plot)\" height=\"\(plot)\" fill=\"none\" stroke=\"#888\" stroke-width=\"0.5\"/>"
        for tick in stride(from: 0.0, through: 100.0, by: 25.0) {
            svg +=
                "<text x=\"\(format(x(tick)))\" y=\"\(format(size - margin + 16))\" font-size=\"10\" text-anchor=\"middle\" fill=\"#444\">\(Int(tick))</text>"
            svg +=
                "<text x=\"\(format(margin - 6))\" y=\"\(format(y(tick) + 3))\" font-size=\"10\" text-anchor=\"end\" fill=\"#444\">\(Int(tick))</text>"
        }
        let dashed = "stroke=\"#333\" stroke-width=\"1\" stroke-dasharray=\"4 3\""
        svg += "<line x1=\"\(format(x(xLine)))\" y1=\"\(margin)\" x2=\"\(format(x(xLine)))\" y2=\"\(margin + plot)\" \(dashed)/>"
        svg += "<line x1=\"\(margin)\" y1=\"\(format(y(yLine)))\" x2=\"\(margin + plot)\" y2=\"\(format(y(yLine)))\" \(dashed)/>"
        let cornerStyle = "font-size=\"12\" fill=\"#555\""
        let cornerWidth = { (text: String) in Labels.width(text, size: 12) }
        let cornerBoxes = [
            Labels.Box(x: margin + plot - 4 - cornerWidth(corners.topRight), y: margin + 3, width: cornerWidth(corners.topRight), height: 13),
            Labels.Box(
                x: margin + plot - 4 - cornerWidth(corners.bottomRight),
                y: margin + plot - 17,
                width: cornerWidth(corners.bottomRight),
                height: 13
            ),
            Labels.Box(x: margin + 4, y: margin + 3, width: cornerWidth(corners.topLeft), height: 13),
            Labels.Box(x: margin + 4, y: margin + plot - 17, width: cornerWidth(corners.bottomLeft), height: 13),
        ]
        svg +=
            "<text x=\"\(margin + plot - 4)\" y=\"\(margin + 14)\" text-anchor=\"end\" \(cornerStyle)>\(HTMLEscape.escape(corners.topRight))</text>"
        svg +=
            "<text x=\"\(margin + plot - 4)\" y=\"\(margin + plot - 6)\" text-anchor=\"end\" \(cornerStyle)>\(HTMLEscape.escape(corners.bottomRight))</text>"
        svg += "<text x=\"\(margin + 4)\" y=\"\(margin + 14)\" \(cornerStyle)>\(HTMLEscape.escape(corners.topLeft))</text>"
        svg += "<text x=\"\(margin + 4)\" y=\"\(margin + plot - 6)\" \(cornerStyle)>\(HTMLEscape.escape(corners.bottomLeft))</text>"
        svg +=
            "<text x=\"\(margin + plot / 2)\" y=\"\(size - 8)\" font-size=\"12\" text-anchor=\"middle\" fill=\"#111\">\(HTMLEscape.escape(xLabel))</text>"
        svg +=
            "<text x=\"14\" y=\"\(margin + plot / 2)\" font-size=\"12\" text-anchor=\"middle\" fill=\"#111\" transform=\"rotate(-90 14 \(margin + plot / 2))\">\(HTMLEscape.escape(yLabel))</text>"
        let radius = points.count > 300 ? 2.0 : points.count > 60 ? 3.0 : 4.0
        let centres = points.map { (x: x($0.x), y: y($0.y)) }
        let placed = Labels.place(
            centres,
            texts: points.map { [$0.name, $0.code] },
            radius: radius,
            within: Labels.Box(x: margin, y: margin, width: plot, height: plot),
            avoiding: cornerBoxes
        )
        for (index, point) in points.enumerated() {
            let centre = centres[index]
            svg +=
                "<a href=\"\(HTMLEscape.escape(point.link))\"><circle cx=\"\(format(centre.x))\" cy=\"\(format(centre.y))\" r=\"\(format(radius))\" fill=\"#111\">"
            svg += "<title>\(HTMLEscape.escape(point.label))</title></circle>"
            if let label = placed[index] {
                svg +=
                    "<text x=\"\(format(label.x))\" y=\"\(format(label.baseline))\" font-size=\"\(Int(Labels.size))\" fill=\"#222\"\(label.anchor)>\(HTMLEscape.escape(label.text))</text>"
            }
            svg += "</a>"
        }
        return svg + "</svg>"
    }

    /// Names beside the points of a scatter, none covering another or a point.
    enum Labels {
        static let size = 10.0

        struct Box {
            let x: Double
            let y: Double
            let width: Double
            let height: Double

            func overlaps(_ other: Box) -> Bool {
                x < other.x + other.width && other.x < x + width && y < other.y + other.height && other.y < y + height
            }

            func inside(_ other: Box) -> Bool {
                x >= other.x && y >= other.y && x + width <= other.x + other.width && y + height <= other.y + other.height
            }
        }

        struct Placed: Equatable {
            let text: String
            /// Where the text starts, or ends when `anchor` sets it so, and its baseline.
            let x: Double
            let baseline: Double
            /// An attribute to append to the text element (` text-anchor="…"`), or nothing.
            let anchor: String
            /// The box it covers.
            let left: Double
            let top: Double
            let width: Double
        }

        /// The width of `text` at `size`: a Chinese character is as wide as the font is high,
        /// a Latin letter or digit a little over half that.
        static func width(_ text: String, size: Double = size) -> Double {
            text.unicodeScalars.reduce(0) { sum, scalar in sum + (scalar.value >= 0x2E80 ? size : size * 3 / 5) }
        }

        /// A label for each point, or nil: each point's texts are tried in order (its name,
        /// then its code), each to the right of the point, to its left, above and below it; the
        /// first that stays `within` the box and covers no point, no label placed before and
        /// nothing `avoiding` is kept. Points with fewer neighbours are labelled first, so a
        /// crowd does not take the room of a point on its own; the order is otherwise the
        /// points' own, so the same data draws the same chart.
        static func place(
            _ centres: [(x: Double, y: Double)],
            texts: [[String]],
            radius: Double,
            within bounds: Box,
            avoiding fixed: [Box]
        ) -> [Placed?] {
            var grid = Grid()
            for (index, centre) in centres.enumerated() {
                grid.insert(Box(x: centre.x - radius, y: centre.y - radius, width: 2 * radius, height: 2 * radius), owner: index)
            }
            for box in fixed { grid.insert(box, owner: -1) }
            let near = 3 * size
            let crowding = centres.indices.map { index in
                let around = Box(x: centres[index].x - near, y: centres[index].y - near, width: 2 * near, height: 2 * near)
                return Set(grid.boxes(near: around).filter { $0.owner >= 0 && $0.owner != index && $0.box.overlaps(around) }.map(\.owner)).count
            }
            let order = centres.indices.sorted { (crowding[$0], $0) < (crowding[$1], $1) }
            var result = [Placed?](repeating: nil, count: centres.count)
            let gap = radius + 2
            for index in order {
                let (cx, cy) = centres[index]
                candidates: for text in texts[index] where !text.isEmpty {
                    let width = width(text)
                    let options = [
                        Placed(text: text, x: cx + gap, baseline: cy + 3.5, anchor: "", left: cx + gap, top: cy - size / 2, width: width),
                        Placed(
                            text: text,
                            x: cx - gap,
                            baseline: cy + 3.5,
                            anchor: " text-anchor=\"end\"",
                            left: cx - gap - width,
                            top: cy - size / 2,
                            width: width
                        ),
                        Placed(
                            text: text,
                            x: cx,
                            baseline: cy - gap - 2,
                            anchor: " text-anchor=\"middle\"",
                            left: cx - width / 2,
                            top: cy - gap - size,
                            width: width
                        ),
                        Placed(
                            text: text,
                            x: cx,
                            baseline: cy + gap + size - 2,
                            anchor: " text-anchor=\"middle\"",
                            left: cx - width / 2,
                            top: cy + gap,
                            width: width
                        ),
                    ]
                    for option in options {
                        let box = Box(x: option.left, y: option.top, width: option.width, height: size)
                        guard box.inside(bounds) else { continue }
                        if grid.boxes(near: box).contains(where: { $0.owner != index && $0.box.overlaps(box) }) { continue }
                        grid.insert(box, owner: -1)
                        result[index] = option
                        break candidates
                    }
                }
            }
            return result
        }

        /// Boxes filed by the 20-pixel squares they touch, so that a label is checked only
        /// against what is near it, even among thousands of points.
        struct Grid {
            static let cell = 20.0
            var cells: [Int: [(box: Box, owner: Int)]] = [:]

            static func keys(_ box: Box) -> [Int] {
                let left = Int((box.x / cell).rounded(.down))
                let right = Int(((box.x + box.width) / cell).rounded(.down))
                let top = Int((box.y / cell).rounded(.down))
                let bottom = Int(((box.y + box.height) / cell).rounded(.down))
                return (left...right).flatMap { column in (top...bottom).map { row in row * 10_000 + column } }
            }

            mutating func insert(_ box: Box, owner: Int) {
                for key in Self.keys(box) { cells[key, default: []].append((box, owner)) }
            }

            func boxes(near box: Box) -> [(box: Box, owner: Int)] {
                Self.keys(box).flatMap { cells[$0] ?? [] }
            }
        }
    }
}

extension Charts {
    /// One line of a line chart: a value per year, `nil` where there is none (the line breaks).
    struct Series {
        let name: String
        let values: [Double?]
    }

    /// Lines over the years on a 0–100 scale, the axis starting at the tens below the lowest
    /// value (so that a few points' change is visible; the axis says where it starts). Series are
    /// told apart without colour (solid, dashed, dotted lines; circle, square, triangle markers)
    /// so that the chart prints in grey; years marked in `marks` (a form that changed) get a
    /// dotted vertical line and a note.
    static func lines(_ series: [Series], years: [Int], marks: Set<Int> = [], markLabel: String = "", title: String) -> String {
        let left = 40.0
        let top = 16.0
        let plotWidth = max(Double(years.count - 1) * 110, 480)
        let plotHeight = 220.0
        let legendHeight = 18.0 * Double(series.count)
        let width = left + plotWidth + 40
        let height = top + plotHeight + 30 + legendHeight
        let lowest = series.flatMap { $0.values.compactMap { $0 } }.min() ?? 0
        let floor = max(((lowest - 5) / 10).rounded(.down) * 10, 0)
        let step = 100 - floor > 50 ? 20.0 : 10.0
        func x(_ index: Int) -> Double { years.count == 1 ? left + plotWidth / 2 : left + plotWidth * Double(index) / Double(years.count - 1) }
        func y(_ value: Double) -> Double { top + plotHeight * (1 - (min(max(value, floor), 100) - floor) / (100 - floor)) }
        let dashes = ["", " stroke-dasharray=\"6 4\"", " stroke-dasharray=\"2 3\"", " stroke-dasharray=\"8 3 2 3\""]
        /// A series' marker (circle, square, triangle), with its value for hover and screen readers.
        func marker(_ kind: Int, _ cx: Double, _ cy: Double, title: String? = nil) -> String {
            let label = title.map { "<title>\(HTMLEscape.escape($0))</title>" } ?? ""
            switch kind % 3 {
            case 0: return "<circle cx=\"\(format(cx))\" cy=\"\(format(cy))\" r=\"3.5\" fill=\"#111\">\(label)</circle>"
            case 1:
                return
                    "<rect x=\"\(format(cx - 3.5))\" y=\"\(format(cy - 3.5))\" width=\"7\" height=\"7\" fill=\"#fff\" stroke=\"#111\">\(label)</rect>"
            default:
                return
                    "<path d=\"M\(format(cx)) \(format(cy - 4.5)) L\(format(cx + 4)) \(format(cy + 3)) L\(format(cx - 4)) \(format(cy + 3)) Z\" fill=\"#555\">\(label)</path>"
            }
        }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" class="chart lines" viewBox="0 0 \(Int(width)) \(Int(height))" \
            width="\(Int(width))" height="\(Int(height))" role="img" aria-label="\(HTMLEscape.escape(title))">
            """
        svg += "<title>\(HTMLEscape.escape(title))</title>"
        for tick in stride(from: floor, through: 100.0, by: step) {
            svg +=
                "<line x1=\"\(left)\" y1=\"\(format(y(tick)))\" x2=\"\(format(left + plotWidth))\" y2=\"\(format(y(tick)))\" stroke=\"#ddd\" stroke-width=\"0.5\"/>"
            svg +=
                "<text x=\"\(format(left - 6))\" y=\"\(format(y(tick) + 3))\" font-size=\"10\" text-anchor=\"end\" fill=\"#444\">\(Int(tick))</text>"
        }
        for (index, year) in years.enumerated() {
            svg +=
                "<text x=\"\(format(x(index)))\" y=\"\(format(top + plotHeight + 16))\" font-size=\"11\" text-anchor=\"middle\" fill=\"#222\">\(year)</text>"
            if marks.contains(year) {
                svg +=
                    "<line x1=\"\(format(x(index)))\" y1=\"\(top)\" x2=\"\(format(x(index)))\" y2=\"\(top + plotHeight)\" stroke=\"#777\" stroke-dasharray=\"1 3\"/>"
                svg +=
                    "<text x=\"\(format(x(index) + 3))\" y=\"\(top + 10)\" font-size=\"10\" fill=\"#555\">\(HTMLEscape.escape(markLabel))</text>"
            }
        }
        for (number, line) in series.enumerated() {
            var path = ""
            var pen = false
            for (index, value) in line.values.enumerated() {
                guard let value else {
                    pen = false
                    continue
                }
                path += "\(pen ? "L" : "M")\(format(x(index))) \(format(y(value))) "
                pen = true
            }
            if !path.isEmpty {
                svg +=
                    "<path d=\"\(path.trimmingCharacters(in: .whitespaces))\" fill=\"none\" stroke=\"#111\" stroke-width=\"1.5\"\(dashes[number % dashes.count])/>"
            }
            for (index, value) in line.values.enumerated() {
                guard let value else { continue }
                svg += marker(number, x(index), y(value), title: "\(line.name) \(years[index])：\(format(value))")
            }
            let legendY = top + plotHeight + 34 + 18 * Double(number)
            svg +=
                "<line x1=\"\(left)\" y1=\"\(format(legendY - 4))\" x2=\"\(left + 30)\" y2=\"\(format(legendY - 4))\" stroke=\"#111\" stroke-width=\"1.5\"\(dashes[number % dashes.count])/>"
            svg += marker(number, left + 15, legendY - 4)
            svg += "<text x=\"\(left + 38)\" y=\"\(format(legendY))\" font-size=\"11\" fill=\"#111\">\(HTMLEscape.escape(line.name))</text>"
        }
        return svg + "</svg>"
    }
}
