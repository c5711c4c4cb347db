import Foundation
import Hummingbird
import KaopingForms
import Logging

/// The pages members and the public fill in: a form about one branch in one round, for one
/// rater group. Each rendered form carries a fresh submission key, so that a retried or
/// double-clicked post is stored once and answered with the same thank-you page.
public struct RespondentController: Sendable {
    let responses: ResponseRepository
    let forms: FormRepository
    let invitations: InvitationRepository
    let visitCodes: VisitCodeRepository
    /// A typed short code may be an appraisal link's.
    let appraisalLinks: AppraisalRepository?
    let views: Views
    let limits: SubmissionLimits
    let pages = PrerenderedPageCache()
    let publicRate: PublicRateLimiter
    /// Wrong short codes per address: ten an hour.
    let codeGuesses = PublicRateLimiter(limit: 10)
    let trustForwardedFor: Bool
    let cookies: CookiePolicy

    public init(
        responses: ResponseRepository,
        forms: FormRepository,
        invitations: InvitationRepository,
        visitCodes: VisitCodeRepository,
        appraisalLinks: AppraisalRepository? = nil,
        views: Views,
        limits: SubmissionLimits,
        publicAnswersPerHour: Int = 60,
        trustForwardedFor: Bool = false,
        cookies: CookiePolicy = CookiePolicy(secure: false)
    ) {
        self.publicRate = PublicRateLimiter(limit: publicAnswersPerHour)
        self.trustForwardedFor = trustForwardedFor
        self.cookies = cookies
        self.responses = responses
        self.forms = forms
        self.invitations = invitations
        self.visitCodes = visitCodes
        self.appraisalLinks = appraisalLinks
        self.views = views
        self.limits = limits
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        // A member's invitation link: anonymous once used, see docs/privacy.md.
        router.get(SiteURL.codeEntry.route, use: showCodeEntry)
        router.post(SiteURL.codeEntry.route, use: enterCode)
        router.get(SiteURL.invitation(token: SiteURL.token).route, use: show)
        router.post(SiteURL.invitation(token: SiteURL.token).route, use: submit)
        // A branch's public link, printed on the poster at the service window.
        router.get(SiteURL.publicLink(code: SiteURL.code).route, use: show)
        router.post(SiteURL.publicLink(code: SiteURL.code).route, use: submit)
        // A one-time visit code, handed to a person served at the window.
        router.get(SiteURL.visitCode(code: SiteURL.visit).route, use: show)
        router.post(SiteURL.visitCode(code: SiteURL.visit).route, use: submit)
    }

    // MARK: A short code typed in

    @Sendable func showCodeEntry(_ request: Request, context: AppRequestContext) async throws -> Response {
        try views.page("code_entry", CodeEntryPage(), context: context)
    }

    /// Leads a typed short code to its invitation. Wrong codes are counted per address and
    /// stop at ten an hour, which keeps guessing hopeless (see `InvitationTokens.shortCode`).
    @Sendable func enterCode(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await request.formData(context: context)
        let typed = (form["code"] ?? "").trimmingCharacters(in: .whitespaces)
        let guesses = "code|" + context.clientAddress(request, trustForwardedFor: trustForwardedFor)
        guard codeGuesses.wouldAllow(key: guesses) else {
            let page = CodeEntryPage(code: typed, problem: context.language.text("code_entry_throttled"))
            return try views.page("code_entry", page, status: .tooManyRequests, context: context)
        }
        if let token = try await invitations.token(shortCode: typed) {
            return .seeOther(.invitation(token: token))
        }
        if let token = try await appraisalLinks?.token(shortCode: typed) {
            return .seeOther(.appraisalLink(token: token))
        }
        _ = codeGuesses.allow(key: guesses)
        let page = CodeEntryPage(code: typed, problem: context.language.text("code_entry_unknown"))
        return try views.page("code_entry", page, status: .unprocessableContent, context: context)
    }

    // MARK: The forms

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let access = try await self.access(context)
        if case .usedInvitation = access { return try invitationUsed(context) }
        if case .usedVisitCode = access { return try visitCodeUsed(context) }
        if case .publicLink(_, let code, let sharedDevice) = access, hasAnswered(request, code: code) {
            // One answer per browser, unless the branch answers from a shared device (a tablet
            // in a service hall), where the next person may answer on the same one.
            if !sharedDevice { return try answeredAlready(status: .ok, context) }
            if request.uri.queryParameters["again"] == nil {
                let page = ClosedPage(
                    heading: context.language.text("respond_thanks_title"),
                    message: context.language.text("public_already"),
                    again: SiteURL.publicLink(code: code).path(["again": "1"])
                )
                return try views.page("closed", page, context: context)
            }
        }
        let target = access.target
        guard target.roundOpen else { return try await closed(target, context, submitting: false) }
        // The per-address limit, before anyone fills in a form that could not be stored.
        if case .publicLink = access,
            !publicRate.wouldAllow(address: context.clientAddress(request, trustForwardedFor: trustForwardedFor), branch: target.branchID)
        {
            return try await publicRefused(target, reason: "public_rate", status: .tooManyRequests, context: context)
        }
        let form = try await definition(target)
        // A fresh form is the same for everyone but for a few values: render it once per form
        // version and language, then fill in those values.
        let page = try pages.page("form/\(target.formVersionID)/\(context.language.rawValue)") {
            var page = FormView(form: form, language: context.language, limits: limits).page(submitted: nil)
            page.respondent(slots: true)
            return try views.render("form", page, context: context)
        }
        let html = page.fill([
            .csrf: context.csrfToken, .submissionKey: Self.newSubmissionKey(), .action: request.uri.path,
            .branchName: target.branchName, .roundTitle: target.roundTitle, .draftKey: request.uri.path,
            .deadline: Self.deadline(target, context.language) ?? "",
        ])
        var response = HTMLPage(html: html).response
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let access = try await self.access(context, submitting: true)
        let target = access.target
        guard target.roundOpen else { return try await closed(target, context, submitting: true) }
        let form = try await definition(target)
        var request = request
        let data = try await request.formData(context: context)
        guard let key = data["_key"], Self.isSubmissionKey(key), data.all("_key").count == 1 else { throw AppError.malformedBody }
        let parsed: ParsedSubmission
        do {
            parsed = try form.parseSubmission(data.answerFields, limits: limits)
        } catch {
            context.logger.debug("malformed submission", metadata: ["reason": "\(error)"])
            throw AppError.malformedBody
        }
        guard parsed.isValid else {
            return try render(
                form,
                target: target,
                submitted: parsed,
                key: key,
                path: request.uri.path,
                status: .unprocessableContent,
                context: context
            )
        }
        let record = SubmissionRecord(target: target, submissionKey: key, answers: parsed.answers, score: form.score(parsed.answers), form: form)
        let outcome: StoreOutcome
        do {
            switch access {
            case .publicLink(_, let code, let sharedDevice):
                let repeated = hasAnswered(request, code: code)
                if repeated && !sharedDevice { return try answeredAlready(status: .conflict, context) }
                let address = context.clientAddress(request, trustForwardedFor: trustForwardedFor)
                guard publicRate.allow(address: address, branch: target.branchID) else {
                    return try await publicRefused(target, reason: "public_rate", status: .tooManyRequests, context: context)
                }
                outcome = try await responses.storePublicBallot(record, fromRepeatedDevice: repeated, logger: context.logger)
                if outcome == .alreadyStored {
                    publicRate.refund(address: address, branch: target.branchID)
                }
            case .invitation(_, let token), .usedInvitation(_, let token):
                outcome = try await responses.storeBallot(record, invitationToken: token, logger: context.logger)
            case .visitCode(_, let code), .usedVisitCode(_, let code):
                outcome = try await responses.storeVisitBallot(record, visitCode: code, logger: context.logger)
            }
        } catch  where DatabaseFailure.isUnavailable(error) {
            // Nothing was stored (one statement, one transaction): give the person their answers
            // back with the same submission key, so that sending again later counts once.
            context.logger.warning("answers not stored: database unavailable", metadata: ["error": "\(error)"])
            return try render(
                form,
                target: target,
                submitted: parsed,
                key: key,
                path: request.uri.path,
                status: .serviceUnavailable,
                unavailable: true,
                context: context
            )
        }
        switch outcome {
        case .stored: break
        case .alreadyStored: context.logger.info("repeated submission answered without storing")
        case .roundClosed: return try await closed(target, context, submitting: true)
        case .invitationUsed:
            if case .visitCode = access { return try visitCodeUsed(context) }
            return try invitationUsed(context)
        case .capReached:
            return try await publicRefused(target, reason: "public_cap", status: .forbidden, context: context)
        }
        let page = try pages.page("thanks/\(target.formVersionID)/\(context.language.rawValue)") {
            let page = ThanksPage(message: form.thanks?.text(context.language) ?? context.language.text("thanks_default"))
            return try views.render("thanks", page, context: context)
        }
        var response = HTMLPage(html: page.fill([.csrf: context.csrfToken, .draftKey: request.uri.path])).response
        if case .publicLink(_, let code, _) = access {
            // A soft limit: this browser is told next time that it has answered already.
            response.setCookie(
                cookies.cookie(Self.answeredCookie(code), value: "1", maxAge: 90 * 24 * 3600, path: SiteURL.publicLink(code: code).path)
            )
        }
        return response
    }

    static func answeredCookie(_ code: String) -> String { "kp_answered_\(code)" }

    /// Whether this browser has answered the public link before (its cookie says so).
    private func hasAnswered(_ request: Request, code: String) -> Bool {
        request.cookies[cookies.name(Self.answeredCookie(code))] != nil
    }

    /// A second answer from one browser to a branch that takes one per device: thanked, not counted.
    private func answeredAlready(status: HTTPResponse.Status, _ context: AppRequestContext) throws -> Response {
        let page = ClosedPage(heading: context.language.text("respond_thanks_title"), message: context.language.text("public_one_per_device"))
        return try views.page("closed", page, status: status, context: context)
    }

    /// How the respondent arrived: through a member's invitation or a branch's public link.
    /// There is no other way in: every answer is an anonymous ballot (see docs/privacy.md).
    enum Access {
        case invitation(RespondentTarget, token: String)
        case usedInvitation(RespondentTarget, token: String)
        case publicLink(RespondentTarget, code: String, sharedDevice: Bool)
        case visitCode(RespondentTarget, code: String)
        case usedVisitCode(RespondentTarget, code: String)

        var target: RespondentTarget {
            switch self {
            case .invitation(let target, _), .usedInvitation(let target, _), .publicLink(let target, _, _),
                .visitCode(let target, _), .usedVisitCode(let target, _):
                target
            }
        }
    }

    private func access(_ context: AppRequestContext, submitting: Bool = false) async throws -> Access {
        if let code = context.parameters.get("code") {
            guard let found = try await responses.publicTarget(code: code) else { throw AppError.notFound }
            // This branch's window hands out visit codes instead of the open link.
            guard found.access.allowsLink else { throw AppError(status: .forbidden, messageKey: "public_codes_only") }
            return .publicLink(found.target, code: code, sharedDevice: found.sharedDevice)
        }
        if let code = context.parameters.get("visit") {
            guard let visit = try await visitCodes.resolve(code: code), visit.accepted,
                let target = try await responses.target(roundID: visit.roundID, group: .public, branchID: visit.branchID)
            else {
                throw AppError(status: .notFound, messageKey: "visit_code_unknown")
            }
            return visit.used ? .usedVisitCode(target, code: code) : .visitCode(target, code: code)
        }
        guard let token = context.parameters.get("token") else { throw AppError.notFound }
        let resolved = submitting ? try await invitations.resolveForSubmission(token: token) : try await invitations.resolve(token: token)
        guard let invitation = resolved,
            let target = try await responses.target(roundID: invitation.roundID, group: .members, branchID: invitation.branchID)
        else {
            throw AppError(status: .notFound, messageKey: "invitation_unknown")
        }
        return invitation.used ? .usedInvitation(target, token: token) : .invitation(target, token: token)
    }

    private func invitationUsed(_ context: AppRequestContext) throws -> Response {
        let page = ClosedPage(heading: context.language.text("respond_thanks_title"), message: context.language.text("invitation_used"))
        return try views.page("closed", page, status: .gone, context: context)
    }

    private func visitCodeUsed(_ context: AppRequestContext) throws -> Response {
        let page = ClosedPage(heading: context.language.text("respond_thanks_title"), message: context.language.text("visit_code_used"))
        return try views.page("closed", page, status: .gone, context: context)
    }

    /// A public answer turned away (too many from one address, or the branch's cap reached),
    /// counted for the round page; nothing about the person is kept.
    private func publicRefused(
        _ target: RespondentTarget,
        reason: String,
        status: HTTPResponse.Status,
        context: AppRequestContext
    ) async throws -> Response {
        try await responses.countPublicRefusal(roundID: target.roundID, branchID: target.branchID)
        let page = ClosedPage(heading: context.language.text("respond_closed_title"), message: context.language.text(reason))
        return try views.page("closed", page, status: status, context: context)
    }

    private func definition(_ target: RespondentTarget) async throws -> FormDefinition {
        guard let form = try await forms.definition(id: target.formVersionID) else { throw AppError.notFound }
        return form
    }

    /// Says when the round closed (or when it opens), in Beijing time, and stores nothing. Only
    /// someone who sent answers is told that they were not saved.
    private func closed(_ target: RespondentTarget, _ context: AppRequestContext, submitting: Bool) async throws -> Response {
        let schedule = try await responses.schedule(roundID: target.roundID)
        var message = context.language.text("respond_closed")
        if let opens = schedule.opensAt, opens > .now {
            message = context.language.text("respond_not_yet", ["time": ChinaTime.format(opens)])
        } else if let closed = schedule.closedAt, closed <= .now {
            message = context.language.text(submitting ? "respond_closed_at" : "respond_closed_on", ["time": ChinaTime.format(closed)])
        }
        let page = ClosedPage(heading: context.language.text("respond_closed_title"), message: message)
        return try views.page("closed", page, status: .forbidden, context: context)
    }

    private func render(
        _ form: FormDefinition,
        target: RespondentTarget,
        submitted: ParsedSubmission?,
        key: String,
        path: String,
        status: HTTPResponse.Status,
        unavailable: Bool = false,
        context: AppRequestContext
    ) throws -> Response {
        var page = FormView(form: form, language: context.language, limits: limits).page(submitted: submitted)
        page.respondent(slots: false)
        page.unavailable = unavailable
        page.action = path
        page.submissionKey = key
        page.branchName = target.branchName
        page.roundTitle = target.roundTitle
        page.deadline = Self.deadline(target, context.language)
        page.draftKey = path
        var response = try views.page("form", page, status: status, context: context)
        if unavailable { response.headers[.retryAfter] = "60" }
        // Each page carries its own submission key: never serve it from a cache.
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// "Please submit by …" in the page's language, or nothing for a round without a closing time.
    static func deadline(_ target: RespondentTarget, _ language: Language) -> String? {
        target.closesAt.map { language.text("form_deadline", ["time": ChinaTime.format($0)]) }
    }

    static func newSubmissionKey() -> String {
        Hex.random(bytes: 16)
    }

    static func isSubmissionKey(_ text: String) -> Bool {
        text.count == 32 && text.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}
