import Foundation
import Hummingbird
import KaopingAggregation
import KaopingForms

/// Organisation evaluators fill a score sheet for each branch they are assigned: save a draft,
/// come back, submit. Submitted sheets can still be corrected until the round closes.
public struct SheetsController: Sendable {
    let sheets: SheetRepository
    let forms: FormRepository
    let rounds: RoundRepository
    let views: Views
    let limits: SubmissionLimits

    public init(sheets: SheetRepository, forms: FormRepository, rounds: RoundRepository, views: Views, limits: SubmissionLimits) {
        self.sheets = sheets
        self.forms = forms
        self.rounds = rounds
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
        var shown: ParsedSubmission?
        var notice: String?
        if let typed = stored?.draftValues, var parsed = try? form.parseSubmission(typed.map { ($0.key, $0.value) }, limits: limits) {
            // A draft saved with problems: shown as typed, the problems marked.
            parsed.problems.removeAll { $0.problem == .required }
            notice = context.language.text("sheet_draft_has_problems", ["n": parsed.problems.count])
            shown = parsed
        } else if let stored {
            shown = ParsedSubmission(
                answers: (try? form.parseSubmission(stored.values.map { ($0.key, $0.value) }, limits: limits))?.answers ?? [:],
                values: stored.values,
                problems: []
            )
        }
        return try await render(
            form,
            round: round,
            code: code,
            branchName: target.branchName,
            open: target.roundOpen,
            submitted: shown,
            status: stored?.status,
            notice: notice,
            httpStatus: .ok,
            user: user,
            context: context
        )
    }

    @Sendable func save(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (round, code, target, form, user) = try await resolve(context)
        guard target.roundOpen else { throw AppError(status: .forbidden, messageKey: "sheet_closed") }
        var request = request
        let data = try await request.formData(context: context)
        let stored = try await sheets.sheet(roundID: round, branchID: target.branchID, userID: user.id)
        // A submitted sheet counts in the results as it is: a change to it is checked as
        // strictly as a submission, never saved half-done.
        let submit = data["_action"] == "submit" || stored?.status == "submitted"
        var parsed: ParsedSubmission
        do {
            parsed = try form.parseSubmission(data.answerFields, limits: limits)
        } catch {
            throw AppError.malformedBody
        }
        // A draft may leave items empty.
        if !submit { parsed.problems.removeAll { $0.problem == .required } }
        func again(status: String?, notice: String?, httpStatus: HTTPResponse.Status) async throws -> Response {
            try await render(
                form,
                round: round,
                code: code,
                branchName: target.branchName,
                open: true,
                submitted: parsed,
                status: status,
                notice: notice,
                httpStatus: httpStatus,
                user: user,
                context: context
            )
        }
        if !parsed.isValid && submit {
            return try await again(status: stored?.status, notice: nil, httpStatus: .unprocessableContent)
        }
        // A draft with a value out of range or not a number is saved all the same: what is
        // right as entries, and everything as typed, shown again with the problems marked.
        try await sheets.save(
            roundID: round,
            branchID: target.branchID,
            userID: user.id,
            formVersionID: target.formVersionID,
            form: form,
            answers: parsed.answers,
            submit: submit,
            draftValues: parsed.isValid ? nil : parsed.values,
            logger: context.logger
        )
        if !parsed.isValid {
            let notice = context.language.text("sheet_draft_has_problems", ["n": parsed.problems.count])
            return try await again(status: "draft", notice: notice, httpStatus: .ok)
        }
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
        notice: String?,
        httpStatus: HTTPResponse.Status,
        user: User,
        context: AppRequestContext
    ) async throws -> Response {
        let language = context.language
        var page = FormView(form: form, language: language, limits: limits).page(submitted: submitted)
        page.action = SiteURL.sheet(round: round.lowercased, branch: code).path
        page.branchName = branchName
        page.sheetMode = open
        page.readOnly = !open
        page.sheetStatus = language.text("sheet_status_\(status ?? "none")")
        page.sheetSubmitted = status == "submitted"
        page.sheetNotice = notice
        let bonusCap = try await rounds.configuration(round)?.bonusCap ?? RoundConfiguration().bonusCap
        page.sheetTotal = Self.total(form, answers: submitted?.answers ?? [:], bonusCap: bonusCap, language: language)
        if open { page.script = "sheet-total.js" }
        let branches = try await sheets.assignedBranches(roundID: round, userID: user.id)
        if let index = branches.firstIndex(where: { $0.code == code }) {
            let link = { (branch: (code: String, name: String)) in
                SheetLink(link: SiteURL.sheet(round: round.lowercased, branch: branch.code).path, name: branch.name)
            }
            page.previousSheet = index > 0 ? link(branches[index - 1]) : nil
            page.nextSheet = index + 1 < branches.count ? link(branches[index + 1]) : nil
        }
        return try views.page("form", page, status: httpStatus, context: context)
    }

    /// The sheet's base score and bonus so far, from the values that are valid.
    static func total(_ form: FormDefinition, answers: [String: Answer], bonusCap: Double, language: Language) -> SheetTotal {
        let layout = ResultsRepository.layout(form)
        var input = SheetInput(evaluator: "")
        for item in form.items {
            switch answers[item.key] {
            case .points(let value, _) where item.type == .deduction: input.lost[item.key] = value
            case .points(let value, _) where item.type == .bonus: input.bonus[item.key] = value
            case .baseline(false, _): input.failedBaselines.insert(item.key)
            default: break
            }
        }
        let result = Aggregation.singleSheet(input, layout: layout, bonusCap: bonusCap)
        let lost = input.lost.values.reduce(0, +)
        return SheetTotal(
            text: language.text(
                "sheet_total_template",
                [
                    "lost": Shown.number(lost), "base": Shown.number(result.baseScore), "bonus": Shown.number(result.bonus),
                    "cap": Shown.number(bonusCap),
                ]
            ),
            bonusCap: FormView.format(bonusCap),
            deductionMaxima: FormView.format(layout.deductions.map(\.maximum).reduce(0, +))
        )
    }
}
