import Foundation
import Hummingbird
import KaopingAggregation
import KaopingForms
import NIOConcurrencyHelpers

/// What a member or representative does through their appraisal link `/a/{token}`: the start
/// page, the member's self-assessment (named) and the roster ballot (anonymous, one per link),
/// and once their branch's proposals are approved, the member's own result.
public struct AppraisalVoterController: Sendable {
    let appraisals: AppraisalService
    let views: Views
    let limits: SubmissionLimits
    /// Each roster page as rendered for a branch (or party group) and language, with the slots
    /// each request fills; a voter's own row is cut out of the copy. Kept briefly, so that a
    /// member who leaves drops out of the page within seconds.
    let rosters = RosterPages()
    /// The rounds links lead to, for two seconds: whether the vote is still open is checked
    /// again by the statement that casts a ballot.
    let rounds = TimedCache<UUID, AppraisalRound>(lifetime: .seconds(2), capacity: 1_000)
    /// Who holds each link opened lately, for the pages a link shows. Posts look the holder up
    /// afresh, and a ballot cast here forgets its link's entry, so that the next page says it has
    /// voted; a ballot cast through another instance shows there within this lifetime (casting
    /// it again is refused by the statement that burns the link).
    let voters = TimedCache<String, AppraisalVoter>(lifetime: .seconds(30), capacity: 200_000)

    public init(services: KaopingServices, views: Views, limits: SubmissionLimits) {
        self.appraisals = services.appraisals
        self.views = views
        self.limits = limits
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.appraisalLink(token: SiteURL.token).route, use: start)
        router.get(SiteURL.appraisalSelfAssessment(token: SiteURL.token).route, use: selfAssessment)
        router.post(SiteURL.appraisalSelfAssessment(token: SiteURL.token).route, use: writeSelfAssessment)
        router.get(SiteURL.appraisalBallot(token: SiteURL.token).route, use: ballot)
        router.post(SiteURL.appraisalBallot(token: SiteURL.token).route, use: vote)
    }

    /// The link's holder and round; an unknown or revoked link is not found.
    private func holder(
        _ context: AppRequestContext,
        fresh: Bool = false
    ) async throws -> (token: String, voter: AppraisalVoter, round: AppraisalRound) {
        guard let token = context.parameters.get("token") else { throw AppError(status: .notFound, messageKey: "invitation_unknown") }
        let voter: AppraisalVoter
        if !fresh, let known = voters.value(for: token) {
            voter = known
        } else {
            guard let found = try await appraisals.repository.voter(token: token) else {
                throw AppError(status: .notFound, messageKey: "invitation_unknown")
            }
            voter = found
            voters.store(found, for: token)
        }
        if let round = rounds.value(for: voter.roundID) { return (token, voter, round) }
        guard let round = try await appraisals.repository.round(voter.roundID) else {
            throw AppError(status: .notFound, messageKey: "invitation_unknown")
        }
        rounds.store(round, for: voter.roundID)
        return (token, voter, round)
    }

    @Sendable func start(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (token, voter, round) = try await holder(context)
        var hasText = false
        var result: AppraisalRepository.StoredProposal?
        if let member = voter.memberID {
            hasText = try await appraisals.repository.selfAssessment(round.id, memberID: member) != nil
            result = try await appraisals.repository.ownResult(round.id, memberID: member)
        }
        let notice = request.uri.queryParameters["done"].flatMap { done -> String? in
            switch done {
            case "vote": context.language.text("appraisal_voted_notice")
            case "self": context.language.text("appraisal_self_saved")
            default: nil
            }
        }
        let page = AppraisalVoterPage.make(
            voter: voter,
            round: round,
            token: token,
            hasSelfAssessment: hasText,
            result: result,
            notice: notice,
            language: context.language
        )
        return Self.private(try views.page("appraisal_voter", page, context: context))
    }

    // MARK: The self-assessment

    @Sendable func selfAssessment(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (token, voter, round) = try await holder(context)
        // Representatives vote only: there is no self-assessment behind their link.
        guard let member = voter.memberID else { throw AppError.notFound }
        let text = try await appraisals.repository.selfAssessment(round.id, memberID: member) ?? ""
        return try selfAssessmentPage(token: token, voter: voter, round: round, text: text, context: context)
    }

    @Sendable func writeSelfAssessment(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (token, voter, round) = try await holder(context, fresh: true)
        guard voter.memberID != nil else { throw AppError.notFound }
        var request = request
        let form = try await request.formData(context: context)
        let text = (form["text"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        var problem: String?
        if text.isEmpty { problem = context.language.text("appraisal_self_empty") }
        if text.count > limits.maxTextLength * 4 {
            problem = context.language.text("appraisal_self_too_long", ["n": limits.maxTextLength * 4])
        }
        if let problem {
            return try selfAssessmentPage(
                token: token,
                voter: voter,
                round: round,
                text: text,
                problem: problem,
                status: .unprocessableContent,
                context: context
            )
        }
        do {
            guard try await appraisals.writeSelfAssessment(text, voter: voter) else {
                let closed = context.language.text("appraisal_self_closed")
                return try selfAssessmentPage(
                    token: token,
                    voter: voter,
                    round: round,
                    text: text,
                    problem: closed,
                    status: .forbidden,
                    context: context
                )
            }
        } catch  where DatabaseFailure.isUnavailable(error) {
            var page = selfAssessmentModel(token: token, voter: voter, round: round, text: text, context: context)
            page.unavailable = true
            var response = try views.page("appraisal_self", page, status: .serviceUnavailable, context: context)
            response.headers[.retryAfter] = "60"
            return Self.private(response)
        }
        return .seeOther(SiteURL.appraisalLink(token: token).path(["done": "self"]))
    }

    private func selfAssessmentModel(
        token: String,
        voter: AppraisalVoter,
        round: AppraisalRound,
        text: String,
        context: AppRequestContext
    ) -> AppraisalSelfAssessmentPage {
        AppraisalSelfAssessmentPage(
            roundTitle: round.title,
            name: voter.name,
            text: text,
            action: SiteURL.appraisalSelfAssessment(token: token).path,
            back: SiteURL.appraisalLink(token: token).path,
            editable: round.isVoting && !voter.hasLeft,
            maxLength: limits.maxTextLength * 4
        )
    }

    private func selfAssessmentPage(
        token: String,
        voter: AppraisalVoter,
        round: AppraisalRound,
        text: String,
        problem: String? = nil,
        status: HTTPResponse.Status = .ok,
        context: AppRequestContext
    ) throws -> Response {
        var page = selfAssessmentModel(token: token, voter: voter, round: round, text: text, context: context)
        page.problem = problem
        return Self.private(try views.page("appraisal_self", page, status: status, context: context))
    }

    // MARK: The ballot

    @Sendable func ballot(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (token, voter, round) = try await holder(context)
        if let done = try doneWithBallot(voter: voter, round: round, token: token, context: context) { return done }
        // The roster is the same for everyone of the branch (or party group) but for the voter's
        // own row: rendered once with slots, it costs each request a copy and a cut, where
        // rendering sixty rows of five choices through the templates cost milliseconds.
        let group = round.settings.byPartyGroup ? voter.partyGroup : nil
        let key = "\(round.id)/\(voter.branchID)/\(group ?? "")/\(voter.group.rawValue)/\(context.language.rawValue)"
        let (views, appraisals) = (self.views, self.appraisals)
        let page = try await rosters.page(key) {
            // Everyone of the roster, the voter included: each copy then leaves its voter out.
            let everyone = try await appraisals.roster(for: voter, round: round, includingVoter: true)
            var model = AppraisalBallotPage.make(
                round: round,
                voter: voter,
                roster: everyone,
                chosen: [:],
                missing: [],
                token: PrerenderedPage.Slot.action.marker,
                submissionKey: PrerenderedPage.Slot.submissionKey.marker,
                language: context.language
            )
            model.prerendered()
            return RosterPage(rendered: try views.render("appraisal_ballot", model, context: context))
        }
        let body = page.fill(
            [
                .csrf: context.csrfToken, .submissionKey: RespondentController.newSubmissionKey(),
                .action: SiteURL.appraisalBallot(token: token).path, .back: SiteURL.appraisalLink(token: token).path,
            ],
            without: voter.memberID.map(AppraisalBallotPage.field)
        )
        return Response(
            status: .ok,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: body)
        )
    }

    /// The page instead of the roster when there is nothing to vote: voted, closed or left.
    private func doneWithBallot(voter: AppraisalVoter, round: AppraisalRound, token: String, context: AppRequestContext) throws -> Response? {
        let language = context.language
        let message: String? =
            if voter.voted { language.text("appraisal_already_voted") } else if voter.hasLeft {
                language.text("appraisal_not_on_roll")
            } else if !round.isVoting { language.text(round.status.canOpen ? "appraisal_not_yet" : "appraisal_vote_closed") } else { nil }
        guard let message else { return nil }
        let page = ClosedPage(heading: round.title, message: message, again: SiteURL.appraisalLink(token: token).path)
        return try views.page("closed", page, status: voter.voted ? .ok : .forbidden, context: context)
    }

    @Sendable func vote(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (token, voter, round) = try await holder(context, fresh: true)
        var request = request
        let form = try await request.formData(context: context)
        guard let key = form["_key"], RespondentController.isSubmissionKey(key), form.all("_key").count == 1 else { throw AppError.malformedBody }
        var choices: [UUID: String] = [:]
        for (name, value) in form.answerFields {
            guard name.hasPrefix("m_"), let member = UUID(uuidString: String(name.dropFirst(2))), choices[member] == nil else {
                throw AppError.malformedBody
            }
            choices[member] = value
        }
        let roster = try await appraisals.roster(for: voter, round: round)
        func again(missing: Set<UUID>, status: HTTPResponse.Status, unavailable: Bool = false) throws -> Response {
            var page = AppraisalBallotPage.make(
                round: round,
                voter: voter,
                roster: roster,
                chosen: choices,
                missing: missing,
                token: token,
                submissionKey: key,
                language: context.language
            )
            page.unavailable = unavailable
            var response = try views.page("appraisal_ballot", page, status: status, context: context)
            if unavailable { response.headers[.retryAfter] = "60" }
            return Self.private(response)
        }
        let outcome: AppraisalService.VoteOutcome
        do {
            outcome = try await appraisals.vote(choices, voter: voter, round: round, submissionKey: key)
        } catch  where DatabaseFailure.isUnavailable(error) {
            context.logger.warning("appraisal ballot not stored: database unavailable", metadata: ["error": "\(error)"])
            return try again(missing: [], status: .serviceUnavailable, unavailable: true)
        }
        switch outcome {
        case .incomplete(let missing): return try again(missing: Set(missing), status: .unprocessableContent)
        case .malformed: throw AppError.malformedBody
        case .notOnRoll, .cast(.closed), .cast(.alreadyVoted):
            // The page says which: voted already (another device), closed, or left.
            let fresh = try await appraisals.repository.voter(token: token) ?? voter
            let current = try await appraisals.repository.round(round.id) ?? round
            if let done = try doneWithBallot(voter: fresh, round: current, token: token, context: context) { return done }
            throw AppError.notFound
        case .cast(.stored), .cast(.alreadyStored):
            voters.forget(token)
            return .seeOther(SiteURL.appraisalLink(token: token).path(["done": "vote"]))
        }
    }

    /// A link's pages carry a person's name and choices: never kept by a shared cache.
    private static func `private`(_ response: Response) -> Response {
        var response = response
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

/// A roster page rendered once for a branch (or party group) and language: the part before the
/// rows and the part after, with the request's slots, and each member's row as bytes, so that a
/// request fills the slots and leaves its own voter's row out without searching the page.
struct RosterPage: Sendable {
    let head: PrerenderedPage
    /// Each row with the form field that names its member.
    let rows: [(field: String, bytes: [UInt8])]
    let tail: PrerenderedPage

    init(rendered html: String) {
        let bytes = Array(html.utf8)
        let opening = Array("<fieldset class=\"roster-row".utf8)
        let closing = Array("</fieldset>\n".utf8)
        let named = Array("data-row=\"".utf8)
        var rows: [(field: String, bytes: [UInt8])] = []
        var position = 0
        var firstRow: Int?
        while let start = bytes[position...].firstRange(of: opening), let end = bytes[start.upperBound...].firstRange(of: closing) {
            if firstRow == nil { firstRow = start.lowerBound }
            let row = Array(bytes[start.lowerBound..<end.upperBound])
            var field = ""
            if let name = row.firstRange(of: named), let quote = row[name.upperBound...].firstIndex(of: UInt8(ascii: "\"")) {
                field = String(decoding: row[name.upperBound..<quote], as: UTF8.self)
            }
            rows.append((field, row))
            position = end.upperBound
        }
        let headEnd = firstRow ?? bytes.count
        head = PrerenderedPage(rendered: String(decoding: bytes[..<headEnd], as: UTF8.self))
        self.rows = rows
        tail = PrerenderedPage(rendered: String(decoding: bytes[max(position, headEnd)...], as: UTF8.self))
    }

    func fill(_ values: [PrerenderedPage.Slot: String], without field: String?) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString(head.fill(values))
        for row in rows where row.field != field { buffer.writeBytes(row.bytes) }
        buffer.writeString(tail.fill(values))
        return buffer
    }
}

/// Roster pages by key, each rendered once however many ask for it at the same moment, and kept
/// for half a minute: a member who leaves drops out of the page within that time (and a choice
/// about them is set aside when the ballot is cast).
final class RosterPages: Sendable {
    private struct Entry {
        let task: Task<RosterPage, any Error>
        let expires: ContinuousClock.Instant
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    let lifetime: Duration = .seconds(30)

    func page(_ key: String, render: @escaping @Sendable () async throws -> RosterPage) async throws -> RosterPage {
        let now = ContinuousClock.now
        let task = entries.withLockedValue { entries -> Task<RosterPage, any Error> in
            if let entry = entries[key], entry.expires > now { return entry.task }
            if entries.count > 20_000 { entries = entries.filter { $0.value.expires > now } }
            let task = Task { try await render() }
            entries[key] = Entry(task: task, expires: now + lifetime)
            return task
        }
        do {
            return try await task.value
        } catch {
            // A failed render is not kept: the next request tries again.
            entries.withLockedValue { entries in
                if entries[key]?.task == task { entries[key] = nil }
            }
            throw error
        }
    }
}
