import Foundation
import Hummingbird

/// The committee's pages of a whole round: the ranking, the diagnostics (agreement between
/// raters, straight-lining) and the watch lists. Administrators only; the round comes loaded by
/// `RoundResolverMiddleware`.
public struct RankingController: Sendable {
    let results: ResultsService
    let history: BranchHistoryRepository
    let views: Views

    public init(services: KaopingServices, views: Views) {
        self.results = services.results
        // Records are results: read where the results are (a standby, when there is one).
        self.history = services.results.history
        self.views = views
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.results(SiteURL.id).route, use: ranking)
        router.get(SiteURL.diagnostics(SiteURL.id).route, use: diagnostics)
        router.get(SiteURL.watchList(SiteURL.id).route, use: watchList)
    }

    static let pageSize = 200
    /// The diagnostics page lists this many straight-lined groups at most.
    static let listedAtMost = 200

    @Sendable func ranking(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (round, current) = try await results.roundAndResults(for: context)
        let parameters = request.uri.queryParameters
        let page = ResultsPage.make(
            current.result,
            configuration: round.configuration,
            forms: try await results.results.groupForms(roundID: round.id),
            roundID: round.id,
            header: ResultsHeader(round: round.summary, current: current),
            query: .init(
                organisation: parameters["org"].map(String.init),
                sort: parameters["sort"].map(String.init),
                page: parameters["page"].flatMap { Int($0) }
            ),
            pageSize: Self.pageSize,
            language: context.language
        )
        return try views.page("results", page, context: context)
    }

    @Sendable func diagnostics(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (round, current) = try await results.roundAndResults(for: context)
        let page = DiagnosticsPage.make(
            current.result,
            configuration: round.configuration,
            roundID: round.id,
            header: ResultsHeader(round: round.summary, current: current),
            listedAtMost: Self.listedAtMost,
            language: context.language
        )
        return try views.page("diagnostics", page, context: context)
    }

    /// The committee's lists: candidates for rectification and for commendation, by the
    /// closed rounds up to this round's year.
    @Sendable func watchList(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (round, current) = try await results.roundAndResults(for: context)
        let listed = try await history.watchList(
            upToYear: round.summary.year,
            codes: Set(current.result.subjects.map(\.code)),
            grades: round.configuration.bands.map(\.grade)
        )
        let page = WatchListPage.make(
            listed: listed,
            subjects: current.result.subjects,
            configuration: round.configuration,
            year: round.summary.year,
            header: ResultsHeader(round: round.summary, current: current),
            language: context.language
        )
        return try views.page("watch", page, context: context)
    }
}
