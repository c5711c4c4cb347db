import Foundation
import KaopingAggregation
import Logging
import PostgresNIO

/// The tallies `response_tallies` keeps of a round's responses (sql/0025_response_tallies.sql):
/// compared with the responses they sum, and made again from them.
public struct TallyRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// A branch and group whose kept tally is not what its responses add up to.
    public struct Difference: Sendable, Equatable {
        public let branchCode: String
        public let group: String
        public let kept: ResponseTally?
        public let fromResponses: ResponseTally?
    }

    /// What was compared: how many branch tallies, and which differ.
    public struct Check: Sendable {
        public let compared: Int
        public let differences: [Difference]
    }

    /// Compares every kept tally of the round with the tally of its responses, read in one
    /// transaction so that both see the same responses. `nil` when there is no such round.
    public func verify(roundID: UUID, logger: Logger) async throws -> Check? {
        try await database.transaction(logger: logger) { connection in
            try await connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            var groups: [(RoundConfiguration.RaterGroup, Int)] = []
            var exists = false
            for try await (name, dimensions) in try await connection.query(
                """
                SELECT g.rater_group, coalesce(jsonb_array_length(v.definition -> 'dimensions'), 0)
                FROM rounds r LEFT JOIN round_groups g ON g.round_id = r.id LEFT JOIN form_versions v ON v.id = g.form_version_id
                WHERE r.id = \(roundID)
                """,
                logger: logger
            ).decode((String?, Int).self) {
                exists = true
                if let name, let group = RoundConfiguration.RaterGroup(rawValue: name), group != .organisation { groups.append((group, dimensions)) }
            }
            guard exists else { return nil }
            var codes: [UUID: String] = [:]
            for try await (id, code) in try await connection.query(
                "SELECT b.id, b.code FROM round_branches rb JOIN branches b ON b.id = rb.branch_id WHERE rb.round_id = \(roundID)",
                logger: logger
            ).decode((UUID, String).self) { codes[id] = code }
            var compared = 0
            var differences: [Difference] = []
            for (group, dimensions) in groups.sorted(by: { $0.0.rawValue < $1.0.rawValue }) {
                var sides: [Bool: [UUID: ResponseTally]] = [:]
                for kept in [true, false] {
                    let query = TallyQuery(
                        roundID: roundID,
                        group: group,
                        dimensions: dimensions,
                        drop: TallyQuery.keptExtremes,
                        fromKeptTallies: kept
                    )
                    var tallies: [UUID: ResponseTally] = [:]
                    for try await row in try await connection.query(query.sql, logger: logger) {
                        let (branch, tally) = try query.decode(row)
                        tallies[branch] = tally
                    }
                    sides[kept] = tallies
                }
                let kept = sides[true] ?? [:]
                let fromResponses = sides[false] ?? [:]
                for branch in Set(kept.keys).union(fromResponses.keys) {
                    compared += 1
                    if kept[branch] != fromResponses[branch] {
                        differences.append(
                            Difference(
                                branchCode: codes[branch] ?? branch.uuidString.lowercased(),
                                group: group.rawValue,
                                kept: kept[branch],
                                fromResponses: fromResponses[branch]
                            )
                        )
                    }
                }
            }
            return Check(compared: compared, differences: differences.sorted { ($0.branchCode, $0.group) < ($1.branchCode, $1.group) })
        }
    }

    /// Makes every tally of the round again from its responses, and removes any kept for a
    /// branch and group that has none. Returns how many tallies it now keeps.
    static func rebuild(roundID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        try await connection.execute(
            """
            SELECT refresh_response_tallies(array_agg(round_id), array_agg(branch_id), array_agg(rater_group))
            FROM (SELECT round_id, branch_id, rater_group FROM responses WHERE round_id = \(roundID)
                  UNION SELECT round_id, branch_id, rater_group FROM response_tallies WHERE round_id = \(roundID)) k
            """,
            logger: logger
        )
        var kept = 0
        for try await count in try await connection.query(
            "SELECT count(*)::int FROM response_tallies WHERE round_id = \(roundID)",
            logger: logger
        ).decode(Int.self) { kept = count }
        return kept
    }
}
