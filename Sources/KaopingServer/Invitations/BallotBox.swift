import Foundation
import Logging
import PostgresNIO

/// Anonymous ballots wait in the ballot box and move into the responses in shuffled batches.
///
/// A ballot is written in the same transaction that burns its invitation, so the two rows share
/// a transaction id (`xmin`) while the ballot waits. Moving a batch of at least k ballots in one
/// transaction, in random order and under fresh random ids, gives every response of the batch
/// the same `xmin` and no order; touching the round's used invitations in the same transaction
/// gives them all one `xmin` too. After that nothing ties a response to an invitation.
public struct BallotBox: Sendable {
    let database: Database
    /// The shortest time between two mixes of one round. A mix touches every used invitation
    /// of the round, so its cost grows with the round; pacing keeps a busy round of 100,000
    /// members from rewriting them every second. Ballots wait at most about this long once k
    /// have arrived.
    let pace: Duration

    public init(database: Database, pace: Duration = .seconds(30)) {
        self.database = database
        self.pace = pace
    }

    /// Mixes the ballots of every round that has at least its anonymity threshold waiting and
    /// was not mixed within the pace.
    public func mixFullRounds(logger: Logger) async throws -> Int {
        let pace = Double(pace.components.seconds) + Double(pace.components.attoseconds) / 1e18
        let due = try await database.query(
            """
            SELECT b.round_id FROM ballot_box b JOIN rounds r ON r.id = b.round_id
            WHERE r.last_mixed_at IS NULL OR r.last_mixed_at <= now() - make_interval(secs => \(pace))
            GROUP BY b.round_id, r.config
            HAVING count(*) >= greatest(coalesce((r.config->>'anonymityThreshold')::int, 5), 3)
            """
        ).map { try $0.decode(UUID.self) }
        var moved = 0
        for round in due {
            moved += try await database.transaction(logger: logger) { connection in
                try await Self.mix(roundID: round, connection: connection, logger: logger)
            }
        }
        return moved
    }

    /// Moves all of a round's waiting ballots into the responses; used by the mixer and at close.
    static func mix(roundID: UUID, connection: PostgresConnection, logger: Logger) async throws -> Int {
        var moved = 0
        for try await count in try await connection.query(
            """
            WITH moved AS (
              DELETE FROM ballot_box WHERE round_id = \(roundID) RETURNING *
            ), shuffled AS MATERIALIZED (
              SELECT gen_random_uuid() AS response_id, moved.* FROM moved ORDER BY random()
            ), inserted AS (
              INSERT INTO responses (id, round_id, branch_id, rater_group, form_version_id, submitted_on, score, dimension_scores, straight_lined, satisfied)
              SELECT response_id, round_id, branch_id, rater_group, form_version_id, submitted_on,
                     (ballot->>'score')::float8, coalesce(ballot->'dimensions', '{}'::jsonb), coalesce((ballot->>'straightLined')::boolean, false),
                     (ballot->>'satisfied')::boolean
              FROM shuffled
              RETURNING 1
            ), answered AS (
              INSERT INTO answers (response_id, item_key, option_key, number_value, text_value, points)
              SELECT s.response_id, a.item_key, a.option_key, a.number_value, a.text_value, a.points
              FROM shuffled s, jsonb_to_recordset(s.ballot->'answers')
                AS a(item_key text, option_key text, number_value float8, text_value text, points float8)
              RETURNING 1
            ), touched AS (
              UPDATE invitations SET used = used WHERE round_id = \(roundID) AND used RETURNING 1
            ), paced AS (
              UPDATE rounds SET last_mixed_at = now() WHERE id = \(roundID) RETURNING 1
            )
            SELECT (SELECT count(*)::int FROM inserted) + 0 * (SELECT count(*) FROM answered) + 0 * (SELECT count(*) FROM touched)
                   + 0 * (SELECT count(*) FROM paced)
            """,
            logger: logger
        ).decode(Int.self) { moved = count }
        return moved
    }
}
