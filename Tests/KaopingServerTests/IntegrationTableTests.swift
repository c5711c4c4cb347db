import Foundation
import KaopingAggregation
import Mustache
import Testing

@testable import KaopingServer

/// The table of every branch on the two-skins page: its figures are marked as such, column by
/// column, and set right-aligned; every table of the page scrolls in its own wrapper rather than
/// widening the page. Rendered from the bundled template, without a server.
@Suite("The two-skins page's tables")
struct IntegrationTableTests {
    static func page(_ language: Language) throws -> IntegrationPage {
        let found = ResultsService.Diagnostic(year: 2026, diagnostic: PageModelTests.diagnostic(), memberForm: nil)
        let page = IntegrationPage.make(
            found,
            roundID: PageModelTests.round,
            header: PageModelTests.header,
            linesSet: false,
            listedAtMost: 200,
            language: language
        )
        try #require(page.hasData)
        return page
    }

    /// The model and the language's texts, as the page frame gives them to the template.
    struct Rendered<Model>: MustacheParent {
        let model: Model
        let t: [String: String]

        func child(named name: String) -> Any? {
            if name == "t" { return t }
            guard let child = Mirror(reflecting: model).children.first(where: { $0.label == name }) else { return nil }
            let mirror = Mirror(reflecting: child.value)
            return mirror.displayStyle == .optional ? mirror.children.first?.value : child.value
        }
    }

    @Test(arguments: [Language.chinese, .english])
    func theFiguresColumnsAreMarkedAndTheirCellsWithThem(language: Language) throws {
        let page = try Self.page(language)
        // Code, name | business and party scores, both ranks, how far apart | flagged, quadrant.
        #expect(page.tableHeader.map(\.numeric) == [false, false, true, true, true, true, true, false, false])
        #expect(page.tableHeader.map(\.label) == DiagnosticTable.header(language))
        for row in page.table {
            // The cells after the code line up with the headings after the code's.
            #expect(row.values.map(\.numeric) == Array(page.tableHeader.dropFirst().map(\.numeric)))
        }
        #expect(page.table.first?.values.filter(\.numeric).map(\.text) == ["90.00", "60.00", "1", "3", "2"])
    }

    @Test func theTemplateSetsFiguresRightAndWrapsEveryTable() async throws {
        let views = try await Views()
        let page = try Self.page(.chinese)
        let html = try #require(views.library.render(Rendered(model: page, t: Language.chinese.strings), withTemplate: "integration"))
        #expect(html.contains(#"<th scope="col" class="num">\#(Language.chinese.text("col_business_score"))</th>"#))
        #expect(html.contains(#"<th scope="col">\#(Language.chinese.text("integration_col_quadrant"))</th>"#))
        // Each cell carries its column's heading, its label where a phone shows each branch as a card.
        func label(_ key: String) -> String { "data-label=\"\(Language.chinese.text(key))\"" }
        #expect(
            html.contains(
                #"<td \#(label("col_branch"))>一支部</td><td class="num" \#(label("col_business_score"))>90.00</td><td class="num" \#(label("col_party_score"))>60.00</td><td class="num" \#(label("integration_col_business_rank"))>1</td>"#
            )
        )
        #expect(
            html.contains(
                #"<td class="num" \#(label("integration_col_rank_distance"))>2</td><td \#(label("integration_col_flagged"))>是</td><td \#(label("integration_col_quadrant"))>重业务轻党建</td>"#
            )
        )
        // Each table inside a wrapper that scrolls it: none left to widen the page.
        // The coefficients, the largest gaps and every branch (no member dimensions here).
        let tables = html.components(separatedBy: "<table").count - 1
        #expect(tables == 3)
        #expect(html.components(separatedBy: "<div class=\"table-wrap\">\n  <table").count - 1 == tables)
    }
}
