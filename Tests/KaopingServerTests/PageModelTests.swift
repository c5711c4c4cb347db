import Foundation
import KaopingAggregation
import Testing

@testable import KaopingServer

/// Page models are pure functions of domain values and the language: these need no database
/// and no server.
@Suite("Page models")
struct PageModelTests {
    static let round = UUID()
    static let header = ResultsHeader(
        title: "2026 年度考评",
        provisional: true,
        standby: nil,
        computedAt: "2026-12-03 18:00",
        method: "v1",
        configHash: "abc",
        links: .init(round)
    )

    /// Three branches: b1 business 90 party 60 (ranks 1 and 3: gap +2), b2 80/90 (2 and 1: −1),
    /// b3 70/80 (3 and 2: −1); with three branches every gap of one rank or more is flagged.
    static func diagnostic() -> IntegrationDiagnostic? {
        IntegrationDiagnostic.make(
            subjects: [
                .init(code: "b1", name: "一支部", party: 60, memberDimensions: nil),
                .init(code: "b2", name: "二支部", party: 90, memberDimensions: nil),
                .init(code: "b3", name: "三支部", party: 80, memberDimensions: nil),
            ],
            business: ["b1": 90, "b2": 80, "b3": 70],
            lines: (nil, nil),
            dimensionKeys: []
        )
    }

    @Test func theIntegrationPageListsWhatTheDiagnosticHoldsUpToItsLimit() throws {
        let found = ResultsService.Diagnostic(year: 2026, diagnostic: Self.diagnostic(), memberForm: nil)
        let page = IntegrationPage.make(found, roundID: Self.round, header: Self.header, linesSet: false, listedAtMost: 2, language: .chinese)
        #expect(page.hasData)
        // The largest gap first, then the results' order; the page lists two of three.
        #expect(page.gaps.map(\.code) == ["b1", "b2"])
        #expect(page.gapsCut != nil)
        #expect(page.gaps.first?.gap == "+2" && page.gaps.first?.quadrant == "重业务轻党建")
        #expect(page.table.map(\.code) == ["b1", "b2"])  // two of three, in the results' order
        #expect(page.table.first?.cells == ["一支部", "90.00", "60.00", "1", "3", "2", "是", "重业务轻党建"])
        #expect(page.tableCut == "这里列出前 2 个支部，共 3 个；全部见 CSV。")
        #expect(page.table.first?.report == "/admin/rounds/\(Self.round.lowercased)/results/b1")
        let english = IntegrationPage.make(found, roundID: Self.round, header: Self.header, linesSet: false, listedAtMost: 3, language: .english)
        #expect(english.gaps.first?.quadrant == "Business over party building")
        #expect(english.tableCut == nil && english.gapsCut == nil)
    }

    @Test func withoutADiagnosticThePageSaysWhy() {
        let found = ResultsService.Diagnostic(year: 2026, diagnostic: nil, memberForm: nil)
        let page = IntegrationPage.make(found, roundID: Self.round, header: Self.header, linesSet: false, listedAtMost: 200, language: .chinese)
        #expect(!page.hasData && page.table.isEmpty)
        #expect(page.none?.contains("2026") == true)
    }
}
