import Foundation
import Hummingbird

/// A branch's report (printable, with a one- or two-page summary for the meeting): for
/// administrators, and for the branch's own secretary (`BranchAccessMiddleware`).
public struct BranchReportController: Sendable {
    let results: ResultsService
    let repository: ResultsRepository
    let history: BranchHistoryRepository
    let publicity: PublicityService
    let objections: ObjectionService
    let views: Views

    public init(services: KaopingServices, views: Views) {
        self.results = services.results
        self.repository = services.resultsRepository
        // Records are results: read where the results are (a standby, when there is one).
        self.history = services.results.history
        self.publicity = services.publicity
        self.objections = services.objections
        self.views = views
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.branchReport(SiteURL.id, branchCode: SiteURL.code).route, use: report)
    }

    @Sendable func report(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let code = context.parameters.get("code") else { throw AppError.notFound }
        let (round, current) = try await results.roundAndResults(for: context)
        guard let subject = current.result.subjects.first(where: { $0.code == code }) else { throw AppError.notFound }
        let forms = try await repository.groupForms(roundID: round.id)
        let details = try await repository.details(roundID: round.id, branchCode: code)
        let notes = try await repository.sheetNotes(roundID: round.id, branchCode: code).map { (item: $0.item, text: $0.text) }
        let diagnostic = try await results.diagnostic(round, current)
        let closedYears = try await history.years(code: code).years
        var page = BranchReportPage.make(
            subject,
            round: round.summary,
            configuration: round.configuration,
            header: ResultsHeader(round: round.summary, current: current),
            forms: forms,
            details: details,
            notes: notes,
            diagnostic: diagnostic,
            closedYears: closedYears,
            readByAdministrator: context.user?.role == .admin,
            summaryOnly: request.uri.queryParameters["view"] == "summary",
            language: context.language
        )
        let state = current.provisional ? nil : try await publicity.state(round.id)
        if let state {
            page.stageNote = BranchReportPage.stageNote(state, language: context.language)
            page.stageFinal = state.stage == .approved
        }
        if let user = context.user, user.role == .viewer, let state, state.startedAt != nil {
            let mine = try await objections.list(round: round.id, branchCode: code).filter { $0.filedBy == user.username }
            var objections = ReportObjections(
                state,
                mine: mine,
                action: SiteURL.branchObjections(round.id.lowercased, branchCode: code).path,
                submissionKey: RespondentController.newSubmissionKey(),
                language: context.language
            )
            let query = request.uri.queryParameters
            objections.notice = query["objection"].map { context.language.text("report_objection_filed", ["receipt": String($0)]) }
            objections.problem = query["objection_problem"].map { problem in
                problem == "closed"
                    ? context.language.text("publicity_public_ended")
                    : context.language.text("objection_problem_\(problem)", ["n": ObjectionDraft.longest])
            }
            page.objections = objections
        }
        return try views.page("result_branch", page, context: context)
    }
}
