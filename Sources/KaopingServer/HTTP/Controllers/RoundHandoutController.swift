import Foundation
import Hummingbird
import KaopingAggregation
import Logging

/// What a round hands out to the people who answer it: members' invitations (issued, as CSV for
/// mail merge, as printable slips, and the list of who has not answered yet), a branch's
/// poster with its public link, which branches take public answers through an open link or
/// visit codes, and the visit codes with their slips.
public struct RoundHandoutController: Sendable {
    let rounds: RoundRepository
    let invitations: InvitationRepository
    let visitCodes: VisitCodeRepository
    let handouts: HandoutService
    let views: Views
    let publicBaseURL: String

    public init(services: KaopingServices, views: Views, publicBaseURL: String) {
        self.rounds = services.roundRepository
        self.invitations = services.invitations
        self.visitCodes = services.visitCodes
        self.handouts = services.handouts
        self.views = views
        self.publicBaseURL = publicBaseURL
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post(SiteURL.roundAction(SiteURL.id, .invitations).route, use: issueInvitations)
        router.get(SiteURL.slips(SiteURL.id).route, use: slips)
        router.get(SiteURL.poster(SiteURL.id, publicCode: SiteURL.code).route, use: poster)
        router.post(SiteURL.roundAction(SiteURL.id, .publicAccess).route, use: setPublicAccess)
        router.post(SiteURL.roundAction(SiteURL.id, .sharedDevice).route, use: setSharedDevice)
        router.post(SiteURL.roundAction(SiteURL.id, .visitCodes).route, use: issueVisitCodes)
        router.get(SiteURL.visitCodeSlips(SiteURL.id).route, use: visitCodeSlips)
    }

    @Sendable func setPublicAccess(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try roundID(context)
        var request = request
        let form = try await request.formData(context: context)
        guard let access = form["access"].flatMap(PublicAccess.init(rawValue:)) else { throw AppError.badRequest }
        return try await visitCodeAction(id, context) {
            let changed = try await handouts.setPublicAccess(
                round: id,
                branchCodes: RoundsController.codes(form["branches"]),
                access: access,
                actor: context.auditActor,
                logger: context.logger
            )
            return ("accessSet", String(changed))
        }
    }

    @Sendable func setSharedDevice(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try roundID(context)
        var request = request
        let form = try await request.formData(context: context)
        return try await visitCodeAction(id, context) {
            let changed = try await handouts.setSharedDevice(
                round: id,
                branchCodes: RoundsController.codes(form["branches"]),
                shared: form["shared"] == "1",
                actor: context.auditActor,
                logger: context.logger
            )
            return ("sharedSet", String(changed))
        }
    }

    @Sendable func issueVisitCodes(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try roundID(context)
        var request = request
        let form = try await request.formData(context: context)
        return try await visitCodeAction(id, context) {
            guard let count = form["count"].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) else { throw VisitCodeProblem.badCount }
            let made = try await handouts.issueVisitCodes(
                round: id,
                branchCodes: RoundsController.codes(form["branches"]),
                count: count,
                actor: context.auditActor,
                logger: context.logger
            )
            return ("visitCodes", String(made.count))
        }
    }

    /// Back to the round's page with the notice `body` returns, or with its problem.
    private func visitCodeAction(
        _ id: UUID,
        _ context: AppRequestContext,
        _ body: () async throws -> (notice: String, value: String)
    ) async throws -> Response {
        do {
            let (notice, value) = try await body()
            return .seeOther(SiteURL.round(id).path([notice: value]))
        } catch let problem as VisitCodeProblem {
            return .seeOther(.round(id), RoundPageProblem.visitCodes(problem).query)
        } catch let error as RoundError {
            return .seeOther(.round(id), RoundPageProblem.round(error).query)
        }
    }

    /// Printable slips of visit codes: one branch's batch, or every unused code of the round.
    @Sendable func visitCodeSlips(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try roundID(context)
        guard let round = try await rounds.round(id) else { throw AppError.notFound }
        let branch = request.uri.queryParameters["branch"].map(String.init)
        let batch = request.uri.queryParameters["batch"].flatMap { Int($0) }
        let codes = try await visitCodes.codes(roundID: id, branchCode: branch, batch: batch).filter { !$0.used }
        return try slipsPage(
            round,
            slips: codes.map { ($0.branchName, SiteURL.visitCode(code: $0.code).absolute(base: publicBaseURL), nil) },
            branch: branch,
            text: (instructions: "visits_slips_instructions", count: "visits_slips_count", none: "visits_none", kind: "visits_title"),
            context: context
        )
    }

    /// A4 pages of cut-out slips, each with its branch, a QR code of its link and the link.
    private func slipsPage(
        _ round: RoundSummary,
        slips: [(branch: String, url: String, code: String?)],
        branch: String?,
        text: (instructions: String, count: String, none: String, kind: String),
        context: AppRequestContext
    ) throws -> Response {
        let language = context.language
        var page = SlipsPage(
            title: round.title,
            slips: try slips.map { slip in
                SlipsPage.Slip(branch: slip.branch, url: slip.url, qr: try QRCode.svg(slip.url, title: slip.branch), code: slip.code)
            },
            deadline: round.closesAt.map { language.text("slips_deadline", ["time": ChinaTime.format($0)]) },
            codeEntry: language.text("slips_code_entry", ["address": SiteURL.codeEntry.absolute(base: publicBaseURL)]),
            instructions: language.text(text.instructions),
            countText: language.text(text.count, ["n": slips.count]),
            none: language.text(text.none),
            linkBase: LinkBase(publicBaseURL)
        )
        // One branch's slips are named by the branch (by its code when none is left unused).
        let branchName = branch.map { code in slips.first?.branch ?? code } ?? language.text("slips_every_branch")
        page.heading = language.text("slips_heading", ["kind": language.text(text.kind), "title": round.title, "branch": branchName])
        return try views.page("slips", page, context: context)
    }

    /// Printable A4 pages of cut-out slips, each with the branch, a QR code of one member's link
    /// and the link itself. Slips carry no name, so a branch's slips can be handed out in any order.
    @Sendable func slips(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try roundID(context)
        guard let round = try await rounds.round(id) else { throw AppError.notFound }
        let branch = request.uri.queryParameters["branch"].map(String.init)
        // A slip shows a short code only if typing it finds the invitation (its hash is stored
        // when the invitation is issued); otherwise it shows the link. A GET writes nothing.
        let links = try await invitations.links(roundID: id, branchCode: branch).filter { !$0.used }
        return try slipsPage(
            round,
            slips: links.map { ($0.branchName, SiteURL.invitation(token: $0.token).absolute(base: publicBaseURL), $0.shortCode) },
            branch: branch,
            text: (instructions: "slips_instructions", count: "slips_count", none: "slips_none", kind: "rounds_slips"),
            context: context
        )
    }

    /// An A4 poster for a branch's service window: its public link as a QR code, with instructions.
    @Sendable func poster(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try roundID(context)
        guard let round = try await rounds.round(id), let code = context.parameters.get("code"),
            let branch = try await rounds.branch(id, publicCode: code)
        else { throw AppError.notFound }
        let url = SiteURL.publicLink(code: code).absolute(base: publicBaseURL)
        let base = LinkBase(publicBaseURL)
        let page = PosterPage(
            title: round.title,
            branch: branch.name,
            url: url,
            qr: try QRCode.svg(url, title: branch.name),
            linkBase: base.linkBase,
            linkBaseLocal: base.linkBaseLocal,
            heading: context.language.text("poster_heading"),
            instructions: context.language.text("poster_instructions")
        )
        return try views.page("poster", page, context: context)
    }

    @Sendable func issueInvitations(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try roundID(context)
        guard try await rounds.round(id) != nil else { throw AppError.notFound }
        do {
            let issued = try await handouts.issueInvitations(round: id, actor: context.auditActor, logger: context.logger)
            return .seeOther(.round(id), ["issued": String(issued)])
        } catch let error as RoundError {
            return .seeOther(.round(id), RoundPageProblem.round(error).query)
        }
    }

    private func roundID(_ context: AppRequestContext) throws -> UUID {
        try RoundsController.roundID(context)
    }
}
