import Foundation
import KaopingAggregation

/// The 党建与业务 page: the round's two-skins diagnostic as a person reads it (`docs/integration.md`):
/// the scatter of branches, how far the two orders agree, the branches whose ranks differ most,
/// which member dimension tracks the business results, and every branch in a table.
struct IntegrationPage: PageModel {
    struct Coefficient {
        let label: String
        let value: String
        let interval: String
        let n: Int
    }

    struct QuadrantCount {
        let name: String
        let count: Int
    }

    struct Gap {
        let code: String
        let name: String
        let partyRank: Int
        let businessRank: Int
        let gap: String
        let quadrant: String
        let report: String
    }

    struct Excluded {
        let code: String
        let name: String
    }

    let header: ResultsHeader
    let intro: String
    let none: String?
    let hasData: Bool
    let chart: String?
    let lines: String?
    let coefficients: [Coefficient]
    /// Why the correlation cannot be leaned on yet, each reason as it holds (none when it can).
    let cautions: [String]
    let quadrants: [QuadrantCount]
    let gaps: [Gap]
    let hasGaps: Bool
    /// "The 200 largest of 1,234", when there are more than the page lists.
    let gapsCut: String?
    let excluded: [Excluded]
    let hasExcluded: Bool
    let excludedCut: String?
    let dimensions: [Coefficient]
    let hasDimensions: Bool
    /// Every branch with both scores, in the results' order (`DiagnosticTable`), up to the
    /// page's limit; the CSV has them all.
    let tableHeader: [Heading]
    let table: [TableRow]
    let tableCut: String?

    /// A column's heading, and whether its cells are figures (set right-aligned, `num`).
    struct Heading {
        let label: String
        let numeric: Bool
    }

    struct Cell {
        let text: String
        /// In a column of figures.
        let numeric: Bool
        /// The column's heading, which labels the cell where a phone shows each row as a card.
        let label: String
    }

    struct TableRow {
        let code: String
        /// The heading of the code's column, the label of its cell on a phone.
        let codeLabel: String
        let report: String
        /// The cells after the code.
        let values: [Cell]

        /// Their text, as the CSV writes it.
        var cells: [String] { values.map(\.text) }
    }

    /// The page before the year's performance results are in.
    static func nothingYet(header: ResultsHeader, intro: String, none: String) -> IntegrationPage {
        IntegrationPage(
            header: header,
            intro: intro,
            none: none,
            hasData: false,
            chart: nil,
            lines: nil,
            coefficients: [],
            cautions: [],
            quadrants: [],
            gaps: [],
            hasGaps: false,
            gapsCut: nil,
            excluded: [],
            hasExcluded: false,
            excludedCut: nil,
            dimensions: [],
            hasDimensions: false,
            tableHeader: [],
            table: [],
            tableCut: nil
        )
    }
}

extension IntegrationPage {
    /// The page of a round's diagnostic, in `language`: a pure function of the diagnostic, so the
    /// same figures feed the page, the API and the downloads.
    static func make(
        _ found: ResultsService.Diagnostic,
        roundID: UUID,
        header: ResultsHeader,
        linesSet: Bool,
        listedAtMost: Int,
        language: Language
    ) -> IntegrationPage {
        let intro = language.text("integration_intro", ["year": found.year])
        guard let diagnostic = found.diagnostic else {
            return .nothingYet(header: header, intro: intro, none: language.text("integration_none", ["year": found.year]))
        }
        func coefficient(_ label: String, _ correlation: Integration.Correlation?) -> Coefficient? {
            guard let correlation else { return nil }
            let interval = correlation.low.map { "\(String(format: "%.2f", $0))–\(String(format: "%.2f", correlation.high ?? $0))" } ?? "–"
            return .init(label: label, value: String(format: "%.2f", correlation.coefficient), interval: interval, n: correlation.n)
        }
        let coefficients = [
            coefficient(language.text("integration_spearman"), diagnostic.spearman),
            coefficient(language.text("integration_pearson"), diagnostic.pearson),
        ].compactMap { $0 }
        let labels = Dictionary(
            (found.memberForm?.dimensions ?? []).map { ($0.key, $0.label.text(language)) },
            uniquingKeysWith: { first, _ in first }
        )
        let dimensions = diagnostic.dimensions.compactMap { dimension in coefficient(labels[dimension.key] ?? dimension.key, dimension.correlation) }
        let flagged = diagnostic.flagged
        let excluded = diagnostic.excluded
        let listed = diagnostic.branches.prefix(listedAtMost)
        let rows = listed.map { DiagnosticTable.row($0, language: language) }
        // A column holds figures when any of its cells is a number; its empty cells are set alike.
        let numeric = DiagnosticTable.header(language).indices.map { column in
            rows.contains { $0.indices.contains(column) && $0[column].isFigure }
        }
        return IntegrationPage(
            header: header,
            intro: intro,
            none: nil,
            hasData: true,
            chart: Charts.scatter(
                diagnostic.branches.map { branch in
                    Charts.Point(
                        name: branch.name,
                        code: branch.code,
                        x: branch.business,
                        y: branch.party,
                        link: SiteURL.branchReport(roundID, branchCode: branch.code).path
                    )
                },
                xLine: diagnostic.businessLine,
                yLine: diagnostic.partyLine,
                xLabel: language.text("integration_axis_business"),
                yLabel: language.text("integration_axis_party"),
                corners: (
                    language.text("quadrant_joined"), language.text("quadrant_businessOnly"), language.text("quadrant_partyOnly"),
                    language.text("quadrant_bothLow")
                ),
                title: language.text("integration_title")
            ),
            lines: language.text(
                linesSet ? "integration_lines_set" : "integration_lines",
                ["business": FigureText.score(diagnostic.businessLine), "party": FigureText.score(diagnostic.partyLine)]
            ),
            coefficients: coefficients,
            cautions: cautions(diagnostic.spearman, language: language),
            quadrants: Integration.Quadrant.allCases.map { kind in
                .init(name: language.text("quadrant_\(kind.rawValue)"), count: diagnostic.quadrantCounts[kind] ?? 0)
            },
            gaps: flagged.prefix(listedAtMost).map { branch in
                Gap(
                    code: branch.code,
                    name: branch.name,
                    partyRank: branch.standing.rank.partyRank,
                    businessRank: branch.standing.rank.businessRank,
                    gap: FigureText.signed(branch.standing.rank.gap),
                    quadrant: language.text("quadrant_\(branch.standing.quadrant.rawValue)"),
                    report: SiteURL.branchReport(roundID, branchCode: branch.code).path
                )
            },
            hasGaps: !flagged.isEmpty,
            gapsCut: flagged.count > listedAtMost ? language.text("integration_gaps_cut", ["shown": listedAtMost, "n": flagged.count]) : nil,
            excluded: excluded.prefix(listedAtMost).map { Excluded(code: $0.code, name: $0.name) },
            hasExcluded: !excluded.isEmpty,
            excludedCut: excluded.count > listedAtMost
                ? language.text("integration_excluded_cut", ["shown": listedAtMost, "n": excluded.count]) : nil,
            dimensions: dimensions,
            hasDimensions: !dimensions.isEmpty,
            tableHeader: zip(DiagnosticTable.header(language), numeric).map { Heading(label: $0, numeric: $1) },
            table: zip(listed, rows).map { branch, row in
                TableRow(
                    code: branch.code,
                    codeLabel: DiagnosticTable.header(language).first ?? "",
                    report: SiteURL.branchReport(roundID, branchCode: branch.code).path,
                    values: zip(row.dropFirst(), zip(numeric.dropFirst(), DiagnosticTable.header(language).dropFirst())).map {
                        Cell(text: $0.text, numeric: $1.0, label: $1.1)
                    }
                )
            },
            tableCut: diagnostic.branches.count > listedAtMost
                ? language.text("integration_table_cut", ["shown": listedAtMost, "n": diagnostic.branches.count]) : nil
        )
    }
}

extension TableCell {
    /// A number, set right-aligned on a page.
    fileprivate var isFigure: Bool {
        switch value {
        case .integer, .decimal, .number, .share: true
        case .text, .empty: false
        }
    }
}

extension IntegrationPage {
    /// Each reason the rank correlation cannot be leaned on, said as it holds: too few branches
    /// with both scores (with their number), an interval that includes 0, or no interval at all.
    static func cautions(_ spearman: Integration.Correlation?, language: Language) -> [String] {
        guard let spearman else { return [language.text("integration_caution_none")] }
        var reasons: [String] = []
        if spearman.tooFewPairs {
            reasons.append(language.text("integration_caution_few", ["n": spearman.n, "enough": Integration.Correlation.enoughPairs]))
        }
        switch spearman.intervalIncludesZero {
        case true?: reasons.append(language.text("integration_caution_zero"))
        case nil: reasons.append(language.text("integration_caution_no_interval"))
        case false?: break
        }
        return reasons
    }
}
