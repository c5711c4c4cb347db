import Foundation
import Hummingbird
import KaopingAggregation

/// Publicity and sign-off for the administrators: a round's publicity page (the period, what
/// is published, the poster, the objections), the sign-off, reopening, each objection's
/// handling, and the working-day calendar.
public struct PublicityController: Sendable {
    let publicity: PublicityService
    let objections: ObjectionService
    let corrections: CorrectionService
    let views: Views
    let publicBaseURL: String

    public init(services: KaopingServices, views: Views, publicBaseURL: String) {
        self.publicity = services.publicity
        self.objections = services.objections
        self.corrections = services.corrections
        self.views = views
        self.publicBaseURL = publicBaseURL
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.roundAction(SiteURL.id, .publicity).route, use: show)
        router.post(SiteURL.roundAction(SiteURL.id, .publicity).route, use: set)
        router.get(SiteURL.publicityPoster(SiteURL.id).route, use: poster)
        router.get(SiteURL.roundAction(SiteURL.id, .approve).route, use: approvePage)
        router.post(SiteURL.roundAction(SiteURL.id, .approve).route, use: approve)
        router.post(SiteURL.roundAction(SiteURL.id, .reopenPublicity).route, use: reopen)
        router.post(SiteURL.roundAction(SiteURL.id, .corrections).route, use: correct)
        router.get(SiteURL.objection(SiteURL.id).route, use: objection)
        router.post(SiteURL.objectionAction(SiteURL.id, .assign).route, use: assign)
        router.post(SiteURL.objectionAction(SiteURL.id, .reply).route, use: reply)
        router.post(SiteURL.objectionAction(SiteURL.id, .decide).route, use: decide)
        router.get(SiteURL.calendar.route, use: calendar)
        router.post(SiteURL.calendar.route, use: enterYear)
    }

    private func state(_ context: AppRequestContext) async throws -> Publicity {
        let id = try RoundsController.roundID(context)
        guard let state = try await publicity.state(id), state.status != .cancelled else { throw AppError.notFound }
        return state
    }

    private func page(
        _ state: Publicity,
        notice: String? = nil,
        problem: String? = nil,
        status: HTTPResponse.Status = .ok,
        context: AppRequestContext
    ) async throws
        -> Response
    {
        let proposal = try await publicity.proposedPeriod(from: state.startsAt.map { max($0, .now) } ?? .now)
        var page = PublicityAdminPage(
            state,
            objections: try await objections.list(round: state.roundID),
            corrections: try await corrections.list(round: state.roundID),
            grades: try await publicity.grades(state.roundID),
            proposal: proposal,
            publicBaseURL: publicBaseURL,
            language: context.language
        )
        page.notice = notice
        page.problem = problem
        return try views.page("publicity", page, status: status, context: context)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let state = try await state(context)
        let query = request.uri.queryParameters
        let notice = ["set", "approved", "reopened", "corrected"].first { query[$0] != nil }.map { context.language.text("publicity_done_\($0)") }
        return try await page(state, notice: notice, context: context)
    }

    @Sendable func set(_ request: Request, context: AppRequestContext) async throws -> Response {
        let state = try await state(context)
        var request = request
        let form = try await request.formData(context: context)
        let language = context.language
        let startsText = (form["starts"] ?? "").trimmingCharacters(in: .whitespaces)
        let endsText = (form["ends"] ?? "").trimmingCharacters(in: .whitespaces)
        let starts = startsText.isEmpty ? nil : ChinaTime.parse(startsText)
        let ends = endsText.isEmpty ? nil : ChinaTime.parse(endsText)
        guard startsText.isEmpty || starts != nil, endsText.isEmpty || ends != nil else {
            return try await page(state, problem: language.text("rounds_bad_time"), status: .unprocessableContent, context: context)
        }
        let shows = PublicityShows(rawValue: form["shows"] ?? "") ?? .top
        do {
            try await publicity.publicise(
                state.roundID,
                startsAt: starts,
                endsAt: ends,
                shows: shows,
                actor: context.auditActor,
                logger: context.logger
            )
        } catch let error as PublicityError {
            return try await page(state, problem: error.message(language), status: .unprocessableContent, context: context)
        } catch let error as RoundError {
            return try await page(state, problem: error.message(language), status: .conflict, context: context)
        }
        return .seeOther(.roundAction(state.roundID, .publicity), ["set": "1"])
    }

    @Sendable func poster(_ request: Request, context: AppRequestContext) async throws -> Response {
        let state = try await state(context)
        guard let key = state.key, state.startedAt != nil else { throw AppError.notFound }
        let url = SiteURL.publicity(key: key).absolute(base: publicBaseURL)
        let base = LinkBase(publicBaseURL)
        let language = context.language
        let page = PosterPage(
            title: state.title,
            branch: language.text("publicity_poster_title"),
            url: url,
            qr: try QRCode.svg(url, title: state.title),
            linkBase: base.linkBase,
            linkBaseLocal: base.linkBaseLocal,
            heading: language.text("publicity_poster_heading"),
            instructions: language.text(
                "publicity_poster_instructions",
                ["period": state.startsAt.map(ChinaTime.format) ?? "", "end": state.endsAt.map(ChinaTime.format) ?? ""]
            )
        )
        return try views.page("poster", page, context: context)
    }

    private func approveModel(_ state: Publicity, context: AppRequestContext) async throws -> ApprovePage {
        let open = try await objections.list(round: state.roundID).filter { $0.decision == nil }
        return ApprovePage(state, open: open, today: CivilDay(.now, in: ChinaTime.zone).description, language: context.language)
    }

    @Sendable func approvePage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let state = try await state(context)
        guard state.stage == .ended else {
            let problem = state.stage == .approved ? nil : PublicityError.notEnded(endsAt: state.endsAt).message(context.language)
            return try await page(state, problem: problem, status: .conflict, context: context)
        }
        return try views.page("approve", try await approveModel(state, context: context), context: context)
    }

    @Sendable func approve(_ request: Request, context: AppRequestContext) async throws -> Response {
        let state = try await state(context)
        var request = request
        let form = try await request.formData(context: context)
        let language = context.language
        do {
            try await publicity.approve(
                state.roundID,
                reference: form["reference"] ?? "",
                meetingOn: form["meeting"] ?? "",
                confirmingOpenObjections: form["confirm_open"] == "yes",
                actor: context.auditActor,
                logger: context.logger
            )
        } catch let error as PublicityError {
            var page = try await approveModel(state, context: context)
            page.reference = form["reference"] ?? ""
            page.meetingOn = form["meeting"] ?? page.meetingOn
            page.problem = error.message(language)
            return try views.page("approve", page, status: .unprocessableContent, context: context)
        } catch let error as RoundError {
            return try await page(state, problem: error.message(language), status: .conflict, context: context)
        }
        return .seeOther(.roundAction(state.roundID, .publicity), ["approved": "1"])
    }

    @Sendable func reopen(_ request: Request, context: AppRequestContext) async throws -> Response {
        let state = try await state(context)
        var request = request
        let form = try await request.formData(context: context)
        let language = context.language
        guard let ends = ChinaTime.parse(form["ends"] ?? "") else {
            return try await page(state, problem: language.text("rounds_bad_time"), status: .unprocessableContent, context: context)
        }
        do {
            try await publicity.reopen(state.roundID, endsAt: ends, reason: form["reason"] ?? "", actor: context.auditActor, logger: context.logger)
        } catch let error as PublicityError {
            return try await page(state, problem: error.message(language), status: .unprocessableContent, context: context)
        } catch let error as RoundError {
            return try await page(state, problem: error.message(language), status: .conflict, context: context)
        }
        return .seeOther(.roundAction(state.roundID, .publicity), ["reopened": "1"])
    }

    // MARK: Corrections

    /// One correction from the page's forms: `kind` says which (sheet, ballot or grade).
    @Sendable func correct(_ request: Request, context: AppRequestContext) async throws -> Response {
        let state = try await state(context)
        var request = request
        let form = try await request.formData(context: context)
        let language = context.language
        let id = state.roundID
        let reason = form["reason"] ?? ""
        let (actor, logger) = (context.auditActor, context.logger)
        let branch = (form["branch"] ?? "").trimmingCharacters(in: .whitespaces)
        do {
            let receipt = (form["objection"] ?? "").trimmingCharacters(in: .whitespaces)
            let objection = receipt.isEmpty ? nil : try await corrections.objection(receipt: receipt, round: id)
            switch Correction.Kind(rawValue: form["kind"] ?? "") {
            case .sheet:
                let text = (form["value"] ?? "").trimmingCharacters(in: .whitespaces)
                let value: CorrectionService.SheetValue
                if let number = Double(text) {
                    value = .points(number)
                } else if ["yes", "是", "通过"].contains(text) {
                    value = .passed(true)
                } else if ["no", "否", "未通过"].contains(text) {
                    value = .passed(false)
                } else {
                    return try await page(state, problem: language.text("correction_problem_value"), status: .unprocessableContent, context: context)
                }
                _ = try await corrections.amendSheet(
                    round: id,
                    branchCode: branch,
                    evaluator: (form["evaluator"] ?? "").trimmingCharacters(in: .whitespaces),
                    item: (form["item"] ?? "").trimmingCharacters(in: .whitespaces),
                    value: value,
                    reason: reason,
                    objection: objection,
                    actor: actor,
                    logger: logger
                )
            case .ballot:
                guard let response = UUID(uuidString: (form["response"] ?? "").trimmingCharacters(in: .whitespaces)) else {
                    throw CorrectionService.Problem.noSuchBallot
                }
                _ = try await corrections.excludeBallot(
                    round: id,
                    response: response,
                    reason: reason,
                    objection: objection,
                    actor: actor,
                    logger: logger
                )
            case .grade:
                _ = try await corrections.decideGrade(
                    round: id,
                    branchCode: branch,
                    grade: form["grade"] ?? "",
                    reason: reason,
                    objection: objection,
                    actor: actor,
                    logger: logger
                )
            case nil:
                throw AppError.badRequest
            }
        } catch let problem as CorrectionService.Problem {
            return try await page(state, problem: problem.message(language), status: .unprocessableContent, context: context)
        } catch let error as RoundError {
            return try await page(state, problem: error.message(language), status: .conflict, context: context)
        }
        return .seeOther(.roundAction(id, .publicity), ["corrected": "1"])
    }

    // MARK: Objections

    private func objectionID(_ context: AppRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound }
        return id
    }

    private func objectionPage(
        _ id: UUID,
        notice: String? = nil,
        problem: String? = nil,
        status: HTTPResponse.Status = .ok,
        context: AppRequestContext
    )
        async throws -> Response
    {
        guard let objection = try await objections.objection(id), let state = try await publicity.state(objection.roundID) else {
            throw AppError.notFound
        }
        var page = ObjectionPage(objection, roundTitle: state.title, language: context.language)
        page.notice = notice
        page.problem = problem
        return try views.page("objection", page, status: status, context: context)
    }

    @Sendable func objection(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let notice = ["assigned", "replied", "decided"].first { query[$0] != nil }.map { context.language.text("objection_done_\($0)") }
        return try await objectionPage(try objectionID(context), notice: notice, context: context)
    }

    private func handle(_ context: AppRequestContext, done: String, _ step: (UUID) async throws -> Void) async throws -> Response {
        let id = try objectionID(context)
        do {
            try await step(id)
        } catch ObjectionService.HandlingProblem.notFound {
            throw AppError.notFound
        } catch let problem as ObjectionService.HandlingProblem {
            return try await objectionPage(id, problem: problem.message(context.language), status: .unprocessableContent, context: context)
        }
        return .seeOther(.objection(id), [done: "1"])
    }

    @Sendable func assign(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await request.formData(context: context)
        let username = (form["username"] ?? "").trimmingCharacters(in: .whitespaces)
        return try await handle(context, done: "assigned") { id in
            try await objections.assign(id, to: username, actor: context.auditActor, logger: context.logger)
        }
    }

    @Sendable func reply(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await request.formData(context: context)
        return try await handle(context, done: "replied") { id in
            try await objections.reply(id, text: form["reply"] ?? "", actor: context.auditActor, logger: context.logger)
        }
    }

    @Sendable func decide(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await request.formData(context: context)
        guard let decision = Objection.Decision(rawValue: form["decision"] ?? "") else { throw AppError.badRequest }
        return try await handle(context, done: "decided") { id in
            try await objections.decide(id, decision, reply: form["reply"], actor: context.auditActor, logger: context.logger)
        }
    }

    // MARK: Calendar

    private func calendarPage(
        year: String? = nil,
        text: String = "",
        problems: [String] = [],
        notice: String? = nil,
        status: HTTPResponse.Status = .ok,
        context: AppRequestContext
    )
        async throws -> Response
    {
        let thisYear = CivilDay(.now, in: ChinaTime.zone).year
        var page = CalendarPage(
            entered: try await publicity.calendar.entered(),
            merged: try await publicity.calendar.calendar(),
            nextYear: thisYear + 1,
            language: context.language
        )
        if let year { page.year = year }
        page.text = text
        page.problems = problems
        page.notice = notice
        return try views.page("calendar", page, status: status, context: context)
    }

    @Sendable func calendar(_ request: Request, context: AppRequestContext) async throws -> Response {
        let notice = request.uri.queryParameters["entered"].map { context.language.text("calendar_entered", ["year": String($0)]) }
        return try await calendarPage(notice: notice, context: context)
    }

    @Sendable func enterYear(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await request.formData(context: context)
        let language = context.language
        let yearText = (form["year"] ?? "").trimmingCharacters(in: .whitespaces)
        let text = (form["entries"] ?? "").replacingOccurrences(of: "\r\n", with: "\n")
        guard let year = Int(yearText), (2000...2100).contains(year) else {
            return try await calendarPage(
                year: yearText,
                text: text,
                problems: [language.text("calendar_problem_year")],
                status: .unprocessableContent,
                context: context
            )
        }
        do {
            try await publicity.enterCalendarYear(year, text: text, actor: context.auditActor, logger: context.logger)
        } catch let problem as PublicityService.CalendarYearProblem {
            return try await calendarPage(
                year: yearText,
                text: text,
                problems: problem.messages(year: year, language),
                status: .unprocessableContent,
                context: context
            )
        }
        return .seeOther(.calendar, ["entered": String(year)])
    }
}

extension CorrectionService.Problem {
    func message(_ language: Language) -> String {
        switch self {
        case .reasonRequired: language.text("round_error_reason_required")
        case .unknownBranch(let code): language.text("round_error_unknown_branches", ["codes": language.quotedList([code])])
        case .noSuchSheet: language.text("correction_problem_sheet")
        case .unknownItem(let item): language.text("correction_problem_item", ["item": item])
        case .valueOutOfRange(let item, let maximum): language.text("correction_problem_range", ["item": item, "max": String(format: "%g", maximum)])
        case .noSuchBallot: language.text("correction_problem_ballot")
        case .ballotExcludedAlready: language.text("correction_problem_excluded")
        case .unknownGrade(let grade): language.text("correction_problem_grade", ["grade": grade])
        case .unknownObjection(let receipt): language.text("correction_problem_objection", ["receipt": receipt ?? ""])
        }
    }
}

extension ObjectionService.HandlingProblem {
    func message(_ language: Language) -> String {
        switch self {
        case .notFound: language.text("error_404")
        case .unknownAdministrator(let name): language.text("objection_problem_assignee", ["name": name])
        case .replyMissing: language.text("objection_problem_reply_missing")
        case .replyTooLong: language.text("objection_problem_body-too-long", ["n": ObjectionDraft.longest])
        case .decided: language.text("objection_problem_decided")
        }
    }
}

extension PublicityService.CalendarYearProblem {
    func messages(year: Int, _ language: Language) -> [String] {
        switch self {
        case .empty: [language.text("calendar_problem_empty")]
        case .outsideYear(let lines): lines.map { language.text("calendar_problem_outside", ["line": $0, "year": year]) }
        case .unreadable(let problems):
            problems.map { language.text("calendar_problem_line", ["line": $0.line, "reason": $0.reason.text(language)]) }
        }
    }
}

extension WorkingDayCalendar.Reason {
    func text(_ language: Language) -> String {
        switch self {
        case .unreadableDate(let text): language.text("calendar_reason_date", ["text": text])
        case .unknownKind(let text): language.text("calendar_reason_kind", ["text": text])
        case .missingKind: language.text("calendar_reason_kind", ["text": ""])
        case .missingName: language.text("calendar_reason_name")
        case .rangeBackwards: language.text("calendar_reason_backwards")
        case .rangeAcrossYears: language.text("calendar_reason_across")
        case .repeatedDay(let day): language.text("calendar_reason_repeated", ["day": day.description])
        }
    }
}
