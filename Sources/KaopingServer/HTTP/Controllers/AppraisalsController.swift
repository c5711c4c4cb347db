import Foundation
import Hummingbird
import KaopingAggregation

/// The office's pages of the members' appraisal: the rounds, creating one, a round's page with
/// each branch's progress and its actions, the links as slips and as CSV.
public struct AppraisalsController: Sendable {
    let appraisals: AppraisalService
    let views: Views
    let publicBaseURL: String

    public init(services: KaopingServices, views: Views, publicBaseURL: String) {
        self.appraisals = services.appraisals
        self.views = views
        self.publicBaseURL = publicBaseURL
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.appraisals.route, use: list)
        router.get(SiteURL.newAppraisal.route, use: newRound)
        router.post(SiteURL.newAppraisal.route, use: create)
        router.get(SiteURL.appraisal(SiteURL.id).route, use: page)
        router.post(SiteURL.appraisalAction(SiteURL.id, .open).route, use: open)
        router.post(SiteURL.appraisalAction(SiteURL.id, .close).route, use: close)
        router.post(SiteURL.appraisalAction(SiteURL.id, .links).route, use: issueLinks)
        router.post(SiteURL.appraisalAction(SiteURL.id, .representatives).route, use: addRepresentatives)
        router.get(SiteURL.appraisalSlips(SiteURL.id).route, use: slips)
        router.get(SiteURL.appraisalLinksCSV(SiteURL.id).route, use: linksCSV)
        for download in AppraisalDownload.allCases {
            router.get(SiteURL.appraisalDownload(SiteURL.id, download).route) { request, context in
                let round = try await round(context)
                let language = ResultsDownloadsController.downloadLanguage(request)
                return ResultsDownloadsController.response(try await appraisals.download(download, round: round, language: language))
            }
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        try views.page("appraisals", AppraisalsPage(try await appraisals.repository.rounds(), language: context.language), context: context)
    }

    @Sendable func newRound(_ request: Request, context: AppRequestContext) async throws -> Response {
        var page = AppraisalNewPage()
        page.year = String(Calendar(identifier: .gregorian).dateComponents(in: ChinaTime.zone, from: .now).year ?? 2026)
        return try views.page("appraisal_new", page, context: context)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await request.formData(context: context)
        func field(_ name: String) -> String { (form[name] ?? "").trimmingCharacters(in: .whitespaces) }
        var page = AppraisalNewPage(
            title: field("title"),
            year: field("year"),
            opens: field("opens"),
            closes: field("closes"),
            branches: field("branches"),
            quota: field("quota"),
            threshold: field("threshold"),
            representatives: form["representatives"] == "1",
            byPartyGroup: form["by_group"] == "1"
        )
        var draft = AppraisalSpec.Draft(title: page.title, year: Int(page.year) ?? 0)
        draft.opens = page.opens.isEmpty ? nil : page.opens
        draft.closes = page.closes.isEmpty ? nil : page.closes
        let codes = RoundsController.codes(page.branches)
        draft.branches = codes.isEmpty ? .all : .codes(codes)
        draft.topQuota = page.quota.isEmpty ? nil : RoundSpec.Share(page.quota)
        draft.anonymityThreshold = page.threshold.isEmpty ? nil : Int(page.threshold) ?? 0
        draft.representatives = page.representatives
        draft.byPartyGroup = page.byPartyGroup
        do {
            let spec = try AppraisalSpec.build(draft)
            let id = try await appraisals.create(spec, actor: context.auditActor, logger: context.logger)
            return .seeOther(.appraisal(id))
        } catch let error as RoundSpec.ParseError {
            page.problems = error.problems.map { $0.text(context.language) }
        } catch let error as RoundError {
            page.problems = [error.message(context.language)]
        }
        page.hasProblems = true
        return try views.page("appraisal_new", page, status: .unprocessableContent, context: context)
    }

    private func round(_ context: AppRequestContext) async throws -> AppraisalRound {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)), let round = try await appraisals.repository.round(id) else {
            throw AppError.notFound
        }
        return round
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await render(request, round: try await round(context), context: context)
    }

    private func render(
        _ request: Request,
        round: AppraisalRound,
        fileProblems: [String] = [],
        status: HTTPResponse.Status = .ok,
        context: AppRequestContext
    ) async throws -> Response {
        var page = AppraisalRoundPage.make(
            round,
            progress: try await appraisals.repository.progress(round.id),
            waiting: try await appraisals.repository.waiting(round.id),
            language: context.language
        )
        let query = request.uri.queryParameters
        if let issued = query["issued"].flatMap({ Int($0) }) { page.notice = context.language.text("appraisal_links_issued", ["n": issued]) }
        if let status = query["wrong"].flatMap({ AppraisalStatus(rawValue: String($0)) }) {
            page.problem = AppraisalError.wrongStatus(status).message(context.language)
        }
        if let added = query["added"].flatMap({ Int($0) }), let listed = query["listed"].flatMap({ Int($0) }) {
            page.notice = context.language.text("appraisal_representatives_added", ["added": added, "listed": listed])
        }
        page.fileProblems = fileProblems
        page.hasFileProblems = !fileProblems.isEmpty
        return try views.page("appraisal", page, status: status, context: context)
    }

    /// A list of non-party representatives, as CSV or an Excel workbook: added whole, or sent
    /// back with every problem by line.
    @Sendable func addRepresentatives(_ request: Request, context: AppRequestContext) async throws -> Response {
        let round = try await round(context)
        var request = request
        let form = try await MultipartForm.read(&request, limit: context.maxUploadSize)
        guard let file = form.bytes("file"), !file.isEmpty else {
            let missing = context.language.text("org_upload_missing")
            return try await render(request, round: round, fileProblems: [missing], status: .unprocessableContent, context: context)
        }
        do {
            switch try await appraisals.addRepresentatives(round.id, file: file, actor: context.auditActor, logger: context.logger) {
            case .added(let added, let listed):
                return .seeOther(.appraisal(round.id), ["added": String(added), "listed": String(listed)])
            case .problems(let problems, let workbook):
                let lines = problems.map { $0.message(context.language, workbook: workbook) }
                return try await render(request, round: round, fileProblems: lines, status: .unprocessableContent, context: context)
            }
        } catch let error as AppraisalError {
            return try await render(
                request,
                round: round,
                fileProblems: [error.message(context.language)],
                status: .unprocessableContent,
                context: context
            )
        }
    }

    /// Runs an action of the round's page and goes back to it, with what came of it.
    private func act(
        _ context: AppRequestContext,
        _ body: (AppraisalRound) async throws -> KeyValuePairs<String, String>
    ) async throws -> Response {
        let round = try await round(context)
        do {
            return .seeOther(.appraisal(round.id), try await body(round))
        } catch AppraisalError.wrongStatus(let status) {
            return .seeOther(.appraisal(round.id), ["wrong": status.rawValue])
        }
    }

    @Sendable func open(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(context) { round in
            try await appraisals.open(round.id, actor: context.auditActor, logger: context.logger)
            return [:]
        }
    }

    @Sendable func close(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(context) { round in
            try await appraisals.close(round.id, actor: context.auditActor, logger: context.logger)
            return [:]
        }
    }

    @Sendable func issueLinks(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await act(context) { round in
            let issued = try await appraisals.issueLinks(round.id, actor: context.auditActor, logger: context.logger)
            return ["issued": String(issued)]
        }
    }

    /// A4 pages of cut-out slips, one per link not yet used to vote, by branch.
    @Sendable func slips(_ request: Request, context: AppRequestContext) async throws -> Response {
        let round = try await round(context)
        let language = context.language
        let branch = request.uri.queryParameters["branch"].map(String.init)
        let links = try await appraisals.repository.links(round.id, branchCode: branch).filter { !$0.voted }
        var page = SlipsPage(
            title: round.title,
            slips: try links.map { link in
                let url = SiteURL.appraisalLink(token: link.token).absolute(base: publicBaseURL)
                return SlipsPage.Slip(branch: link.branchName, url: url, qr: try QRCode.svg(url, title: link.branchName), code: link.shortCode)
            },
            deadline: round.closesAt.map { language.text("slips_deadline", ["time": ChinaTime.format($0)]) },
            codeEntry: language.text("slips_code_entry", ["address": SiteURL.codeEntry.absolute(base: publicBaseURL)]),
            instructions: language.text("appraisal_slips_instructions"),
            countText: language.text("appraisal_slips_count", ["n": links.count]),
            none: language.text("appraisal_slips_none"),
            linkBase: LinkBase(publicBaseURL)
        )
        page.heading = language.text("appraisal_slips_heading", ["title": round.title])
        return try views.page("slips", page, context: context)
    }

    @Sendable func linksCSV(_ request: Request, context: AppRequestContext) async throws -> Response {
        let round = try await round(context)
        let csv = InvitationCSV.appraisalLinks(try await appraisals.repository.links(round.id), publicBaseURL: publicBaseURL)
        let name = "\(round.title)-测评链接.csv"
        return Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: Response.attachment(name, fallback: "appraisal-links.csv")],
            body: .init(byteBuffer: ByteBuffer(string: csv))
        )
    }
}

/// A branch's committee page (组织评定), for that branch's secretary and the administrators;
/// the administrators also approve or return the proposals there.
public struct AppraisalCommitteeController: Sendable {
    let appraisals: AppraisalService
    let views: Views

    public init(services: KaopingServices, views: Views) {
        self.appraisals = services.appraisals
        self.views = views
    }

    /// The page and the proposals, for the branch's secretary and administrators (the router's
    /// middleware decides who reads which branch).
    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.appraisalBranch(SiteURL.id, branchCode: SiteURL.code).route, use: page)
        router.post(SiteURL.appraisalBranch(SiteURL.id, branchCode: SiteURL.code).route, use: propose)
    }

    /// Approving or returning, for administrators.
    public func addDecisionRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post(SiteURL.appraisalDecision(SiteURL.id, branchCode: SiteURL.code).route, use: decide)
    }

    private func book(_ context: AppRequestContext) async throws -> AppraisalService.BranchBook {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)), let code = context.parameters.get("code"),
            let round = try await appraisals.repository.round(id), round.status != .draft, round.status != .scheduled,
            let book = try await appraisals.book(round, branchCode: code)
        else { throw AppError.notFound }
        return book
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let book = try await book(context)
        var page = AppraisalBranchPage.make(book, inputs: nil, review: nil, isAdministrator: context.user?.role == .admin, language: context.language)
        let query = request.uri.queryParameters
        if query["saved"] != nil { page.notice = context.language.text("appraisal_proposals_saved") }
        if query["submitted"] != nil { page.notice = context.language.text("appraisal_proposals_submitted") }
        if query["decided"] != nil { page.notice = context.language.text("appraisal_decided") }
        if let state = query["state"].flatMap({ AppraisalReviewState(rawValue: String($0)) }) {
            page.notice = AppraisalError.reviewState(state).message(context.language)
        }
        return try views.page("appraisal_branch", page, context: context)
    }

    @Sendable func propose(_ request: Request, context: AppRequestContext) async throws -> Response {
        let book = try await book(context)
        var request = request
        let form = try await request.formData(context: context)
        var inputs: [UUID: AppraisalService.ProposalInput] = [:]
        for subject in book.appraised {
            let field = subject.memberID.lowercased
            inputs[subject.memberID] = AppraisalService.ProposalInput(
                category: form["category_\(field)"] ?? "",
                note: (form["note_\(field)"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
                explanation: (form["explanation_\(field)"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            )
        }
        let submit = form["action"] == "submit"
        let outcome: AppraisalService.ProposalOutcome
        do {
            outcome = try await appraisals.propose(inputs, book: book, submit: submit, actor: context.auditActor, logger: context.logger)
        } catch AppraisalError.reviewState(let state) {
            return .seeOther(.appraisalBranch(book.round.id, branchCode: book.branchCode), ["state": state.rawValue])
        } catch AppraisalError.notClosed {
            return .seeOther(.appraisalBranch(book.round.id, branchCode: book.branchCode), ["state": book.review.rawValue])
        }
        switch outcome {
        case .saved(let submitted):
            return .seeOther(.appraisalBranch(book.round.id, branchCode: book.branchCode), submitted ? ["submitted": "1"] : ["saved": "1"])
        case .refused(let review):
            let page = AppraisalBranchPage.make(
                book,
                inputs: inputs,
                review: review,
                isAdministrator: context.user?.role == .admin,
                language: context.language
            )
            return try views.page("appraisal_branch", page, status: .unprocessableContent, context: context)
        }
    }

    @Sendable func decide(_ request: Request, context: AppRequestContext) async throws -> Response {
        let book = try await book(context)
        var request = request
        let form = try await request.formData(context: context)
        let approve = form["decision"] == "approve"
        let comment = (form["comment"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            try await appraisals.decide(
                book.round,
                branchCode: book.branchCode,
                approve: approve,
                comment: comment,
                actor: context.auditActor,
                logger: context.logger
            )
        } catch AppraisalError.reviewState(let state) {
            return .seeOther(.appraisalBranch(book.round.id, branchCode: book.branchCode), ["state": state.rawValue])
        } catch AppraisalError.commentRequired {
            var page = AppraisalBranchPage.make(book, inputs: nil, review: nil, isAdministrator: true, language: context.language)
            page.refusals = [AppraisalError.commentRequired.message(context.language)]
            page.hasRefusals = true
            return try views.page("appraisal_branch", page, status: .unprocessableContent, context: context)
        }
        return .seeOther(.appraisalBranch(book.round.id, branchCode: book.branchCode), ["decided": "1"])
    }
}
