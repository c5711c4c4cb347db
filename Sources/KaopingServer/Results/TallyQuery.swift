import Foundation
import KaopingAggregation
import PostgresNIO

/// One rater group's responses of a round, tallied per branch by PostgreSQL into what the
/// method reads (`ResponseTally`): counts, exact sums of each score in fixed steps, and the
/// values trimming drops. The database sums the same whole steps as `ScoreTally` does, so the
/// tally is the one the library would make from the responses, bit for bit.
///
/// Ballots still waiting in the box are sealed and count from their mix on: results then move
/// by whole batches of at least k, so watching them while one person answers shows nothing of
/// that person's answers (docs/privacy.md).
struct TallyQuery {
    let roundID: UUID
    let group: RoundConfiguration.RaterGroup
    /// How many dimension scores the group's form gives, in `dimension_scores` order.
    let dimensions: Int
    /// How many values trimming drops from each end, so how many extremes to fetch.
    let drop: Int
    /// Read the tallies kept in `response_tallies` as the responses change (one row per
    /// branch), rather than aggregating the responses; possible while the round drops no more
    /// extremes than are kept.
    var fromKeptTallies: Bool

    init(roundID: UUID, group: RoundConfiguration.RaterGroup, dimensions: Int, drop: Int, fromKeptTallies: Bool? = nil) {
        self.roundID = roundID
        self.group = group
        self.dimensions = dimensions
        self.drop = drop
        self.fromKeptTallies = fromKeptTallies ?? (drop <= Self.keptExtremes)
    }

    /// How many of the lowest and of the highest values `response_tallies` keeps of each measure
    /// (sql/0025_response_tallies.sql).
    static let keptExtremes = KeptTallyColumns.keptExtremes

    var sql: PostgresQuery {
        if fromKeptTallies { return keptSQL }
        return responsesSQL
    }

    /// The kept tallies of the group, one row per branch.
    private var keptSQL: PostgresQuery {
        """
        SELECT branch_id, \(unescaped: KeptTallyColumns.selected)
        FROM response_tallies WHERE round_id = \(roundID) AND rater_group = \(group.rawValue)
        """
    }

    private var responsesSQL: PostgresQuery {
        var columns = [
            "count(*)::int", "(count(*) FILTER (WHERE straight_lined))::int", "(count(*) FILTER (WHERE satisfied))::int",
            "count(satisfied)::int",
        ]
        columns += tally("score", spread: true)
        for position in 0..<dimensions { columns += tally("dimension_scores[\(position + 1)]", spread: false) }
        var binds = PostgresBindings()
        binds.append(roundID)
        binds.append(group.rawValue)
        return PostgresQuery(
            unsafeSQL: """
                SELECT branch_id, \(columns.joined(separator: ", "))
                FROM responses WHERE round_id = $1 AND rater_group = $2 AND excluded_by IS NULL
                GROUP BY branch_id
                """,
            binds: binds
        )
    }

    /// The columns of one score's tally: count, sum of steps (64 bits hold the steps of 90
    /// million scores), perhaps the spread's sums (the squares as text: they pass 64 bits), the
    /// smallest and the largest values.
    private func tally(_ value: String, spread: Bool) -> [String] {
        let meanSteps = "(\(value) * \(Int64(ScoreTally.meanScale))::float8)::int8"
        let spreadSteps = "(\(value) * \(Int64(ScoreTally.spreadScale))::float8)::int8"
        var columns = ["count(\(value))::int", "coalesce(sum(\(meanSteps)), 0)::int8"]
        if spread {
            columns += ["coalesce(sum(\(spreadSteps)), 0)::int8", "coalesce(sum(\(spreadSteps) * \(spreadSteps)), 0)::text"]
        }
        switch drop {
        case ..<1:
            columns += ["'{}'::float8[]", "'{}'::float8[]"]
        case 1:
            // The common case, one value from each end: min and max, without sorting.
            columns += ["array_remove(ARRAY[min(\(value))], NULL)", "array_remove(ARRAY[max(\(value))], NULL)"]
        default:
            columns += [
                "coalesce((array_agg(\(value) ORDER BY \(value)) FILTER (WHERE \(value) IS NOT NULL))[1:\(drop)], '{}')",
                "coalesce((array_agg(\(value) ORDER BY \(value) DESC) FILTER (WHERE \(value) IS NOT NULL))[1:\(drop)], '{}')",
            ]
        }
        return columns
    }

    struct MalformedTally: Error {}

    /// A row of `sql`: the branch and its tally.
    func decode(_ row: PostgresRow) throws -> (branch: UUID, tally: ResponseTally) {
        fromKeptTallies ? try decodeKept(row) : try decodeResponses(row)
    }

    private func decodeKept(_ row: PostgresRow) throws -> (branch: UUID, tally: ResponseTally) {
        var cells = RowCells(row)
        let branch = try cells.next(UUID.self)
        // As many extremes as the round drops, and the form's dimensions.
        return (branch, try KeptTallyColumns.decode(&cells, extremes: drop, dimensions: dimensions))
    }

    private func decodeResponses(_ row: PostgresRow) throws -> (branch: UUID, tally: ResponseTally) {
        var cells = RowCells(row)
        func next<T: PostgresDecodable>(_ type: T.Type) throws -> T { try cells.next(T.self) }
        func steps() throws -> Int128 {
            Int128(try next(Int64.self))
        }
        func wideSteps() throws -> Int128 {
            guard let value = Int128(try next(String.self)) else { throw MalformedTally() }
            return value
        }
        func score(spread: Bool) throws -> ScoreTally {
            let count = try next(Int.self)
            let sum = try steps()
            let sums = spread ? ScoreTally.Spread(sum: try steps(), squares: try wideSteps()) : nil
            return ScoreTally(count: count, sum: sum, spread: sums, lowest: try next([Double].self), highest: try next([Double].self))
        }
        let branch = try next(UUID.self)
        let responses = try next(Int.self)
        let straightLined = try next(Int.self)
        let satisfied = try next(Int.self)
        let satisfactionAnswered = try next(Int.self)
        let scores = try score(spread: true)
        var dimensions: [ScoreTally] = []
        for _ in 0..<self.dimensions { dimensions.append(try score(spread: false)) }
        return (
            branch,
            ResponseTally(
                responses: responses,
                scores: scores,
                dimensions: dimensions,
                straightLined: straightLined,
                satisfied: satisfied,
                satisfactionAnswered: satisfactionAnswered
            )
        )
    }
}
