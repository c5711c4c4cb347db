import Foundation
import Testing

@testable import KaopingServer

/// The scatter of party building beside business results names its points: each branch by its
/// name where that fits, by its code where only that fits, and no name ever covers another
/// name, another branch's point or a quadrant's name, with twelve branches or three hundred.
@Suite("Scatter labels")
struct ScatterLabelTests {
    typealias Box = Charts.Labels.Box
    static let plot = Box(x: 44, y: 44, width: 400, height: 400)

    static func box(_ label: Charts.Labels.Placed) -> Box {
        Box(x: label.left, y: label.top, width: label.width, height: Charts.Labels.size)
    }

    @Test func twelveBranchesApartAreEachNamed() {
        // A diagonal, 30 px apart each way: room beside every point.
        let centres: [(x: Double, y: Double)] = (0..<12).map { index in
            let step: Double = 30 * Double(index)
            return (x: 60 + step, y: 400 - step)
        }
        let texts = (1...12).map { ["第\($0)党支部", "d\($0)"] }
        let placed = Charts.Labels.place(centres, texts: texts, radius: 4, within: Self.plot, avoiding: [])
        #expect(placed.map { $0?.text } == texts.map { $0[0] })
        // The last, 54 px from the plot's right edge, is named on its left: 第12党支部 is 52 px wide.
        #expect(placed[11]?.anchor == " text-anchor=\"end\"")
        #expect(placed[0]?.anchor == "")
    }

    @Test func aNameThatDoesNotFitGivesWayToTheCode() {
        // 40 px of room: 办公室党支部 (60 px) fits nowhere, b01 (18 px) to the right.
        let placed = Charts.Labels.place(
            [(x: 10, y: 20)],
            texts: [["办公室党支部", "b01"]],
            radius: 4,
            within: Box(x: 0, y: 0, width: 40, height: 40),
            avoiding: []
        )
        #expect(placed == [Charts.Labels.Placed(text: "b01", x: 16, baseline: 23.5, anchor: "", left: 16, top: 15, width: 18)])
    }

    @Test func aQuadrantsNameIsNotCovered() {
        // The only room right of the point is taken by a corner's name: the label goes left.
        let corner = Box(x: 106, y: 90, width: 60, height: 20)
        let placed = Charts.Labels.place([(x: 100, y: 100)], texts: [["机关党支部"]], radius: 4, within: Self.plot, avoiding: [corner])
        #expect(placed.first??.anchor == " text-anchor=\"end\"")
    }

    @Test func threeHundredCrowdedBranchesNeverOverlap() {
        // Three hundred points in a 240 px square, as a province's branches crowd near the medians.
        var seed: UInt64 = 20_261_203
        func next() -> Double {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(seed >> 33) / Double(UInt64(1) << 31)
        }
        let centres: [(x: Double, y: Double)] = (0..<300).map { _ in
            let x: Double = 150 + 240 * next()
            let y: Double = 100 + 240 * next()
            return (x: x, y: y)
        }
        let texts = (0..<300).map { ["第\($0)党支部", "c\($0)"] }
        let radius = 3.0
        let placed = Charts.Labels.place(centres, texts: texts, radius: radius, within: Self.plot, avoiding: [])
        let labels = placed.enumerated().compactMap { index, label in label.map { (index, Self.box($0), $0.text) } }
        #expect(!labels.isEmpty, "some points are named even in a crowd")
        #expect(labels.count < 300, "not every point is named in a crowd this dense")
        for (index, box, text) in labels {
            #expect(texts[index].contains(text))
            #expect(box.inside(Self.plot))
            for (other, centre) in centres.enumerated() where other != index {
                let dot = Box(x: centre.x - radius, y: centre.y - radius, width: 2 * radius, height: 2 * radius)
                #expect(!box.overlaps(dot), "\(text) covers point \(other)")
            }
        }
        for (first, a) in labels.enumerated() {
            for b in labels[(first + 1)...] {
                #expect(!a.1.overlaps(b.1), "\(a.2) overlaps \(b.2)")
            }
        }
    }

    @Test func theChartWritesTheNameInsideThePointsLink() {
        let svg = Charts.scatter(
            [
                .init(name: "办公室党支部", code: "b01", x: 80, y: 90, link: "/admin/rounds/r/results/b01"),
                .init(name: "财务处党支部", code: "b02", x: 30, y: 20, link: "/admin/rounds/r/results/b02"),
            ],
            xLine: 50,
            yLine: 50,
            xLabel: "业务",
            yLabel: "党建",
            corners: ("融合共进", "重业务轻党建", "党建悬浮", "双弱"),
            title: "党建与业务"
        )
        #expect(svg.contains("<a href=\"/admin/rounds/r/results/b01\"><circle"))
        #expect(svg.contains("<title>b01 办公室党支部</title></circle><text"))
        #expect(svg.contains(">办公室党支部</text></a>"))
        #expect(svg.contains(">财务处党支部</text></a>"))
        #expect(svg.contains("r=\"4.0\""))
    }
}
