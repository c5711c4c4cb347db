import Foundation
import Hummingbird
import KaopingAggregation

/// Requests under `/api/v1` carry `Authorization: Bearer kp_…`, a token an administrator made.
public struct APITokenMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext
    let tokens: APITokenRepository

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            try await tokens.verify(String(header.dropFirst("Bearer ".count))) != nil
        else {
            throw AppError(status: .unauthorized, messageKey: "api_unauthorized")
        }
        return try await next(request, context)
    }
}

/// The JSON API for integrations (described in `/api/v1/openapi.yaml`): the rounds, and each
/// round's results with the same figures as the results download.
public struct APIController: Sendable {
    let rounds: RoundRepository
    let results: ResultsRepository

    public init(rounds: RoundRepository, results: ResultsRepository) {
        self.rounds = rounds
        self.results = results
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

    public func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get(SiteURL.apiRounds.route, use: list)
        router.get(SiteURL.apiRoundResults(SiteURL.id).route, use: roundResults)
        router.get(SiteURL.apiRoundIntegration(SiteURL.id).route, use: roundIntegration)
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
        let (round, current) = try await results.requested(context, rounds: rounds)
        let configuration = try await rounds.configuration(round.id) ?? RoundConfiguration()
        guard
            let sheet = try await IntegratedSheets(database: results.database, results: results).current(
                roundID: round.id,
                roundYear: round.year,
                configuration: configuration,
                results: current,
                logger: context.logger
            )
        else { throw AppError(status: .notFound, messageKey: "api_no_performance") }
        return try Self.json(IntegrationDocument(round: Self.item(round), provisional: sheet.provisional, integration: sheet.sheet))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        try Self.json(["rounds": try await rounds.list().map(Self.item)])
    }

    @Sendable func roundResults(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (round, current) = try await results.requested(context, rounds: rounds)
        return try Self.json(
            ResultsDocument(round: Self.item(round), provisional: current.provisional, computedAt: current.computedAt, results: current.result)
        )
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

    static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(data: try encoder.encode(value)))
        )
    }
}
