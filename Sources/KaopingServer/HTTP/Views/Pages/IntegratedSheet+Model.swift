import Foundation
import KaopingAggregation

/// The integrated sheet for the performance office: units and branches with their business,
/// party-building and integrated results, and whether awards are barred.
struct IntegratedSheetPage: PageModel {
    struct Row {
        let code: String
        let name: String
        let branchCode: String
        let branchName: String
        let business: String
        /// The performance office's grade as imported (units only).
        let businessGrade: String
        /// The business score by the round's bands.
        let businessBandGrade: String
        let party: String
        let partyGrade: String
        let integrated: String
        let integratedGrade: String
        let rank: String
        let barred: Bool
        let report: String
    }

    let header: ResultsHeader
    let intro: String
    let formula: String
    let none: String?
    let hasSheet: Bool
    let frozen: Bool
    let newer: String?
    let adopt: String?
    let adoptAction: String
    let adopted: Bool
    let branches: [Row]
    let branchPager: Pager?
    let units: [Row]
    let unitPager: Pager?
    let hasUnits: Bool
}

extension IntegratedSheetPage {
    /// The pages of the two lists the reader asked for (from 1) and whether they have just
    /// adopted a newer version.
    struct Query: Equatable {
        var branchPage: Int?
        var unitPage: Int?
        var adopted: Bool = false
    }

    /// The round's integrated sheet in `language`, each list `pageSize` rows a page, best
    /// integrated score first; `sheet` is `nil` while the year has no performance results, and
    /// `performanceYear` is then the year the round reads.
    static func make(
        _ sheet: CurrentIntegratedSheet?,
        roundID: UUID,
        performanceYear: Int,
        settings: IntegrationSettings,
        header: ResultsHeader,
        query: Query,
        pageSize: Int,
        language: Language
    ) -> IntegratedSheetPage {
        let weight = FigureText.number(settings.partyWeight)
        let year = sheet?.sheet.performanceYear ?? performanceYear
        let branches = sheet?.sheet.branches ?? []
        let units = sheet?.sheet.units ?? []
        // A province's sheet has tens of thousands of rows: the page shows them a page at a time.
        func pages(_ count: Int) -> Int { max((count + pageSize - 1) / pageSize, 1) }
        let branchPage = min(max(query.branchPage ?? 1, 1), pages(branches.count))
        let unitPage = min(max(query.unitPage ?? 1, 1), pages(units.count))
        func link(branch: Int, unit: Int) -> String {
            SiteURL.integratedSheet(roundID.lowercased).path([("branches", String(branch)), ("units", String(unit))])
        }
        func shown(_ rows: [IntegratedSheet.Row], page: Int) -> [Row] {
            byIntegratedRank(rows).dropFirst((page - 1) * pageSize).prefix(pageSize).map { row($0, roundID: roundID) }
        }
        return IntegratedSheetPage(
            header: header,
            intro: language.text(
                "integrated_intro",
                ["year": year, "version": sheet?.sheet.performanceVersion.map(String.init) ?? "–", "weight": weight]
            ),
            formula: language.text("integrated_formula", ["weight": weight]),
            none: sheet == nil ? language.text("integrated_none", ["year": year]) : nil,
            hasSheet: sheet != nil,
            frozen: sheet?.frozen ?? false,
            newer: sheet?.newerVersion.map { language.text("integrated_newer", ["year": year, "version": $0]) },
            adopt: sheet?.newerVersion.map { language.text("integrated_adopt", ["version": $0]) },
            adoptAction: SiteURL.integratedSheet(roundID.lowercased).path,
            adopted: query.adopted,
            branches: shown(branches, page: branchPage),
            branchPager: Pager(page: branchPage, pages: pages(branches.count)) { link(branch: $0, unit: unitPage) },
            units: shown(units, page: unitPage),
            unitPager: Pager(page: unitPage, pages: pages(units.count)) { link(branch: branchPage, unit: $0) },
            hasUnits: !units.isEmpty
        )
    }

    static func row(_ row: IntegratedSheet.Row, roundID: UUID) -> Row {
        Row(
            code: row.code,
            name: row.name,
            branchCode: row.branchCode,
            branchName: row.branchName,
            business: FigureText.score(row.businessScore),
            businessGrade: row.businessGrade ?? "–",
            businessBandGrade: row.businessBandGrade ?? "–",
            party: FigureText.score(row.partyScore),
            partyGrade: row.partyGrade ?? "–",
            integrated: FigureText.score(row.integratedScore),
            integratedGrade: row.integratedGrade ?? "–",
            rank: row.rank.map(String.init) ?? "–",
            barred: row.awardsBarred,
            report: SiteURL.branchReport(roundID, branchCode: row.branchCode).path
        )
    }

    /// Best integrated score first; rows without one last, in their order.
    static func byIntegratedRank(_ rows: [IntegratedSheet.Row]) -> [IntegratedSheet.Row] {
        rows.enumerated().sorted { ($0.element.rank ?? .max, $0.offset) < ($1.element.rank ?? .max, $1.offset) }.map(\.element)
    }
}
