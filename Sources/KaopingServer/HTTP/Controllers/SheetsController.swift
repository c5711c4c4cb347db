import Foundation
import Hummingbird
import KaopingForms

/// Organisation evaluators fill a score sheet for each branch they are assigned: save a draft,
/// come back, submit. Submitted sheets can still be corrected until the round closes.
public struct SheetsController: Sendable {
    let sheets: SheetRepository
    let forms: FormRepository
    let views: Views
    let limits: SubmissionLimits

    public init(sheets: SheetRepository, forms: FormRepository, views: Views, limits: SubmissionLimits) {
        self.sheets = sheets
        self.forms = forms
        self.views = views
        self.limits = limits
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.sheets.route, use: index)
        router.get(SiteURL.sheet(round: SiteURL.roundParameter, branch: SiteURL.branchParameter).route, use: show)
        router.post(SiteURL.sheet(round: SiteURL.roundParameter, branch: SiteURL.branchParameter).route, use: save)
    }

    @Sendable func index(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let user = context.user else { throw AppError.forbidden }
        let assignments = try await sheets.assignments(userID: user.id)
        let notice = request.uri.queryParameters["saved"].map { saved in
            context.language.text(saved == "submit" ? "sheet_submitted" : "sheet_saved")
        }
        return try views.page("sheets", SheetsPage(assignments, notice: notice, language: context.language), context: context)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (round, code, target, form, user) = try await resolve(context)
        let stored = try await sheets.sheet(roundID: round, branchID: target.branchID, userID: user.id)
        let values = stored.map { ParsedSubmission(answers: [:], values: $0.values, problems: []) }
        return try render(
            form,
            round: round,
            code: code,
            branchName: target.branchName,
            open: target.roundOpen,
            submitted: values,
            status: stored?.status,
            httpStatus: .ok,
            context: context
        )
    }

    @Sendable func save(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (round, code, target, form, user) = try await resolve(context)
        guard target.roundOpen else { throw AppError(status: .forbidden, messageKey: "sheet_closed") }
        var request = request
        let data = try await request.formData(context: context)
        let submit = data["_action"] == "submit"
        var parsed: ParsedSubmission
        do {
            parsed = try form.parseSubmission(data.answerFields, limits: limits)
        } catch {
            throw AppError.malformedBody
        }
        // A draft may leave items empty; what it does contain must still be valid.
        if !submit { parsed.problems.removeAll { $0.problem == .required } }
        guard parsed.isValid else {
            let stored = try await sheets.sheet(roundID: round, branchID: target.branchID, userID: user.id)
            return try render(
                form,
                round: round,
                code: code,
                branchName: target.branchName,
                open: true,
                submitted: parsed,
                status: stored?.status,
                httpStatus: .unprocessableContent,
                context: context
            )
        }
        try await sheets.save(
            roundID: round,
            branchID: target.branchID,
            userID: user.id,
            formVersionID: target.formVersionID,
            form: form,
            answers: parsed.answers,
            submit: submit,
            logger: context.logger
        )
        return .seeOther(.sheets, ["saved": submit ? "submit" : "draft"])
    }

    private func resolve(
        _ context: AppRequestContext
    ) async throws
        -> (UUID, String, (formVersionID: UUID, branchID: UUID, branchName: String, roundOpen: Bool), FormDefinition, User)
    {
        guard let user = context.user,
            let round = context.parameters.get("round").flatMap(UUID.init(uuidString:)),
            let code = context.parameters.get("branch"),
            let target = try await sheets.target(roundID: round, branchCode: code, userID: user.id),
            let form = try await forms.definition(id: target.formVersionID)
        else { throw AppError.notFound }
        return (round, code, target, form, user)
    }

    private func render(
        _ form: FormDefinition,
        round: UUID,
        code: String,
        branchName: String,
        open: Bool,
        submitted: ParsedSubmission?,
        status: String?,
        httpStatus: HTTPResponse.Status,
        context: AppRequestContext
    ) throws -> Response {
        var page = FormView(form: form, language: context.language, limits: limits).page(submitted: submitted)
        page.action = SiteURL.sheet(round: round.lowercased, branch: code).path
        page.branchName = branchName
        page.sheetMode = open
        page.readOnly = !open
        page.sheetStatus = context.language.text("sheet_status_\(status ?? "none")")
        return try views.page("form", page, status: httpStatus, context: context)
    }
}
