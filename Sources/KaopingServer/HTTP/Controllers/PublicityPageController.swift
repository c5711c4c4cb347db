import Foundation
import Hummingbird
import KaopingAggregation
import NIOConcurrencyHelpers

/// The public side of publicity: the page anyone opens from the notice (公示), the objection
/// filed through it, the receipt link that follows the objection, and a branch secretary's
/// objection from their branch's report.
public struct PublicityPageController: Sendable {
    let publicity: PublicityService
    let objections: ObjectionService
    let results: ResultsService
    let views: Views
    let cookies: CookiePolicy
    let trustForwardedFor: Bool
    let pages: PublicityPageCache
    /// Objections per address and round an hour, kept in memory as the public answers' limit is.
    let perAddress: PublicRateLimiter
    static let perAddressLimit = 5
    /// Objections one browser may file per round, counted in a cookie.
    static let perBrowserLimit = 3

    public init(services: KaopingServices, views: Views, cookies: CookiePolicy, trustForwardedFor: Bool) {
        self.publicity = services.publicity
        self.objections = services.objections
        self.results = services.results
        self.views = views
        self.cookies = cookies
        self.trustForwardedFor = trustForwardedFor
        self.pages = PublicityPageCache(database: services.database)
        self.perAddress = PublicRateLimiter(limit: Self.perAddressLimit)
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.publicity(key: SiteURL.key).route, use: show)
        router.post(SiteURL.publicity(key: SiteURL.key).route, use: file)
        router.get(SiteURL.objectionStatus(key: SiteURL.key).route, use: status)
    }

    /// A branch secretary's objection, from the report (signed in, their own branch only).
    public func addSecretaryRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post(SiteURL.branchObjections(SiteURL.id, branchCode: SiteURL.code).route, use: fileAsSecretary)
    }

    /// The round published at the path's key, once its publicity has started.
    private func published(_ context: AppRequestContext) async throws -> Publicity {
        guard let key = context.parameters.get("key"), let id = try await publicity.repository.round(key: key),
            let state = try await publicity.state(id), state.startedAt != nil, state.status == .publicity || state.status == .approved
        else { throw AppError.notFound }
        return state
    }

    private func model(_ state: Publicity, selected: String = "", language: Language) async throws -> PublicityPublicPage {
        guard let round = try await results.round(state.roundID), let current = try await results.current(round, logger: Database.quietLogger) else {
            throw AppError.notFound
        }
        let grades = round.configuration.bands.map(\.grade)
        let list = PublicityList.make(current.result, shows: state.shows ?? .top, grades: grades)
        return PublicityPublicPage(
            state,
            list: list,
            topGrade: grades.first ?? "",
            branches: try await objections.branchCodes(round: state.roundID),
            selected: selected,
            limits: (Self.perAddressLimit, Self.perBrowserLimit),
            now: .now,
            language: language
        )
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let key = context.parameters.get("key") else { throw AppError.notFound }
        let language = context.language
        let page = try await pages.page(key: key, language: language) {
            let state = try await published(context)
            return try views.render("publicity_public", try await model(state, language: language), context: context)
        }
        guard let page else { throw AppError.notFound }
        var response = HTMLPage(html: page.fill([.csrf: context.csrfToken, .submissionKey: RespondentController.newSubmissionKey()])).response
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func file(_ request: Request, context: AppRequestContext) async throws -> Response {
        let state = try await published(context)
        var request = request
        let data = try await request.formData(context: context)
        guard let key = data["_key"], RespondentController.isSubmissionKey(key) else { throw AppError.malformedBody }
        let draft = ObjectionDraft(
            branchCode: data["branch"] ?? "",
            body: data["body"] ?? "",
            contactName: data["name"] ?? "",
            contactPhone: data["phone"] ?? "",
            submissionKey: key
        )
        let language = context.language
        let cookieName = cookies.name("kp_objections")
        let filedHere = Int(request.cookies[cookieName]?.value ?? "") ?? 0
        guard filedHere < Self.perBrowserLimit else {
            return try refused("publicity_limit_browser", status: .tooManyRequests, context: context)
        }
        let address = context.clientAddress(request, trustForwardedFor: trustForwardedFor)
        let limitKey = "objection|\(address)|\(state.roundID)"
        guard perAddress.allow(key: limitKey) else {
            return try refused("publicity_limit_address", status: .tooManyRequests, context: context)
        }
        do {
            let filed = try await objections.file(draft, round: state.roundID, filer: nil, logger: context.logger)
            guard let statusKey = filed.statusKey else {
                // The same form sent again: the first answer gave the link.
                return try refused("objection_resent", status: .ok, values: ["receipt": filed.receipt], context: context)
            }
            var response = Response.seeOther(.objectionStatus(key: statusKey), ["filed": "1"])
            response.setCookie(
                cookies.cookie(
                    "kp_objections",
                    value: String(filedHere + 1),
                    maxAge: 90 * 24 * 3600,
                    path: SiteURL.publicity(key: state.key ?? "").path
                )
            )
            return response
        } catch ObjectionService.Refusal.problems(let problems) {
            var page = try await model(state, selected: draft.branchCode, language: language)
            page.body = draft.body
            page.contactName = draft.contactName
            page.contactPhone = draft.contactPhone
            page.problems = problems.map { language.text("objection_problem_\($0.rawValue)", ["n": ObjectionDraft.longest]) }
            page.branchProblem = problems.contains(.branchMissing)
            page.bodyProblem = problems.contains(.bodyMissing) || problems.contains(.bodyTooLong)
            page.nameProblem = problems.contains(.nameTooLong)
            page.phoneProblem = problems.contains(.phoneUnreadable)
            page.csrf = context.csrfToken
            page.submissionKey = key
            return try views.page("publicity_public", page, status: .unprocessableContent, context: context)
        } catch ObjectionService.Refusal.notTakingObjections {
            return try refused("publicity_public_ended", status: .conflict, context: context)
        }
    }

    private func refused(
        _ message: String,
        status: HTTPResponse.Status,
        values: KeyValuePairs<String, any CustomStringConvertible> = [:],
        context: AppRequestContext
    ) throws -> Response {
        let language = context.language
        let page = ClosedPage(heading: language.text("publicity_objection_heading"), message: language.text(message, values))
        return try views.page("closed", page, status: status, context: context)
    }

    @Sendable func status(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let key = context.parameters.get("key"), let objection = try await objections.objection(statusKey: key),
            let state = try await publicity.state(objection.roundID)
        else { throw AppError.notFound }
        let page = ObjectionStatusPage(
            objection,
            roundTitle: state.title,
            justFiled: request.uri.queryParameters["filed"] != nil,
            link: SiteURL.objectionStatus(key: key).path,
            language: context.language
        )
        var response = try views.page("objection_status", page, context: context)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func fileAsSecretary(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let code = context.parameters.get("code"), let user = context.user else { throw AppError.forbidden }
        let id = try RoundsController.roundID(context)
        var request = request
        let data = try await request.formData(context: context)
        let draft = ObjectionDraft(branchCode: code, body: data["body"] ?? "", submissionKey: data["_key"] ?? RespondentController.newSubmissionKey())
        let report = SiteURL.branchReport(id, branchCode: code)
        do {
            let filed = try await objections.file(draft, round: id, filer: .account(user), logger: context.logger)
            return .seeOther(report, ["objection": filed.receipt])
        } catch ObjectionService.Refusal.problems(let problems) {
            return .seeOther(report, ["objection_problem": problems.first?.rawValue ?? ""])
        } catch ObjectionService.Refusal.notTakingObjections {
            return .seeOther(report, ["objection_problem": "closed"])
        }
    }
}

/// Each publicity page rendered once per version of what it shows and per language, then
/// served from memory: a whole office opens it within the same hour. Every few seconds the
/// first request checks, in one indexed read, whether the round's row or its results changed.
final class PublicityPageCache: Sendable {
    private struct Entry {
        let stamp: String
        let checked: ContinuousClock.Instant
        let page: PrerenderedPage
    }

    private let database: Database
    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    static let recheck: Duration = .seconds(3)

    init(database: Database) {
        self.database = database
    }

    /// The page at `key` in `language`, rendered by `render` when it has changed; `nil` when
    /// no round is published there.
    func page(key: String, language: Language, render: () async throws -> String) async throws -> PrerenderedPage? {
        let slot = "\(key)|\(language.rawValue)"
        let now = ContinuousClock.now
        if let entry = entries.withLockedValue({ $0[slot] }), now - entry.checked < Self.recheck { return entry.page }
        guard
            let stamp = try await database.query(
                """
                SELECT r.status || r.updated_at::text || coalesce((SELECT s.computed_at::text FROM result_snapshots s
                  WHERE s.round_id = r.id AND s.kind = 'final'), '')
                FROM rounds r WHERE r.publicity_key = \(key)
                """
            ).first?.decode(String.self)
        else { return nil }
        if let entry = entries.withLockedValue({ $0[slot] }), entry.stamp == stamp {
            entries.withLockedValue { $0[slot] = Entry(stamp: stamp, checked: now, page: entry.page) }
            return entry.page
        }
        let page = PrerenderedPage(rendered: try await render())
        entries.withLockedValue { entries in
            if entries.count > 64 { entries.removeAll() }
            entries[slot] = Entry(stamp: stamp, checked: now, page: page)
        }
        return page
    }
}
