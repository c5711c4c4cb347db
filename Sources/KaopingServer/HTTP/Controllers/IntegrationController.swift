import Foundation
import Hummingbird
import KaopingAggregation
import KaopingForms
import Logging

/// Party building read with business results: the two-skins diagnostic and the integrated
/// sheet the performance office asks for (docs/integration.md; their CSVs are downloads), and adopting a newer
/// version of the year's performance results for a closed round. Administrators only.
public struct IntegrationController: Sendable {
    let results: ResultsService
    let views: Views

    public init(services: KaopingServices, views: Views) {
        self.results = services.results
        self.views = views
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.integration(SiteURL.id).route, use: integration)
        router.get(SiteURL.integratedSheet(SiteURL.id).route, use: integratedSheet)
        router.post(SiteURL.integratedSheet(SiteURL.id).route, use: adoptPerformanceVersion)
    }

    static let pageSize = 200
    /// Lists within a page stop here; the downloads have everything.
    static let listedAtMost = 200

    /// A closed round's page, by its kept diagnostic and the language: a province's scatter and
    /// table take a few hundred milliseconds to build, and the whole committee opens the page.
    let pages = TimedCache<PageKey, IntegrationPage>(lifetime: .seconds(3600), capacity: 8)

    struct PageKey: Hashable, Sendable {
        let diagnostic: ResultsService.DiagnosticKey
        let language: Language
    }

    /// Party building beside business results: the two-skins diagnostic (docs/integration.md).
    /// The business scores are those of the round's year, newest version.
    @Sendable func integration(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (round, current) = try await results.requested(context)
        let id = round.id
        let diagnostic = try await results.diagnostic(round, current)
        let key = diagnostic.kept.map { PageKey(diagnostic: $0, language: context.language) }
        if let key, let page = pages.value(for: key) { return try views.page("integration", page, context: context) }
        let page = IntegrationPage.make(
            diagnostic,
            roundID: id,
            header: ResultsHeader(round: round.summary, current: current),
            linesSet: round.configuration.integrationSettings.businessLine != nil || round.configuration.integrationSettings.partyLine != nil,
            listedAtMost: Self.listedAtMost,
            language: context.language
        )
        if let key { pages.store(page, for: key) }
        return try views.page("integration", page, context: context)
    }

    /// The integrated sheet the performance office asks for (docs/integration.md).
    @Sendable func integratedSheet(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (round, current) = try await results.requested(context)
        let id = round.id
        let language = context.language
        let header = ResultsHeader(round: round.summary, current: current)
        let settings = round.configuration.integrationSettings
        let weight = Shown.number(settings.partyWeight)
        let sheet = try await results.integratedSheet(round, current, logger: context.logger)
        func row(_ row: IntegratedSheet.Row) -> IntegratedSheetPage.Row {
            IntegratedSheetPage.Row(
                code: row.code,
                name: row.name,
                branchCode: row.branchCode,
                branchName: row.branchName,
                business: Shown.score(row.businessScore),
                businessGrade: row.businessGrade ?? "–",
                party: Shown.score(row.partyScore),
                partyGrade: row.partyGrade ?? "–",
                integrated: Shown.score(row.integratedScore),
                integratedGrade: row.integratedGrade ?? "–",
                rank: row.rank.map(String.init) ?? "–",
                barred: row.awardsBarred,
                report: SiteURL.branchReport(id, branchCode: row.branchCode).path
            )
        }
        let year = sheet?.sheet.performanceYear ?? round.performanceYear
        // A province's sheet has tens of thousands of rows: the page shows them 200 at a time.
        func pages(_ count: Int) -> Int { max((count + Self.pageSize - 1) / Self.pageSize, 1) }
        let branchPage = min(max(request.uri.queryParameters["branches"].flatMap { Int($0) } ?? 1, 1), pages(sheet?.sheet.branches.count ?? 0))
        let unitPage = min(max(request.uri.queryParameters["units"].flatMap { Int($0) } ?? 1, 1), pages(sheet?.sheet.units.count ?? 0))
        func link(branch: Int, unit: Int) -> String {
            SiteURL.integratedSheet(id.lowercased).path([("branches", String(branch)), ("units", String(unit))])
        }
        let page = IntegratedSheetPage(
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
            adoptAction: SiteURL.integratedSheet(id.lowercased).path,
            adopted: request.uri.queryParameters["adopted"] != nil,
            branches: Self.byIntegratedRank(sheet?.sheet.branches ?? []).dropFirst((branchPage - 1) * Self.pageSize).prefix(Self.pageSize).map(row),
            branchPager: Pager(page: branchPage, pages: pages(sheet?.sheet.branches.count ?? 0)) { link(branch: $0, unit: unitPage) },
            units: Self.byIntegratedRank(sheet?.sheet.units ?? []).dropFirst((unitPage - 1) * Self.pageSize).prefix(Self.pageSize).map(row),
            unitPager: Pager(page: unitPage, pages: pages(sheet?.sheet.units.count ?? 0)) { link(branch: branchPage, unit: $0) },
            hasUnits: !(sheet?.sheet.units ?? []).isEmpty
        )
        return try views.page("integrated", page, context: context)
    }

    /// Freezes a closed round's integrated sheet again with the newest version of its year's
    /// performance results: a decision someone takes, so it is in the audit log.
    @Sendable func adoptPerformanceVersion(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.resolvedRound().id
        guard try context.resolvedRound().summary.status == .closed else { throw AppError.notFound }
        try await results.integratedSheets.freeze(
            roundID: id,
            version: nil,
            actor: context.auditActor,
            logger: context.logger
        )
        return .seeOther(.integratedSheet(id.lowercased), ["adopted": "1"])
    }

    /// Best integrated score first; rows without one last, in their order.
    static func byIntegratedRank(_ rows: [IntegratedSheet.Row]) -> [IntegratedSheet.Row] {
        rows.enumerated().sorted { ($0.element.rank ?? .max, $0.offset) < ($1.element.rank ?? .max, $1.offset) }.map(\.element)
    }
}
