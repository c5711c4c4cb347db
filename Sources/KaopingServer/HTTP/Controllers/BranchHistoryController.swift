import Foundation
import Hummingbird
import KaopingForms

/// Each branch's record over the years and the committee's long-term qualitative assessments
/// (年度定量 + 长期定性, `docs/integration.md`), for administrators; a branch's secretary reads
/// their own branch's record, without the forms that write assessments.
public struct BranchHistoryController: Sendable {
    let history: BranchHistoryRepository
    let organisation: OrganisationRepository
    let forms: FormRepository
    let results: ResultsService
    let appraisals: AppraisalRepository
    let views: Views

    public init(services: KaopingServices, views: Views) {
        self.history = services.branchHistory
        self.organisation = services.organisation
        self.forms = services.forms
        self.results = services.results
        self.appraisals = services.appraisalRecords
        self.views = views
    }

    /// The record itself, for administrators and the branch's own secretary (the router's
    /// middleware decides who reads which branch).
    public func addReadingRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.branchHistory(SiteURL.code).route, use: page)
    }

    /// Writing the committee's assessments, for administrators.
    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post(SiteURL.branchAssessments(SiteURL.code).route, use: add)
        router.post(SiteURL.branchAssessment(SiteURL.code, id: SiteURL.id).route, use: edit)
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await render(request, context: context)
    }

    /// What the form held, read back into a draft.
    static func draft(_ form: FormData) -> BranchHistoryRepository.AssessmentDraft {
        BranchHistoryRepository.AssessmentDraft(
            firstYear: form["first_year"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) },
            lastYear: form["last_year"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) },
            level: form["level"].flatMap(BranchHistoryRepository.Level.init(rawValue:)),
            judgement: form["judgement"] ?? ""
        )
    }

    @Sendable func add(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let draft = Self.draft(try await request.formData(context: context))
        guard let code = context.parameters.get("code") else { throw AppError.notFound }
        guard draft.problems.isEmpty else {
            return try await render(request, context: context, draft: draft, status: .unprocessableContent)
        }
        guard try await history.save(draft, id: nil, code: code, actor: context.auditActor, logger: context.logger) else { throw AppError.notFound }
        return .seeOther(.branchHistory(code), ["saved": "1"])
    }

    @Sendable func edit(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let draft = Self.draft(try await request.formData(context: context))
        guard let code = context.parameters.get("code"), let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
            throw AppError.notFound
        }
        guard draft.problems.isEmpty else {
            return try await render(request, context: context, draft: draft, status: .unprocessableContent)
        }
        guard try await history.save(draft, id: id, code: code, actor: context.auditActor, logger: context.logger) else { throw AppError.notFound }
        return .seeOther(.branchHistory(code), ["saved": "1"])
    }

    private func render(
        _ request: Request,
        context: AppRequestContext,
        draft: BranchHistoryRepository.AssessmentDraft? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        guard let code = context.parameters.get("code"), let branch = try await organisation.branch(code: code) else {
            throw AppError.notFound
        }
        let record = try await results.branchRecord(code: code, logger: context.logger)
        var memberForm: FormDefinition?
        if let version = record.history.memberForm { memberForm = try await forms.definition(id: version) }
        // The lists read the bands of the newest closed round.
        let grades = try await results.history.grades(of: record.history.rounds.prefix(record.closedCount).last)
        // From the primary: the page an assessment is saved from comes back here, and must show it.
        let assessments = try await history.assessments(code: code)
        var page = BranchHistoryPage.make(
            code: code,
            name: branch.name,
            record: record,
            memberForm: memberForm,
            grades: grades,
            assessments: assessments,
            form: .init(draft: draft, saved: request.uri.queryParameters["saved"] != nil),
            currentYear: Calendar(identifier: .gregorian).dateComponents(in: ChinaTime.zone, from: .now).year ?? 2026,
            language: context.language
        )
        page.editable = context.user?.role == .admin
        page.showAppraisals(try await appraisals.branchRecord(code: code), language: context.language)
        return try views.page("branch_history", page, status: status, context: context)
    }
}
