import Foundation
import Hummingbird
import KaopingAggregation

/// Correcting a round: a draft edited on its own page or deleted, an opened round cancelled
/// (作废) with a reason, branches added after the round was made. Deleting and cancelling ask
/// first on a page of their own, as opening and closing do.
public struct RoundCorrectionsController: Sendable {
    let rounds: RoundRepository
    let roundService: RoundService
    let views: Views

    public init(services: KaopingServices, views: Views) {
        self.rounds = services.roundRepository
        self.roundService = services.rounds
        self.views = views
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.roundAction(SiteURL.id, .edit).route, use: edit)
        router.post(SiteURL.roundAction(SiteURL.id, .edit).route, use: update)
        router.get(SiteURL.roundAction(SiteURL.id, .delete).route, use: confirmDelete)
        router.post(SiteURL.roundAction(SiteURL.id, .delete).route, use: delete)
        router.get(SiteURL.roundAction(SiteURL.id, .cancel).route, use: confirmCancel)
        router.post(SiteURL.roundAction(SiteURL.id, .cancel).route, use: cancel)
        router.post(SiteURL.roundAction(SiteURL.id, .branches).route, use: addBranches)
    }

    @Sendable func edit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try RoundsController.roundID(context)
        guard let round = try await rounds.round(id), let stored = try await rounds.spec(id) else { throw AppError.notFound }
        guard round.status.canEdit else {
            return .seeOther(.round(id), RoundPageProblem.round(.wrongStatus(current: round.status, action: .edited)).query)
        }
        let form = RoundForm(stored.spec, allBranches: stored.allBranches)
        return try page(form, round: id, problems: [], status: .ok, context: context)
    }

    /// Saves the edit page; every problem comes back on the page with what was typed.
    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try RoundsController.roundID(context)
        var request = request
        let form = RoundForm(try await request.formData(context: context))
        let language = context.language
        let (draft, fieldProblems) = form.draft(language)
        guard let draft else { return try page(form, round: id, problems: fieldProblems, context: context) }
        let spec: RoundSpec
        do {
            spec = try RoundSpec.build(draft)
        } catch {
            return try page(form, round: id, problems: error.problems.map { $0.text(language) }, context: context)
        }
        do {
            let removed = try await roundService.update(
                id,
                to: spec,
                acceptingWarnings: form.acceptsWarnings,
                actor: context.auditActor,
                logger: context.logger
            )
            return .seeOther(.round(id), removed.isEmpty ? ["edited": "1"] : ["edited": "1", "left": removed.joined(separator: ",")])
        } catch RoundError.needsConfirmation(let warnings) {
            return try page(form, round: id, problems: [], warnings: warnings.map { $0.text(language) }, context: context)
        } catch RoundError.wrongStatus(let current, let action) {
            return .seeOther(.round(id), RoundPageProblem.round(.wrongStatus(current: current, action: action)).query)
        } catch let error as RoundError {
            return try page(form, round: id, problems: [error.message(language)], context: context)
        }
    }

    private func page(
        _ form: RoundForm,
        round: UUID,
        problems: [String],
        warnings: [String] = [],
        status: HTTPResponse.Status = .unprocessableContent,
        context: AppRequestContext
    ) throws -> Response {
        let page = NewRoundPage(
            form,
            forms: rounds.forms.forms,
            problems: problems,
            warnings: warnings,
            editing: round,
            language: context.language
        )
        return try views.page("round_new", page, status: status, context: context)
    }

    @Sendable func confirmDelete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try RoundsController.roundID(context)
        guard let round = try await rounds.round(id) else { throw AppError.notFound }
        let language = context.language
        guard round.status.canEdit else {
            return .seeOther(.round(id), RoundPageProblem.round(.wrongStatus(current: round.status, action: .deleted)).query)
        }
        var page = RoundConfirmPage(
            title: round.title,
            confirmTitle: language.text("rounds_confirm_delete_title"),
            confirmButton: language.text("rounds_delete"),
            lines: [language.text("rounds_confirm_delete_1", ["n": round.branches]), language.text("rounds_confirm_delete_2")],
            action: SiteURL.roundAction(id, .delete).path,
            cancel: SiteURL.round(id).path
        )
        page.destructive = true
        return try views.page("round_confirm", page, context: context)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try RoundsController.roundID(context)
        var request = request
        guard try await request.formData(context: context)["confirmed"] == "yes" else { return .seeOther(.roundAction(id, .delete)) }
        do {
            try await roundService.delete(id, actor: context.auditActor, logger: context.logger)
        } catch let error as RoundError {
            return .seeOther(.round(id), RoundPageProblem.round(error).query)
        }
        return .seeOther(.rounds, ["deleted": "1"])
    }

    @Sendable func confirmCancel(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try RoundsController.roundID(context)
        guard let round = try await rounds.round(id) else { throw AppError.notFound }
        guard round.status.canCancel else {
            return .seeOther(.round(id), RoundPageProblem.round(.wrongStatus(current: round.status, action: .cancelled)).query)
        }
        return try cancelPage(round, problem: nil, status: .ok, context: context)
    }

    private func cancelPage(_ round: RoundSummary, problem: String?, status: HTTPResponse.Status, context: AppRequestContext) throws -> Response {
        let language = context.language
        var page = RoundConfirmPage(
            title: round.title,
            confirmTitle: language.text("rounds_confirm_cancel_title"),
            confirmButton: language.text("rounds_cancel"),
            lines: [
                language.text("rounds_confirm_cancel_1"), language.text("rounds_confirm_cancel_2"),
                language.text("rounds_confirm_cancel_3"),
            ],
            action: SiteURL.roundAction(round.id, .cancel).path,
            cancel: SiteURL.round(round.id).path
        )
        page.asksReason = true
        page.destructive = true
        page.problem = problem
        return try views.page("round_confirm", page, status: status, context: context)
    }

    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try RoundsController.roundID(context)
        var request = request
        let form = try await request.formData(context: context)
        guard form["confirmed"] == "yes" else { return .seeOther(.roundAction(id, .cancel)) }
        do {
            try await roundService.cancel(id, reason: form["reason"] ?? "", actor: context.auditActor, logger: context.logger)
        } catch RoundError.reasonRequired {
            guard let round = try await rounds.round(id) else { throw AppError.notFound }
            return try cancelPage(
                round,
                problem: RoundError.reasonRequired.message(context.language),
                status: .unprocessableContent,
                context: context
            )
        } catch let error as RoundError {
            return .seeOther(.round(id), RoundPageProblem.round(error).query)
        }
        return .seeOther(.rounds, ["cancelled": "1"])
    }

    @Sendable func addBranches(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try RoundsController.roundID(context)
        var request = request
        let form = try await request.formData(context: context)
        let codes = form.all("branch") + RoundsController.codes(form["branches"])
        do {
            let (added, issued) = try await roundService.addBranches(id, codes: codes, actor: context.auditActor, logger: context.logger)
            return .seeOther(.round(id), ["joined": String(added.count), "issued": String(issued)])
        } catch let error as RoundError {
            return .seeOther(.round(id), RoundPageProblem.round(error).query)
        }
    }
}
