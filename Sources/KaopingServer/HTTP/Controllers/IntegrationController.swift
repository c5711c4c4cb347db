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
        let (round, current) = try await results.roundAndResults(for: context)
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
        let (round, current) = try await results.roundAndResults(for: context)
        let sheet = try await results.integratedSheet(round, current, logger: context.logger)
        let parameters = request.uri.queryParameters
        let page = IntegratedSheetPage.make(
            sheet,
            roundID: round.id,
            performanceYear: round.performanceYear,
            settings: round.configuration.integrationSettings,
            header: ResultsHeader(round: round.summary, current: current),
            query: .init(
                branchPage: parameters["branches"].flatMap { Int($0) },
                unitPage: parameters["units"].flatMap { Int($0) },
                adopted: parameters["adopted"] != nil
            ),
            pageSize: Self.pageSize,
            language: context.language
        )
        return try views.page("integrated", page, context: context)
    }

    /// Freezes a closed round's integrated sheet again with the newest version of its year's
    /// performance results: a decision someone takes, so it is in the audit log.
    @Sendable func adoptPerformanceVersion(_ request: Request, context: AppRequestContext) async throws -> Response {
        let round = try context.resolvedRound()
        do {
            try await results.adoptNewestPerformanceVersion(round, actor: context.auditActor, logger: context.logger)
        } catch is RoundError {
            throw AppError.notFound
        }
        let id = round.id
        return .seeOther(.integratedSheet(id.lowercased), ["adopted": "1"])
    }
}
