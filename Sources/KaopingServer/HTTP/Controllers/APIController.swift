import Foundation
import Hummingbird
import KaopingAggregation

/// Requests under `/api/v1` carry `Authorization: Bearer kp_…`, a token an administrator made.
/// A read-only token is refused where writing is needed.
public struct APITokenMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let tokens: APITokenRepository
    let throttle: APITokenThrottle
    let trustForwardedFor: Bool
    let needs: APIScope

    public init(tokens: APITokenRepository, throttle: APITokenThrottle, trustForwardedFor: Bool, needs: APIScope = .read) {
        self.tokens = tokens
        self.throttle = throttle
        self.trustForwardedFor = trustForwardedFor
        self.needs = needs
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // An address that has sent too many invalid tokens is refused before its token is
        // looked at, a valid one's too: otherwise a guess that hit would still be told apart.
        let address = context.clientAddress(request, trustForwardedFor: trustForwardedFor)
        if let wait = try await throttle.wait(address: address) { throw throttled(wait) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            // No token at all is a mistake, not a guess: refused, not counted.
            throw AppError(status: .unauthorized, messageKey: "api_unauthorized")
        }
        guard let token = try await tokens.verify(String(header.dropFirst("Bearer ".count))) else {
            guard try await throttle.failed(address: address) else {
                throw throttled(try await throttle.wait(address: address) ?? Int(throttle.limits.window.components.seconds))
            }
            throttle.countInvalid()
            throw AppError(status: .unauthorized, messageKey: "api_unauthorized")
        }
        guard token.scope.allows(needs) else {
            throw AppError(status: .forbidden, messageKey: needs == .appraisals ? "api_no_appraisals" : "api_read_only")
        }
        var context = context
        context.apiToken = (token.id, token.name)
        return try await next(request, context)
    }

    private func throttled(_ wait: Int) -> AppError {
        throttle.countThrottled()
        return AppError(status: .tooManyRequests, messageKey: "api_throttled", retryAfter: wait)
    }
}

/// The JSON API for integrations (described in `/api/v1/openapi.yaml`): the rounds, and each
/// round's results with the same figures as the results download.
public struct APIController: Sendable {
    let rounds: RoundRepository
    let results: ResultsService
    let organisation: OrganisationRepository
    let history: BranchHistoryRepository
    let imports: ImportService
    let appraisals: AppraisalService

    public init(services: KaopingServices) {
        self.appraisals = services.appraisals
        self.rounds = services.roundRepository
        self.results = services.results
        self.organisation = services.organisation
        // Records are results: read where the results are (a standby, when there is one).
        self.history = services.results.history
        self.imports = services.imports
    }

    /// The description is public, like any API reference.
    public func addPublicRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.apiOpenAPI.route) { _, _ -> Response in
            let text = (try? String(contentsOfFile: Resources.path("openapi.yaml"), encoding: .utf8)) ?? ""
            return Response(
                status: .ok,
                headers: [.contentType: "application/yaml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: text))
            )
        }
    }

    /// The members' appraisal: tokens with the appraisals scope only.
    public func addAppraisalRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.apiAppraisalResults(SiteURL.id).route, use: appraisalResults)
    }

    struct AppraisalDocument: Encodable {
        struct Category: Encodable {
            let key: String
            let name: String
            let englishName: String
        }
        struct Votes: Encodable {
            /// Votes that chose a category.
            let cast: Int
            /// By category key; `abstain` for "not able to judge". Absent below the threshold.
            let byCategory: [String: Int]?
            /// The same per voter group (`members`, `representatives`); present only when every
            /// group that voted cast at least the threshold's votes.
            let byGroup: [String: [String: Int]]?
            /// The most voted category (ties to the lower); absent below the threshold.
            let suggested: String?
            let withheld: Bool
        }
        struct Member: Encodable {
            let staffNumber: String
            let name: String
            let partyGroup: String?
            let leftDuringRound: Bool
            let votes: Votes
            /// The committee's proposal as it stands: final only when `categoryApproved`.
            let category: String?
            /// Whether the party committee has approved the branch's proposals.
            let categoryApproved: Bool
            let note: String?
            let flags: [String]
        }
        struct Branch: Encodable {
            let code: String
            let name: String
            /// pending, submitted, returned or approved.
            let review: String
            /// How many members in each category (by key), never who.
            let counts: [String: Int]
            let members: [Member]
        }
        let id: String
        let title: String
        let year: Int
        let status: String
        let categories: [Category]
        let topQuota: Double
        let anonymityThreshold: Int
        let branches: [Branch]
    }

    /// Every member of every branch with their tally (withheld below k) and category.
    @Sendable func appraisalResults(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)), let round = try await appraisals.repository.round(id) else {
            throw AppError.notFound
        }
        let results = try await appraisals.results(round)
        let settings = round.settings
        let keys = settings.categories.map(\.key)
        let document = AppraisalDocument(
            id: round.id.lowercased,
            title: round.title,
            year: round.year,
            status: round.status.rawValue,
            categories: settings.categories.map { .init(key: $0.key, name: $0.name, englishName: $0.englishName) },
            topQuota: settings.topQuota,
            anonymityThreshold: settings.anonymityThreshold,
            branches: results.branches.map { branch in
                AppraisalDocument.Branch(
                    code: branch.code,
                    name: branch.name,
                    review: branch.review.rawValue,
                    counts: Dictionary(uniqueKeysWithValues: zip(keys, branch.counts(settings))),
                    members: branch.members.map { member in
                        let tally = member.tally
                        let shown = tally.isShown(threshold: settings.anonymityThreshold)
                        var byCategory = Dictionary(uniqueKeysWithValues: zip(keys, tally.combined(categories: keys.count)))
                        byCategory[AppraisalSettings.abstain] = tally.abstentions.values.reduce(0, +)
                        var byGroup: [String: [String: Int]]?
                        if shown && tally.isSplitShown(threshold: settings.anonymityThreshold) {
                            byGroup = Dictionary(
                                uniqueKeysWithValues: AppraisalVoterGroup.allCases.map { group in
                                    var counts = Dictionary(uniqueKeysWithValues: zip(keys, tally.votes(of: group, categories: keys.count)))
                                    counts[AppraisalSettings.abstain] = tally.abstentions[group] ?? 0
                                    return (group.rawValue, counts)
                                }
                            )
                        }
                        return AppraisalDocument.Member(
                            staffNumber: member.subject.staffNumber,
                            name: member.subject.name,
                            partyGroup: member.subject.partyGroup,
                            leftDuringRound: member.subject.hasLeft,
                            votes: .init(
                                cast: tally.cast,
                                byCategory: shown ? byCategory : nil,
                                byGroup: byGroup,
                                suggested: shown ? tally.suggested(categories: keys.count).map { keys[$0] } : nil,
                                withheld: !shown
                            ),
                            category: member.proposal?.category,
                            categoryApproved: branch.review == .approved && member.proposal != nil,
                            note: member.proposal?.note,
                            flags: member.proposal?.flags ?? []
                        )
                    }
                )
            }
        )
        return try Self.json(document)
    }

    /// Routes that change data: tokens with the write scope only.
    public func addWriteRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post(SiteURL.apiPerformance.route, use: postPerformance)
    }

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.apiRounds.route, use: list)
        router.get(SiteURL.apiBranchHistory(SiteURL.code).route, use: branchHistory)
    }

    /// Routes of one round (`{id}`), behind `RoundResolverMiddleware`, which loads it.
    public func addRoundRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.apiRoundResults(SiteURL.id).route, use: roundResults)
        router.get(SiteURL.apiRoundIntegration(SiteURL.id).route, use: roundIntegration)
        router.get(SiteURL.apiRoundDiagnostic(SiteURL.id).route, use: roundDiagnostic)
    }

    struct RoundItem: Encodable {
        let id: String
        let title: String
        let year: Int
        let status: String
        let opensAt: Date?
        let closesAt: Date?
        let closedAt: Date?
        let branches: Int
        let configurationHash: String?
    }

    struct ResultsDocument: Encodable {
        let round: RoundItem
        /// True while the round is open: the figures will change until it closes.
        let provisional: Bool
        let computedAt: Date
        let results: RoundResult
    }

    struct IntegrationDocument: Encodable {
        let round: RoundItem
        /// True while the round is open; false once the sheet is frozen with the closed round.
        let provisional: Bool
        let integration: IntegratedSheet
    }

    /// The integrated sheet (docs/integration.md); 404 while the year has no performance results.
    @Sendable func roundIntegration(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (round, current) = try await results.roundAndResults(for: context)
        guard let sheet = try await results.integratedSheet(round, current, logger: context.logger) else {
            throw AppError(status: .notFound, messageKey: "api_no_performance")
        }
        return try Self.json(IntegrationDocument(round: Self.item(round.summary), provisional: sheet.provisional, integration: sheet.sheet))
    }

    struct HistoryDocument: Encodable {
        struct Year: Encodable {
            let round: String
            let record: BranchRecord.Year
            /// The change of the combined score from the year before.
            let change: Double?
            let rankShare: Double?
            /// proposed, publicity or approved.
            let stage: String
            /// The meeting's reference of an approved year.
            let approvalReference: String?
        }
        struct Assessment: Encodable {
            let firstYear: Int
            let lastYear: Int
            let level: String
            let judgement: String
            let author: String
            let createdAt: Date
            let updatedAt: Date
        }
        let branch: [String: String]
        let years: [Year]
        let trend: String?
        /// Points a year over the last three years.
        let slope: Double?
        let watch: String?
        let assessments: [Assessment]
    }

    /// A branch's record over the years and the committee's qualitative assessments.
    @Sendable func branchHistory(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let code = context.parameters.get("code"),
            let branch = try await organisation.branch(code: code)
        else { throw AppError.notFound }
        let repository = self.history
        let history = try await repository.years(code: code)
        let changes = BranchRecord.changes(history.years)
        let trend = BranchRecord.trend(history.years)
        let grades = try await repository.grades(of: history.rounds.last)
        return try Self.json(
            HistoryDocument(
                branch: ["code": branch.code, "name": branch.name],
                years: history.years.enumerated().map { index, year in
                    let finality = history.finality[index]
                    var reference: String?
                    if case .approved(let approved) = finality { reference = approved }
                    return .init(
                        round: history.rounds[index].uuidString.lowercased(),
                        record: year,
                        change: changes[index],
                        rankShare: year.rankShare,
                        stage: finality.key,
                        approvalReference: reference
                    )
                },
                trend: trend?.trend.rawValue,
                slope: trend?.slope,
                watch: BranchRecord.watch(history.years, grades: grades)?.rawValue,
                assessments: try await repository.assessments(code: code).map { assessment in
                    .init(
                        firstYear: assessment.firstYear,
                        lastYear: assessment.lastYear,
                        level: assessment.level.rawValue,
                        judgement: assessment.judgement,
                        author: assessment.author,
                        createdAt: assessment.createdAt,
                        updatedAt: assessment.updatedAt
                    )
                }
            )
        )
    }

    struct PerformanceProblem: Encodable {
        /// 1 for the first entry of `results`.
        let entry: Int
        let message: String
    }

    /// A year's performance results as the performance office's system sends them: the same
    /// rules as a file (every problem named by entry, all or nothing), stored as the year's next
    /// version, recorded in the audit log under the token's name.
    @Sendable func postPerformance(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: max(context.maxUploadSize, 8 * 1024 * 1024))
        let language = context.language
        func refuse(_ problems: [PerformanceProblem]) throws -> Response {
            var response = try Self.json(["problems": problems])
            response.status = .unprocessableContent
            return response
        }
        switch try await imports.applyPosted(Data(buffer: body), actor: context.auditActor, logger: context.logger) {
        case .stored(let load):
            var response = try Self.json(["year": load.year, "version": load.version, "units": load.units])
            response.status = .created
            return response
        case .unreadable(let problem):
            let key =
                switch problem {
                case .notJSON: "api_performance_not_json"
                case .year: "api_performance_year"
                case .noResults: "api_performance_no_results"
                }
            return try refuse([.init(entry: 0, message: language.text(key))])
        case .refused(let problems):
            return try refuse(problems.map { PerformanceProblem(entry: $0.line, message: $0.detail(language)) })
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        // A cancelled round is kept for the record, not offered to the systems that read results.
        try Self.json(["rounds": try await rounds.list().filter { $0.status != .cancelled }.map(Self.item)])
    }

    @Sendable func roundResults(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (round, current) = try await results.roundAndResults(for: context)
        let document = ResultsDocument(
            round: Self.item(round.summary),
            provisional: current.provisional,
            computedAt: current.computedAt,
            results: current.result
        )
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody { writer in
                try await Self.pieces(of: document) { piece in try await writer.write(ByteBuffer(data: piece)) }
                try await writer.finish(nil)
            }
        )
    }

    /// The results document in pieces of about `size` bytes, one branch after another
    /// (`ResultsJSON`): the bytes `json` makes of it whole, without holding a province's 28 MB
    /// document and the encoder's tree of it, which grew the server by 237 MB.
    static func pieces(of document: ResultsDocument, size: Int = 64 * 1024, write: (Data) async throws -> Void) async throws {
        let encoder = Self.encoder
        var piece = Data(#"{"computedAt":"#.utf8)
        piece.append(try encoder.encode(document.computedAt))
        piece.append(contentsOf: #","provisional":"#.utf8)
        piece.append(try encoder.encode(document.provisional))
        piece.append(contentsOf: #","results":"#.utf8)
        try await ResultsJSON.write(document.results, encoder: encoder, to: &piece, size: size, send: write)
        piece.append(contentsOf: #","round":"#.utf8)
        piece.append(try encoder.encode(document.round))
        piece.append(UInt8(ascii: "}"))
        try await write(piece)
    }

    static func item(_ round: RoundSummary) -> RoundItem {
        RoundItem(
            id: round.id.uuidString.lowercased(),
            title: round.title,
            year: round.year,
            status: round.status.rawValue,
            opensAt: round.opensAt,
            closesAt: round.closesAt,
            closedAt: round.closedAt,
            branches: round.branches,
            configurationHash: round.configHash
        )
    }

    static var encoder: JSONEncoder { ResultsJSON.encoder }

    static func json(_ value: some Encodable) throws -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(data: try encoder.encode(value)))
        )
    }
}
