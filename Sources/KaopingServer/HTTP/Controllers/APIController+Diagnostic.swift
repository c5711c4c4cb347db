// Controllers: one per family of pages (and the JSON API), each registering its routes with
// `addRoutes(to:)`; big controllers are split by aspect into `Name+Aspect.swift` files.

import Foundation
import Hummingbird
import KaopingAggregation

extension APIController {
    /// The two-skins diagnostic (docs/integration.md): every branch with both scores, where it
    /// stands, and how closely the two orders agree; the same figures as the 党建与业务 page.
    struct DiagnosticDocument: Encodable {
        struct Correlation: Encodable {
            let coefficient: Double
            let low: Double?
            let high: Double?
            let n: Int

            init?(_ correlation: Integration.Correlation?) {
                guard let correlation else { return nil }
                (coefficient, low, high, n) = (correlation.coefficient, correlation.low, correlation.high, correlation.n)
            }
        }
        struct Branch: Encodable {
            let code: String
            let name: String
            let businessScore: Double
            let partyScore: Double
            let businessRank: Int
            let partyRank: Int
            /// Party-building rank minus business rank.
            let gap: Int
            let flagged: Bool
            let quadrant: String
        }
        struct Dimension: Encodable {
            let key: String
            let label: String
            let correlation: Correlation?
        }
        let round: RoundItem
        let provisional: Bool
        let performanceYear: Int
        let businessLine: Double
        let partyLine: Double
        let spearman: Correlation?
        let pearson: Correlation?
        let quadrants: [String: Int]
        let dimensions: [Dimension]
        let branches: [Branch]
        /// Branches with a party-building score but no business score for the year.
        let excluded: [[String: String]]
    }

    /// The diagnostic; 404 while fewer than two branches have both scores.
    @Sendable func roundDiagnostic(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (round, current) = try await results.roundAndResults(for: context)
        let found = try await results.diagnostic(round, current)
        guard let diagnostic = found.diagnostic else { throw AppError(status: .notFound, messageKey: "api_no_diagnostic") }
        let labels = Dictionary(
            (found.memberForm?.dimensions ?? []).map { ($0.key, $0.label.text(english: false)) },
            uniquingKeysWith: { first, _ in first }
        )
        return try Self.json(
            DiagnosticDocument(
                round: Self.item(round.summary),
                provisional: current.provisional,
                performanceYear: found.year,
                businessLine: diagnostic.businessLine,
                partyLine: diagnostic.partyLine,
                spearman: .init(diagnostic.spearman),
                pearson: .init(diagnostic.pearson),
                quadrants: Dictionary(uniqueKeysWithValues: Integration.Quadrant.allCases.map { ($0.rawValue, diagnostic.quadrantCounts[$0] ?? 0) }),
                dimensions: diagnostic.dimensions.map { .init(key: $0.key, label: labels[$0.key] ?? $0.key, correlation: .init($0.correlation)) },
                branches: diagnostic.branches.map { branch in
                    .init(
                        code: branch.code,
                        name: branch.name,
                        businessScore: branch.business,
                        partyScore: branch.party,
                        businessRank: branch.standing.rank.businessRank,
                        partyRank: branch.standing.rank.partyRank,
                        gap: branch.standing.rank.gap,
                        flagged: branch.standing.rank.flagged,
                        quadrant: branch.standing.quadrant.rawValue
                    )
                },
                excluded: diagnostic.excluded.map { ["code": $0.code, "name": $0.name] }
            )
        )
    }
}
