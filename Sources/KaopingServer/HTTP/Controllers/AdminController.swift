import Hummingbird

/// The admin area's start page. A branch secretary (viewer) finds the rounds their branch
/// takes part in here, with a link to the branch's report.
public struct AdminController: Sendable {
    let views: Views
    let rounds: RoundRepository
    let results: ResultsRepository

    public init(views: Views, rounds: RoundRepository, results: ResultsRepository) {
        self.views = views
        self.rounds = rounds
        self.results = results
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.admin.route, use: home)
    }

    @Sendable func home(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard context.user?.role == .viewer, let branch = context.user?.branchID,
            let code = try await results.branchCode(id: branch)
        else {
            return try views.page("admin_home", HomePage.general, context: context)
        }
        let list = try await rounds.list(branchID: branch).filter(\.status.hasStarted)
        return try views.page("admin_home", HomePage(viewerOf: code, rounds: list, language: context.language), context: context)
    }
}
