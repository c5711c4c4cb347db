import Hummingbird

/// The admin area's start page, with each role's work: administrators the running rounds and
/// what they still need, evaluators the sheets left to fill, a branch secretary (viewer) the
/// rounds their branch takes part in with a link to the branch's report.
public struct AdminController: Sendable {
    let views: Views
    let rounds: RoundRepository
    let organisation: OrganisationRepository
    let sheets: SheetRepository
    let appraisals: AppraisalRepository

    public init(views: Views, rounds: RoundRepository, organisation: OrganisationRepository, sheets: SheetRepository, appraisals: AppraisalRepository)
    {
        self.views = views
        self.rounds = rounds
        self.organisation = organisation
        self.sheets = sheets
        self.appraisals = appraisals
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.admin.route, use: home)
    }

    @Sendable func home(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let user = context.user else { throw AppError.forbidden }
        let language = context.language
        switch user.role {
        case .viewer:
            guard let branch = user.branchID, let code = try await organisation.branchCode(id: branch) else {
                return try views.page("admin_home", HomePage(), context: context)
            }
            let list = try await rounds.list(branchID: branch).filter(\.status.hasStarted)
            let appraisals = try await appraisals.rounds(branchID: branch)
            return try views.page("admin_home", HomePage(viewerOf: code, rounds: list, appraisals: appraisals, language: language), context: context)
        case .evaluator:
            let assigned = try await sheets.assignments(userID: user.id).filter(\.roundOpen)
            return try views.page("admin_home", HomePage(evaluatorWith: assigned, language: language), context: context)
        case .admin:
            return try views.page("admin_home", HomePage(administratorWith: try await rounds.agenda(), language: language), context: context)
        }
    }
}
