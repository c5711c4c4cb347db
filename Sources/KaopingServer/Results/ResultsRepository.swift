import Foundation
import KaopingAggregation
import KaopingForms
import Logging
import PostgresNIO

/// Reads a round's answers from PostgreSQL into the scoring method's inputs (docs/scoring.md)
/// and runs it. Rows are streamed and kept in compact form: a round can hold a million
/// responses.
public struct ResultsRepository: Sendable {
    let database: Database
    let forms: any FormRepository

    public init(database: Database, forms: any FormRepository) {
        self.database = database
        self.forms = forms
    }

    public enum ResultsError: Error, Equatable {
        /// The round has not opened: its forms are not frozen yet.
        case notOpened
    }

    /// The round's results as they stand (provisional while it is open).
    public func compute(roundID: UUID, logger: Logger) async throws -> RoundResult? {
        try await database.withConnection { connection in
            try await Self.compute(roundID: roundID, forms: forms, connection: connection, logger: logger)
        }
    }

    /// The method's inputs for a round, as they stand.
    public func input(roundID: UUID, logger: Logger) async throws -> RoundInput? {
        try await database.withConnection { connection in
            try await Self.input(roundID: roundID, forms: forms, connection: connection, logger: logger)
        }
    }

    static func compute(roundID: UUID, forms: any FormRepository, connection: PostgresConnection, logger: Logger) async throws -> RoundResult? {
        guard let input = try await input(roundID: roundID, forms: forms, connection: connection, logger: logger) else { return nil }
        return Aggregation.run(input)
    }

    /// Everything the method reads about a round, from one connection (so that the closing
    /// transaction sees the ballots it has just mixed in).
    static func input(roundID: UUID, forms: any FormRepository, connection: PostgresConnection, logger: Logger) async throws -> RoundInput? {
        var round: (config: String, hash: String)?
        for try await row in try await connection.query(
            "SELECT config::text, coalesce(config_hash, '') FROM rounds WHERE id = \(roundID)", logger: logger
        ).decode((String, String).self) { round = (row.0, row.1) }
        guard let round else { return nil }

        var formVersions: [RoundConfiguration.RaterGroup: UUID] = [:]
        var weights: [RoundConfiguration.RaterGroup: Double] = [:]
        for try await (name, version, weight) in try await connection.query(
            "SELECT rater_group, form_version_id, weight FROM round_groups WHERE round_id = \(roundID)", logger: logger
        ).decode((String, UUID?, Double).self) {
            guard let group = RoundConfiguration.RaterGroup(rawValue: name) else { continue }
            guard let version else { throw ResultsError.notOpened }
            formVersions[group] = version
            weights[group] = weight
        }
        let configuration = Self.configuration(round.config, groups: weights)

        var sheet: SheetLayout?
        var dimensionKeys: [RoundConfiguration.RaterGroup: [String]] = [:]
        for (group, version) in formVersions {
            guard let form = try await forms.definition(id: version) else { continue }
            if group == .organisation {
                sheet = Self.layout(form)
            } else {
                dimensionKeys[group] = form.dimensions.map(\.key)
            }
        }

        var subjects: [UUID: SubjectInput] = [:]
        for try await (id, code, name, parent, eligible) in try await connection.query(
            """
            SELECT rb.branch_id, b.code, b.name, o.name, rb.eligible_members
            FROM round_branches rb JOIN branches b ON b.id = rb.branch_id LEFT JOIN organisations o ON o.id = b.organisation_id
            WHERE rb.round_id = \(roundID)
            """,
            logger: logger
        ).decode((UUID, String, String, String?, Int).self) {
            subjects[id] = SubjectInput(code: code, name: name, parent: parent, eligibleMembers: eligible)
        }

        for group in [RoundConfiguration.RaterGroup.members, .public] where formVersions[group] != nil {
            let keys = dimensionKeys[group] ?? []
            for try await (branch, score, dimensions, straight, satisfied) in try await connection.query(
                responsesQuery(roundID: roundID, group: group, dimensionKeys: keys), logger: logger
            ).decode((UUID, Double?, [Double], Bool, Bool?).self) {
                let response = ResponseInput(
                    score: score, dimensions: dimensions.map { $0.isNaN ? nil : $0 }, straightLined: straight, satisfied: satisfied
                )
                subjects[branch]?.responses[group, default: []].append(response)
            }
        }

        if sheet != nil {
            var sheets: [UUID: [String: SheetInput]] = [:]
            for try await (branch, evaluator, item, lost, earned, passed) in try await connection.query(
                """
                SELECT s.branch_id, u.username, e.item_key, e.points_lost, e.points_earned, e.passed
                FROM org_sheets s JOIN users u ON u.id = s.evaluator_id LEFT JOIN org_sheet_entries e ON e.sheet_id = s.id
                WHERE s.round_id = \(roundID) AND s.status = 'submitted'
                """,
                logger: logger
            ).decode((UUID, String, String?, Double?, Double?, Bool?).self) {
                var entry = sheets[branch, default: [:]][evaluator] ?? SheetInput(evaluator: evaluator)
                if let item {
                    if let lost { entry.lost[item] = lost }
                    if let earned { entry.bonus[item] = earned }
                    if passed == false { entry.failedBaselines.insert(item) }
                }
                sheets[branch, default: [:]][evaluator] = entry
            }
            for (branch, byEvaluator) in sheets { subjects[branch]?.sheets = Array(byEvaluator.values) }
        }

        return RoundInput(
            configuration: configuration, configurationHash: round.hash, sheet: sheet, dimensionKeys: dimensionKeys,
            subjects: Array(subjects.values)
        )
    }

    /// Responses and the ballots still waiting in the box, each with its dimension scores in
    /// the order of `dimensionKeys` (NaN where a dimension was not scored).
    static func responsesQuery(roundID: UUID, group: RoundConfiguration.RaterGroup, dimensionKeys: [String]) -> PostgresQuery {
        var binds = PostgresBindings()
        binds.append(roundID)
        binds.append(group.rawValue)
        var responseDimensions: [String] = [], ballotDimensions: [String] = []
        for key in dimensionKeys {
            binds.append(key)
            let placeholder = "$\(binds.count)"
            responseDimensions.append("coalesce((dimension_scores->>\(placeholder))::float8, 'NaN')")
            ballotDimensions.append("coalesce((ballot->'dimensions'->>\(placeholder))::float8, 'NaN')")
        }
        return PostgresQuery(
            unsafeSQL: """
                SELECT branch_id, score, ARRAY[\(responseDimensions.joined(separator: ", "))]::float8[], straight_lined, satisfied
                FROM responses WHERE round_id = $1 AND rater_group = $2
                UNION ALL
                SELECT branch_id, (ballot->>'score')::float8, ARRAY[\(ballotDimensions.joined(separator: ", "))]::float8[],
                       coalesce((ballot->>'straightLined')::boolean, false), (ballot->>'satisfied')::boolean
                FROM ballot_box WHERE round_id = $1 AND rater_group = $2
                """,
            binds: binds
        )
    }

    /// The round's stored configuration; a round without one (made by hand in the database)
    /// gets the method's defaults for the groups it has.
    static func configuration(_ json: String, groups weights: [RoundConfiguration.RaterGroup: Double]) -> RoundConfiguration {
        if let stored = try? JSONDecoder().decode(RoundConfiguration.self, from: Data(json.utf8)) { return stored }
        var configuration = RoundConfiguration()
        configuration.groups = configuration.groups.filter { weights[$0.key] != nil }
        for (group, weight) in weights { configuration.groups[group]?.weight = weight }
        return configuration
    }

    /// The items of a score sheet the method needs.
    static func layout(_ form: FormDefinition) -> SheetLayout {
        SheetLayout(
            deductions: form.items.filter { $0.type == .deduction }.map { .init(key: $0.key, maximum: $0.maximum ?? 0) },
            baselines: form.items.filter { $0.type == .baseline }.map(\.key),
            bonuses: form.items.filter { $0.type == .bonus }.map { .init(key: $0.key, cap: $0.maximum ?? 0) }
        )
    }
}
