import Foundation
import Hummingbird
import KaopingAggregation
import KaopingForms

/// Organisation evaluators fill a score sheet for each branch they are assigned: save a draft,
/// come back, submit. Submitted sheets can still be corrected until the round closes.
public struct SheetsController: Sendable {
    let sheets: SheetRepository
    let scoreSheets: SheetService
    let rounds: RoundRepository
    let views: Views
    let limits: SubmissionLimits

    public init(services: KaopingServices, views: Views, limits: SubmissionLimits) {
        self.sheets = services.sheets
        self.scoreSheets = services.scoreSheets
        self.rounds = services.roundRepository
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
        let (target, user) = try await resolve(context)
        let opened = try await scoreSheets.opened(target, evaluator: user, limits: limits)
        return try await render(
            target,
            open: target.roundOpen,
            submitted: opened.submission,
            status: opened.status,
            notice: opened.draftProblems.map { context.language.text("sheet_draft_has_problems", ["n": $0]) },
            httpStatus: .ok,
            user: user,
            context: context
        )
    }

    @Sendable func save(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (target, user) = try await resolve(context)
        var request = request
        let data = try await request.formData(context: context)
        let outcome: SheetService.SaveOutcome
        do {
            outcome = try await scoreSheets.save(
                target,
                fields: data.answerFields,
                submitting: data["_action"] == "submit",
                evaluator: user,
                limits: limits,
                logger: context.logger
            )
        } catch SheetService.SaveProblem.closed {
            throw AppError(status: .forbidden, messageKey: "sheet_closed")
        } catch SheetService.SaveProblem.malformed {
            throw AppError.malformedBody
        }
        switch outcome {
        case .saved(let submitted):
            return .seeOther(.sheets, ["saved": submitted ? "submit" : "draft"])
        case .refused(let parsed, let status):
            return try await render(
                target,
                open: true,
                submitted: parsed,
                status: status,
                notice: nil,
                httpStatus: .unprocessableContent,
                user: user,
                context: context
            )
        case .savedWithProblems(let parsed):
            let notice = context.language.text("sheet_draft_has_problems", ["n": parsed.problems.count])
            return try await render(
                target,
                open: true,
                submitted: parsed,
                status: "draft",
                notice: notice,
                httpStatus: .ok,
                user: user,
                context: context
            )
        }
    }

    private func resolve(_ context: AppRequestContext) async throws -> (SheetService.Target, User) {
        guard let user = context.user,
            let round = context.parameters.get("round").flatMap(UUID.init(uuidString:)),
            let code = context.parameters.get("branch"),
            let target = try await scoreSheets.target(round: round, branchCode: code, evaluator: user)
        else { throw AppError.notFound }
        return (target, user)
    }

    private func render(
        _ target: SheetService.Target,
        open: Bool,
        submitted: ParsedSubmission?,
        status: String?,
        notice: String?,
        httpStatus: HTTPResponse.Status,
        user: User,
        context: AppRequestContext
    ) async throws -> Response {
        let (form, round, code) = (target.form, target.round, target.branchCode)
        let language = context.language
        var page = FormView(form: form, language: language, limits: limits).page(submitted: submitted)
        page.action = SiteURL.sheet(round: round.lowercased, branch: code).path
        page.branchName = target.branchName
        page.roundTitle = language.text("sheet_round", ["title": target.roundTitle, "year": String(target.roundYear)])
        page.sheetMode = open
        page.readOnly = !open
        page.sheetStatus = language.text("sheet_status_\(status ?? "none")")
        page.sheetSubmitted = status == "submitted"
        page.sheetNotice = notice
        // A notice is only given for a draft that was saved: its problems are listed as what is
        // left to correct, not as a submission that failed.
        page.draftSaved = notice != nil
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
                    "lost": FigureText.number(lost), "base": FigureText.number(result.baseScore), "bonus": FigureText.number(result.bonus),
                    "cap": FigureText.number(bonusCap),
                ]
            ),
            bonusCap: FormView.format(bonusCap),
            deductionMaxima: FormView.format(layout.deductions.map(\.maximum).reduce(0, +))
        )
    }
}
