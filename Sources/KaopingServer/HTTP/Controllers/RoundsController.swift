import Foundation
import Hummingbird
import KaopingAggregation
import Logging

/// Rounds in the admin area: the list, a new round, and each round's schedule, groups and live
/// progress, with the buttons that open, close, extend and reopen it and assign its evaluators.
/// What is handed out to respondents (invitations, slips, posters, visit codes) is
/// `RoundHandoutController`'s.
public struct RoundsController: Sendable {
    let rounds: RoundRepository
    let roundService: RoundService
    let invitations: InvitationRepository
    let visitCodes: VisitCodeRepository
    let sheets: SheetRepository
    let views: Views
    let publicBaseURL: String

    public init(services: KaopingServices, views: Views, publicBaseURL: String) {
        self.rounds = services.roundRepository
        self.roundService = services.rounds
        self.invitations = services.invitations
        self.visitCodes = services.visitCodes
        self.sheets = services.sheets
        self.views = views
        self.publicBaseURL = publicBaseURL
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.rounds.route, use: index)
        router.get(SiteURL.newRound.route, use: newRound)
        router.post(SiteURL.rounds.route, use: create)
        router.get(SiteURL.round(SiteURL.id).route, use: show)
        router.post(SiteURL.roundAction(SiteURL.id, .reopen).route, use: reopen)
        // Opening and closing at once cannot be undone quietly: a page says what will happen first.
        router.get(SiteURL.roundAction(SiteURL.id, .open).route, use: confirmOpen)
        router.post(SiteURL.roundAction(SiteURL.id, .open).route, use: open)
        router.get(SiteURL.roundAction(SiteURL.id, .close).route, use: confirmClose)
        router.post(SiteURL.roundAction(SiteURL.id, .close).route, use: close)
        router.post(SiteURL.roundAction(SiteURL.id, .extend).route, use: extend)
        router.post(SiteURL.roundAction(SiteURL.id, .evaluators).route, use: assignEvaluator)
        router.post(SiteURL.roundAction(SiteURL.id, .removeEvaluator).route, use: removeEvaluator)
    }

    /// Branch codes typed in one field, separated by commas or spaces (Chinese commas too).
    static func codes(_ text: String?) -> [String] {
        (text ?? "").split(whereSeparator: { $0 == "," || $0 == "，" || $0 == " " || $0 == "、" }).map(String.init)
    }

    @Sendable func assignEvaluator(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try roundID(context)
        var request = request
        let form = try await request.formData(context: context)
        let username = (form["username"] ?? "").trimmingCharacters(in: .whitespaces)
        let codes = Self.codes(form["branches"])
        let assigned: Int
        do {
            assigned = try await roundService.assignEvaluator(
                round: id,
                username: username,
                branchCodes: codes,
                actor: context.auditActor,
                logger: context.logger
            )
        } catch let problem as AssignmentProblem {
            return .seeOther(.round(id), RoundPageProblem.assignment(problem).query)
        } catch let error as RoundError {
            return .seeOther(.round(id), RoundPageProblem.round(error).query)
        }
        // Assigning what was assigned already changes nothing, and the page says so (assigned=0).
        return .seeOther(.round(id), ["assigned": String(assigned)])
    }

    @Sendable func removeEvaluator(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try roundID(context)
        var request = request
        let form = try await request.formData(context: context)
        guard let userID = form["user"].flatMap(UUID.init(uuidString:)), let code = form["branch"], !code.isEmpty else { throw AppError.badRequest }
        let outcome = try await roundService.removeEvaluator(
            round: id,
            userID: userID,
            branchCode: code,
            discardingSubmitted: form["discard"] == "1",
            actor: context.auditActor,
            logger: context.logger
        )
        switch outcome {
        case .removed:
            return .seeOther(.round(id), ["unassigned": code])
        case .notAssigned:
            return .seeOther(.round(id), RoundPageProblem.notAssigned.query)
        case .roundClosed:
            return .seeOther(.round(id), RoundPageProblem.assignmentsFinal.query)
        case .submittedSheet:
            return .seeOther(.round(id), RoundPageProblem.sheetSubmitted(branchCode: code).query)
        }
    }

    @Sendable func index(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let showCancelled = query["cancelled"] == "all"
        let notice: String? =
            query["deleted"] != nil
            ? context.language.text("rounds_deleted") : query["cancelled"] == "1" ? context.language.text("rounds_cancelled") : nil
        let page = RoundsPage(try await rounds.list(), showingCancelled: showCancelled, notice: notice, language: context.language)
        return try views.page("rounds", page, context: context)
    }

    @Sendable func newRound(_ request: Request, context: AppRequestContext) async throws -> Response {
        let year = Calendar(identifier: .gregorian).dateComponents(in: ChinaTime.zone, from: .now).year ?? 2026
        return try roundForm(RoundForm.defaults(year: year), problems: [], status: .ok, context: context)
    }

    /// Creates a round from the page; every problem comes back on the page with what was typed.
    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = RoundForm(try await request.formData(context: context))
        let language = context.language
        let (draft, fieldProblems) = form.draft(language)
        guard let draft else { return try roundForm(form, problems: fieldProblems, context: context) }
        let spec: RoundSpec
        do {
            spec = try RoundSpec.build(draft)
        } catch {
            return try roundForm(form, problems: error.problems.map { $0.text(language) }, context: context)
        }
        do {
            let id = try await roundService.create(
                spec,
                acceptingWarnings: form.acceptsWarnings,
                actor: context.auditActor,
                logger: context.logger
            )
            return .seeOther(.round(id))
        } catch RoundError.needsConfirmation(let warnings) {
            return try roundForm(form, problems: [], warnings: warnings.map { $0.text(language) }, context: context)
        } catch let error as RoundError {
            return try roundForm(form, problems: [error.message(language)], context: context)
        }
    }

    private func roundForm(
        _ form: RoundForm,
        problems: [String],
        warnings: [String] = [],
        status: HTTPResponse.Status = .unprocessableContent,
        context: AppRequestContext
    ) throws -> Response {
        let page = NewRoundPage(form, forms: rounds.forms.forms, problems: problems, warnings: warnings, language: context.language)
        return try views.page("round_new", page, status: status, context: context)
    }

    @Sendable func reopen(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try roundID(context)
        var request = request
        let form = try await request.formData(context: context)
        let reason = (form["reason"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let closes = form["closes"].flatMap(ChinaTime.parse) else {
            return .seeOther(.round(id), RoundPageProblem.unreadableTime.query)
        }
        return try await act(id, context) {
            try await roundService.reopen(id, closesAt: closes, reason: reason, actor: context.auditActor, logger: context.logger)
        }
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try roundID(context)
        guard let round = try await rounds.round(id) else { throw AppError.notFound }
        // Large rounds (a province has tens of thousands of branches) are shown a page at a time.
        let pageSize = 200
        let pageNumber = max(request.uri.queryParameters["page"].flatMap { Int($0) } ?? 1, 1)
        let progress = try await rounds.progress(id, limit: pageSize, offset: (pageNumber - 1) * pageSize)
        let totals = try await rounds.progressTotals(id)
        let language = context.language
        let query = request.uri.queryParameters
        var notice: String?
        // Counts are read as numbers: the address cannot put words into a notice.
        let count = { (name: Substring) in query[name].flatMap { Int($0) } }
        if let made = count("visitCodes") { notice = language.text("visits_issued", ["n": made]) }
        if let changed = count("accessSet") { notice = language.text("visits_access_done", ["n": changed]) }
        if let changed = count("sharedSet") { notice = language.text("rounds_shared_done", ["n": changed]) }
        if let assigned = count("assigned") {
            notice = assigned == 0 ? language.text("rounds_assigned_none") : language.text("rounds_assigned", ["n": assigned])
        }
        if let issued = count("issued") { notice = language.text("rounds_issued", ["n": issued]) }
        if let code = query["unassigned"] { notice = language.text("rounds_unassigned", ["code": code]) }
        if query["edited"] != nil {
            let left = RoundsController.codes(query["left"].map(String.init))
            notice = left.isEmpty ? language.text("rounds_edited") : language.text("rounds_edited_left", ["codes": language.quotedList(left)])
        }
        if let joined = count("joined") {
            notice =
                joined == 0
                ? language.text("rounds_joined_none") : language.text("rounds_joined", ["n": joined, "issued": count("issued") ?? 0])
        }
        let page = RoundPage(
            round: round,
            progress: progress,
            totals: totals,
            page: pageNumber,
            pages: max((totals.branches + pageSize - 1) / pageSize, 1),
            pendingCount: try await invitations.pendingCount(roundID: id),
            batches: try await visitCodes.batches(roundID: id),
            linkBase: LinkBase(publicBaseURL),
            configuration: try await rounds.configuration(id) ?? RoundConfiguration(),
            assignments: try await sheets.assignments(roundID: id),
            deactivated: try await rounds.deactivatedBranches(id),
            outside: round.status.canAddBranches ? try await rounds.branchesOutside(id) : [],
            notice: notice,
            problem: RoundPageProblem(query: Self.values(query))?.message(language),
            language: language
        )
        return try views.page("round", page, context: context)
    }

    @Sendable func confirmOpen(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try roundID(context)
        guard let round = try await rounds.round(id) else { throw AppError.notFound }
        let language = context.language
        guard let closes = round.closesAt else {
            return .seeOther(.round(id), RoundPageProblem.round(.noClosingTime).query)
        }
        let lines = [
            language.text("rounds_confirm_open_1"), language.text("rounds_confirm_open_2"),
            language.text("rounds_confirm_open_3", ["time": ChinaTime.format(closes)]),
        ]
        return try confirmation(round, title: "rounds_confirm_open_title", lines: lines, button: "rounds_open_now", action: .open, context: context)
    }

    @Sendable func confirmClose(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try roundID(context)
        guard let round = try await rounds.round(id) else { throw AppError.notFound }
        let language = context.language
        let pending = try await invitations.pendingCount(roundID: id)
        let lines = [
            language.text("rounds_confirm_close_1", ["n": pending, "time": round.closesAt.map(ChinaTime.format) ?? "–"]),
            language.text("rounds_confirm_close_2"), language.text("rounds_confirm_close_3"),
        ]
        return try confirmation(
            round,
            title: "rounds_confirm_close_title",
            lines: lines,
            button: "rounds_close_now",
            action: .close,
            context: context
        )
    }

    private func confirmation(
        _ round: RoundSummary,
        title: String,
        lines: [String],
        button: String,
        action: SiteURL.RoundPageAction,
        context: AppRequestContext
    ) throws -> Response {
        let page = RoundConfirmPage(
            title: round.title,
            confirmTitle: context.language.text(title),
            confirmButton: context.language.text(button),
            lines: lines,
            action: SiteURL.roundAction(round.id, action).path,
            cancel: SiteURL.round(round.id).path
        )
        return try views.page("round_confirm", page, context: context)
    }

    @Sendable func open(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try roundID(context)
        guard try await isConfirmed(request, context) else { return .seeOther(.roundAction(id, .open)) }
        return try await act(id, context) { try await roundService.open(id, actor: context.auditActor, logger: context.logger) }
    }

    @Sendable func close(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try roundID(context)
        guard try await isConfirmed(request, context) else { return .seeOther(.roundAction(id, .close)) }
        return try await act(id, context) { _ = try await roundService.close(id, actor: context.auditActor, logger: context.logger) }
    }

    /// Whether the post came from the confirmation page (a bare post is sent there first).
    private func isConfirmed(_ request: Request, _ context: AppRequestContext) async throws -> Bool {
        var request = request
        return try await request.formData(context: context)["confirmed"] == "yes"
    }

    @Sendable func extend(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try roundID(context)
        var request = request
        let form = try await request.formData(context: context)
        guard let closes = form["closes"].flatMap(ChinaTime.parse) else {
            return .seeOther(.round(id), RoundPageProblem.unreadableTime.query)
        }
        return try await act(id, context) {
            try await roundService.extend(id, closesAt: closes, actor: context.auditActor, logger: context.logger)
        }
    }

    private func act(_ id: UUID, _ context: AppRequestContext, _ body: () async throws -> Void) async throws -> Response {
        do {
            try await body()
        } catch let error as RoundError {
            return .seeOther(.round(id), RoundPageProblem.round(error).query)
        }
        return .seeOther(.round(id))
    }

    /// The query's parameters as plain strings, the last of each name.
    static func values(_ query: Parameters) -> [String: String] {
        var values: [String: String] = [:]
        for (name, value) in query { values[String(name)] = String(value) }
        return values
    }

    private func roundID(_ context: AppRequestContext) throws -> UUID {
        try Self.roundID(context)
    }

    static func roundID(_ context: AppRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AppError.notFound }
        return id
    }
}
