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
    /// The status link is shown whole, to be copied or written down.
    let publicBaseURL: String
    let pages: PublicityPageCache
    /// Objections per address and round an hour, kept in memory as the public answers' limit is.
    let perAddress: PublicRateLimiter
    static let perAddressLimit = 5
    /// Objections one browser may file per round, counted in a cookie.
    static let perBrowserLimit = 3

    public init(services: KaopingServices, views: Views, cookies: CookiePolicy, trustForwardedFor: Bool, publicBaseURL: String) {
        self.publicity = services.publicity
        self.objections = services.objections
        self.results = services.results
        self.views = views
        self.cookies = cookies
        self.trustForwardedFor = trustForwardedFor
        self.publicBaseURL = publicBaseURL
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

    private func model(_ state: Publicity, language: Language) async throws -> PublicityPublicPage {
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
            limits: (Self.perAddressLimit, Self.perBrowserLimit),
            now: .now,
            language: language
        )
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let key = context.parameters.get("key") else { throw AppError.notFound }
        let language = context.language
        let page = try await pages.page(key: key, language: language) {
            let model = try await model(try await published(context), language: language)
            return (try views.render("publicity_public", model, context: context), model)
        }
        guard let page else { throw AppError.notFound }
        var response = HTMLPage(html: page.fill([.csrf: context.csrfToken, .submissionKey: RespondentController.newSubmissionKey()])).response
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func file(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let pageKey = context.parameters.get("key") else { throw AppError.notFound }
        var request = request
        let data = try await request.formData(context: context)
        let draft = data["_key"].flatMap { key in
            RespondentController.isSubmissionKey(key)
                ? ObjectionDraft(
                    branchCode: data["branch"] ?? "",
                    body: data["body"] ?? "",
                    contactName: data["name"] ?? "",
                    contactPhone: data["phone"] ?? "",
                    submissionKey: key
                ) : nil
        }
        let language = context.language
        let cookieName = cookies.name("kp_objections")
        let filedHere = Int(request.cookies[cookieName]?.value ?? "") ?? 0
        let address = context.clientAddress(request, trustForwardedFor: trustForwardedFor)
        do {
            let state = try await published(context)
            guard let draft else { throw AppError.malformedBody }
            let key = draft.submissionKey
            let filed: FiledObjection
            do {
                // A resent form is answered with its link before any limit is counted.
                if let earlier = try await objections.filed(submissionKey: key, round: state.roundID) {
                    filed = earlier
                } else {
                    guard filedHere < Self.perBrowserLimit else {
                        return try refused("publicity_limit_browser", status: .tooManyRequests, context: context)
                    }
                    guard perAddress.allow(key: "objection|\(address)|\(state.roundID)") else {
                        return try refused("publicity_limit_address", status: .tooManyRequests, context: context)
                    }
                    filed = try await objections.file(draft, round: state.roundID, filer: nil, logger: context.logger)
                }
            } catch ObjectionService.Refusal.problems(let problems) {
                var page = try await model(state, language: language)
                page.refill(draft)
                page.problems = problems.map { language.text("objection_problem_\($0.rawValue)", ["n": ObjectionDraft.longest]) }
                page.branchProblem = problems.contains(.branchMissing)
                page.bodyProblem = problems.contains(.bodyMissing) || problems.contains(.bodyTooLong)
                page.nameProblem = problems.contains(.nameTooLong)
                page.phoneProblem = problems.contains(.phoneUnreadable)
                page.csrf = context.csrfToken
                return try views.page("publicity_public", page, status: .unprocessableContent, context: context)
            } catch ObjectionService.Refusal.notTakingObjections {
                return try refused("publicity_public_ended", status: .conflict, context: context)
            }
            var response = Response.seeOther(.objectionStatus(key: filed.statusKey), ["filed": "1"])
            if !filed.resent {
                response.setCookie(
                    cookies.cookie(
                        "kp_objections",
                        value: String(filedHere + 1),
                        maxAge: 90 * 24 * 3600,
                        path: SiteURL.publicity(key: state.key ?? "").path
                    )
                )
            }
            return response
        } catch  where DatabaseFailure.isUnavailable(error) {
            // Nothing was filed (one transaction): the page as last shown, with what was typed
            // and the same submission key, so that sending it again later counts once.
            context.logger.warning("objection not stored: database unavailable", metadata: ["error": "\(error)"])
            guard let draft, var page = pages.lastModel(key: pageKey, language: language) else { throw error }
            page.refill(draft)
            page.unavailable = true
            page.csrf = context.csrfToken
            var response = try views.page("publicity_public", page, status: .serviceUnavailable, context: context)
            response.headers[.retryAfter] = "60"
            return response
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
            link: SiteURL.objectionStatus(key: key).absolute(base: publicBaseURL),
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
/// served from memory: a whole office opens it within the same hour. Every few seconds one
/// request checks, in one indexed read, whether the round's row or its results changed, while
/// the others are served the copy in memory; a new version is rendered once, however many wait
/// for it. While the database cannot be reached the last copy is served.
final class PublicityPageCache: Sendable {
    private struct Entry {
        let stamp: String
        let checked: ContinuousClock.Instant
        let page: PrerenderedPage
        /// What the page was made from, to show it again with a person's typing when the
        /// database cannot be reached.
        let model: PublicityPublicPage
    }

    private struct Slots {
        var entries: [String: Entry] = [:]
        /// The version check (and render, if it changed) under way for a slot.
        var refreshing: [String: Task<PrerenderedPage?, any Error>] = [:]
    }

    private let database: Database
    private let slots = NIOLockedValueBox(Slots())
    static let recheck: Duration = .seconds(3)

    init(database: Database) {
        self.database = database
    }

    /// The page at `key` in `language`, rendered by `render` when it has changed; `nil` when
    /// no round is published there.
    func page(
        key: String,
        language: Language,
        render: @escaping @Sendable () async throws -> (html: String, model: PublicityPublicPage)
    ) async throws -> PrerenderedPage? {
        let slot = "\(key)|\(language.rawValue)"
        let now = ContinuousClock.now
        enum Next {
            case serve(PrerenderedPage)
            case wait(Task<PrerenderedPage?, any Error>)
        }
        let next = slots.withLockedValue { slots -> Next in
            let entry = slots.entries[slot]
            if let entry, now - entry.checked < Self.recheck { return .serve(entry.page) }
            if let task = slots.refreshing[slot] {
                if let entry { return .serve(entry.page) }
                return .wait(task)
            }
            let task = Task { try await self.refresh(slot: slot, key: key, render: render) }
            slots.refreshing[slot] = task
            return .wait(task)
        }
        switch next {
        case .serve(let page): return page
        case .wait(let task): return try await task.value
        }
    }

    private func refresh(
        slot: String,
        key: String,
        render: @Sendable () async throws -> (html: String, model: PublicityPublicPage)
    ) async throws -> PrerenderedPage? {
        defer { slots.withLockedValue { _ = $0.refreshing.removeValue(forKey: slot) } }
        let entry = slots.withLockedValue { $0.entries[slot] }
        let stamp: String?
        do {
            stamp = try await database.query(
                """
                SELECT r.status || r.updated_at::text || coalesce((SELECT s.computed_at::text FROM result_snapshots s
                  WHERE s.round_id = r.id AND s.kind = 'final'), '')
                FROM rounds r WHERE r.publicity_key = \(key)
                """
            ).first?.decode(String.self)
        } catch  where DatabaseFailure.isUnavailable(error) {
            // Published results do not change while the database is away; the next request
            // looks again.
            guard let entry else { throw error }
            return entry.page
        }
        let checked = ContinuousClock.now
        guard let stamp else {
            slots.withLockedValue { _ = $0.entries.removeValue(forKey: slot) }
            return nil
        }
        if let entry, entry.stamp == stamp {
            slots.withLockedValue { $0.entries[slot] = Entry(stamp: stamp, checked: checked, page: entry.page, model: entry.model) }
            return entry.page
        }
        let html: String
        let model: PublicityPublicPage
        do {
            (html, model) = try await render()
        } catch let error as AppError {
            // No longer published (cancelled, or taken back to closed).
            slots.withLockedValue { _ = $0.entries.removeValue(forKey: slot) }
            throw error
        }
        let page = PrerenderedPage(rendered: html)
        slots.withLockedValue { slots in
            if slots.entries.count > 64 { slots.entries.removeAll() }
            slots.entries[slot] = Entry(stamp: stamp, checked: checked, page: page, model: model)
        }
        return page
    }

    /// The model of the page last rendered at `key` in `language`, however old.
    func lastModel(key: String, language: Language) -> PublicityPublicPage? {
        slots.withLockedValue { $0.entries["\(key)|\(language.rawValue)"]?.model }
    }
}
