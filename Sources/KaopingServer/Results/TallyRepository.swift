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

    /// A score sheet whose kept items (sql/0027_sheet_items_kept.sql) are not its entries.
    public struct SheetDifference: Sendable, Equatable {
        public let branchCode: String
        public let evaluator: String
    }

    /// What was compared: how many branch tallies and sheets, and which differ.
    public struct Check: Sendable {
        public let compared: Int
        public let differences: [Difference]
        public let sheetsCompared: Int
        public let sheetDifferences: [SheetDifference]
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
            var sheetsCompared = 0
            var sheetDifferences: [SheetDifference] = []
            for try await (code, evaluator, same) in try await connection.query(
                """
                SELECT b.code, u.username,
                       (s.lost_items, s.points_lost, s.earned_items, s.points_earned, s.failed_items)
                       IS NOT DISTINCT FROM (e.lost_items, e.points_lost, e.earned_items, e.points_earned, e.failed_items)
                FROM org_sheets s JOIN branches b ON b.id = s.branch_id JOIN users u ON u.id = s.evaluator_id
                CROSS JOIN LATERAL sheet_items(s.id) e
                WHERE s.round_id = \(roundID)
                ORDER BY b.code, u.username
                """,
                logger: logger
            ).decode((String, String, Bool).self) {
                sheetsCompared += 1
                if !same { sheetDifferences.append(SheetDifference(branchCode: code, evaluator: evaluator)) }
            }
            return Check(
                compared: compared,
                differences: differences.sorted { ($0.branchCode, $0.group) < ($1.branchCode, $1.group) },
                sheetsCompared: sheetsCompared,
                sheetDifferences: sheetDifferences
            )
        }
    }

    /// Makes every tally of the round again from its responses, and removes any kept for a
    /// branch and group that has none, and every sheet's kept items from its entries. Returns
    /// how many tallies it now keeps.
    static func rebuild(roundID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        try await connection.execute(
            "SELECT refresh_sheet_items(ARRAY(SELECT id FROM org_sheets WHERE round_id = \(roundID)))",
            logger: logger
        )
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

/// A branch and rater group of a round: the key of a kept tally.
struct TallyKey: Hashable, Sendable {
    let branch: UUID
    let group: String
}

/// The columns of a `response_tallies` row after its keys, read as the method's tally and
/// written from one. The three lowest and highest of each measure are kept; a dimension's are
/// flattened three to a dimension and padded with NaN, which no score is.
enum KeptTallyColumns {
    static let keptExtremes = 3

    /// The columns, in the order `decode` reads them and `Rows.values` writes them.
    static let names = """
        responses, straight_lined, satisfied, satisfaction_answered, score_count, score_sum, score_spread_sum, \
        score_spread_squares, score_lowest, score_highest, dimension_count, dimension_sum, dimension_lowest, dimension_highest
        """

    /// The columns to read, for `decode`.
    static let selected = names.replacingOccurrences(of: "score_spread_squares", with: "score_spread_squares::text")

    struct Malformed: Error {}

    /// The row's tally with `extremes` of the values it keeps at each end, and `dimensions`
    /// dimensions (a position the row does not store counts as one without values), or as
    /// many as it stores. Made in their final shape: a round's tallies are 50,000 rows.
    static func decode(_ cells: inout RowCells, extremes: Int = keptExtremes, dimensions: Int? = nil) throws -> ResponseTally {
        let responses = try cells.nextInteger()
        let straightLined = try cells.nextInteger()
        let satisfied = try cells.nextInteger()
        let satisfactionAnswered = try cells.nextInteger()
        let scoreCount = try cells.nextInteger()
        let scoreSum = Int128(try cells.nextInteger())
        let spreadSum = Int128(try cells.nextInteger())
        guard let squares = Int128(try cells.next(String.self)) else { throw Malformed() }
        let lowest = try cells.nextDoubles()
        let highest = try cells.nextDoubles()
        let counts = try cells.nextInt32s()
        let sums = try cells.nextInt64s()
        let dimensionLowest = try cells.nextDoubles()
        let dimensionHighest = try cells.nextDoubles()
        let limit = min(max(extremes, 0), keptExtremes)
        func first(_ values: [Double]) -> [Double] { values.count <= limit ? values : Array(values.prefix(limit)) }
        // A dimension's kept values, three to a dimension, NaN where it had fewer.
        func kept(_ values: [Double], _ position: Int) -> [Double] {
            guard limit > 0 else { return [] }
            var found: [Double] = []
            found.reserveCapacity(limit)
            var index = position * keptExtremes
            while found.count < limit && index < min(values.count, (position + 1) * keptExtremes) {
                if !values[index].isNaN { found.append(values[index]) }
                index += 1
            }
            return found
        }
        return ResponseTally(
            responses: responses,
            scores: ScoreTally(
                count: scoreCount,
                sum: scoreSum,
                spread: ScoreTally.Spread(sum: spreadSum, squares: squares),
                lowest: first(lowest),
                highest: first(highest)
            ),
            dimensions: (0..<(dimensions ?? counts.count)).map { position in
                guard position < counts.count else { return ScoreTally(count: 0, sum: 0, spread: nil, lowest: [], highest: []) }
                return ScoreTally(
                    count: Int(counts[position]),
                    sum: position < sums.count ? Int128(sums[position]) : 0,
                    spread: nil,
                    lowest: kept(dimensionLowest, position),
                    highest: kept(dimensionHighest, position)
                )
            },
            straightLined: straightLined,
            satisfied: satisfied,
            satisfactionAnswered: satisfactionAnswered
        )
    }

    /// Tallies as the columns of rows to write, column by column; the arrays as text, whose
    /// doubles are written in the shortest form that reads back to the same bits.
    struct Rows {
        var groups: [String] = []
        var branches: [UUID] = []
        var responses: [Int] = []
        var straightLined: [Int] = []
        var satisfied: [Int] = []
        var satisfactionAnswered: [Int] = []
        var scoreCount: [Int] = []
        var scoreSum: [Int64] = []
        var spreadSum: [Int64] = []
        var spreadSquares: [String] = []
        var scoreLowest: [String] = []
        var scoreHighest: [String] = []
        var dimensionCount: [String] = []
        var dimensionSum: [String] = []
        var dimensionLowest: [String] = []
        var dimensionHighest: [String] = []

        var isEmpty: Bool { branches.isEmpty }

        mutating func append(_ key: TallyKey, _ tally: ResponseTally) throws {
            func narrow(_ value: Int128) throws -> Int64 {
                guard let narrow = Int64(exactly: value) else { throw Malformed() }
                return narrow
            }
            func literal(_ values: some Sequence<String>) -> String { "{" + values.joined(separator: ",") + "}" }
            func padded(_ values: [Double]) -> [String] {
                values.prefix(keptExtremes).map(\.description) + Array(repeating: "NaN", count: max(0, keptExtremes - values.count))
            }
            groups.append(key.group)
            branches.append(key.branch)
            responses.append(tally.responses)
            straightLined.append(tally.straightLined)
            satisfied.append(tally.satisfied)
            satisfactionAnswered.append(tally.satisfactionAnswered)
            scoreCount.append(tally.scores.count)
            scoreSum.append(try narrow(tally.scores.sum))
            spreadSum.append(try narrow(tally.scores.spread?.sum ?? 0))
            spreadSquares.append(String(tally.scores.spread?.squares ?? 0))
            scoreLowest.append(literal(tally.scores.lowest.prefix(keptExtremes).map(\.description)))
            scoreHighest.append(literal(tally.scores.highest.prefix(keptExtremes).map(\.description)))
            dimensionCount.append(literal(tally.dimensions.map { String($0.count) }))
            dimensionSum.append(literal(try tally.dimensions.map { String(try narrow($0.sum)) }))
            dimensionLowest.append(literal(tally.dimensions.flatMap { padded($0.lowest) }))
            dimensionHighest.append(literal(tally.dimensions.flatMap { padded($0.highest) }))
        }

        /// The rows as a relation `t` with the table's column names, for a statement to read.
        var relation: String {
            """
            unnest($2::text[], $3::uuid[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[],
                   $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])
              AS t(rater_group, branch_id, responses, straight_lined, satisfied, satisfaction_answered, score_count, score_sum,
                   score_spread_sum, score_spread_squares, score_lowest, score_highest, dimension_count, dimension_sum,
                   dimension_lowest, dimension_highest)
            """
        }

        /// The values the columns take from `t`.
        static let values = """
            t.responses::int, t.straight_lined::int, t.satisfied::int, t.satisfaction_answered::int, t.score_count::int,
            t.score_sum, t.score_spread_sum, t.score_spread_squares::numeric, t.score_lowest::float8[], t.score_highest::float8[],
            t.dimension_count::int[], t.dimension_sum::int8[], t.dimension_lowest::float8[], t.dimension_highest::float8[]
            """

        func bindings(roundID: UUID) throws -> PostgresBindings {
            var binds = PostgresBindings()
            binds.append(roundID)
            binds.append(groups)
            binds.append(branches)
            for column in [responses, straightLined, satisfied, satisfactionAnswered, scoreCount] { binds.append(column.map(Int64.init)) }
            binds.append(scoreSum)
            binds.append(spreadSum)
            for column in [spreadSquares, scoreLowest, scoreHighest, dimensionCount, dimensionSum, dimensionLowest, dimensionHighest] {
                binds.append(column)
            }
            return binds
        }
    }
}

extension TallyRepository {
    /// Adds a batch of ballots being mixed to the kept tallies, in the mix's transaction, after
    /// the mix has inserted their responses with `kaoping.tallies_added_by_caller` set (so the
    /// trigger did not aggregate the branches again): each touched tally is locked, merged with
    /// the batch's own tally and written back. A tally that did not exist is inserted; should
    /// another transaction have inserted it meanwhile, it is made again from the responses.
    static func add(_ batch: [TallyKey: ResponseTally], roundID: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        guard !batch.isEmpty else { return }
        let keys = Array(batch.keys)
        var kept: [TallyKey: ResponseTally] = [:]
        // In the order the trigger locks them, so that two changes wait rather than deadlock.
        for try await row in try await connection.query(
            """
            SELECT t.rater_group, t.branch_id, \(unescaped: KeptTallyColumns.selected)
            FROM response_tallies t JOIN unnest(\(keys.map(\.group)), \(keys.map(\.branch))) AS k(rater_group, branch_id)
              ON t.round_id = \(roundID) AND t.rater_group = k.rater_group AND t.branch_id = k.branch_id
            ORDER BY t.round_id, t.rater_group, t.branch_id
            FOR UPDATE OF t
            """,
            logger: logger
        ) {
            var cells = RowCells(row)
            let group = try cells.next(String.self)
            let branch = try cells.next(UUID.self)
            kept[TallyKey(branch: branch, group: group)] = try KeptTallyColumns.decode(&cells)
        }
        var updated = KeptTallyColumns.Rows()
        var inserted = KeptTallyColumns.Rows()
        for (key, tally) in batch {
            if let existing = kept[key] {
                try updated.append(key, existing.adding(tally, keeping: KeptTallyColumns.keptExtremes))
            } else {
                try inserted.append(key, tally)
            }
        }
        let columns = KeptTallyColumns.names
        if !updated.isEmpty {
            try await connection.execute(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE response_tallies r SET (\(columns)) = (\(KeptTallyColumns.Rows.values))
                        FROM \(updated.relation)
                        WHERE r.round_id = $1 AND r.rater_group = t.rater_group AND r.branch_id = t.branch_id
                        """,
                    binds: try updated.bindings(roundID: roundID)
                ),
                logger: logger
            )
        }
        guard !inserted.isEmpty else { return }
        var taken: [TallyKey] = []
        for try await (group, branch) in try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    WITH added AS (
                      INSERT INTO response_tallies (round_id, rater_group, branch_id, \(columns))
                      SELECT $1, t.rater_group, t.branch_id, \(KeptTallyColumns.Rows.values) FROM \(inserted.relation)
                      ON CONFLICT (round_id, rater_group, branch_id) DO NOTHING
                      RETURNING rater_group, branch_id
                    )
                    SELECT t.rater_group, t.branch_id FROM unnest($2::text[], $3::uuid[]) AS t(rater_group, branch_id)
                    EXCEPT SELECT rater_group, branch_id FROM added
                    """,
                binds: try inserted.bindings(roundID: roundID)
            ),
            logger: logger
        ).decode((String, UUID).self) { taken.append(TallyKey(branch: branch, group: group)) }
        guard !taken.isEmpty else { return }
        try await connection.execute(
            "SELECT refresh_response_tallies(\(Array(repeating: roundID, count: taken.count)), \(taken.map(\.branch)), \(taken.map(\.group)))",
            logger: logger
        )
    }
}
