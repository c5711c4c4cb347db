import Foundation
import KaopingAggregation
import Logging
import PostgresNIO

/// The SQL of publicity and sign-off: the period on the round's row, the sign-offs in
/// `round_approvals`. The transitions take the round's row lock, as opening and closing do,
/// so that each happens once whichever instance gets there first.
public struct PublicityRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    // MARK: Reading

    public func state(_ id: UUID) async throws -> Publicity? {
        guard
            var publicity = try await database.query(
                """
                SELECT r.id, r.title, r.year, r.status, r.publicity_starts_at, r.publicity_ends_at, r.publicity_started_at,
                  r.publicity_ended_at, r.publicity_shows, r.publicity_key,
                  (SELECT count(*)::int FROM objections o WHERE o.round_id = r.id),
                  (SELECT count(*)::int FROM objections o WHERE o.round_id = r.id AND o.decision IS NULL)
                FROM rounds r WHERE r.id = \(id)
                """
            ).first.map(Self.publicity)
        else { return nil }
        let approvals = try await database.query(
            """
            SELECT a.reference, to_char(a.meeting_on, 'YYYY-MM-DD'), a.approved_at, u.username, a.config_hash, a.results_hash,
              a.open_objections, a.withdrawn_at, a.withdrawn_reason
            FROM round_approvals a LEFT JOIN users u ON u.id = a.approved_by
            WHERE a.round_id = \(id) ORDER BY a.approved_at DESC
            """
        ).map(Self.approval)
        publicity.approval = approvals.first { $0.withdrawnAt == nil && publicity.status == .approved }
        publicity.withdrawn = approvals.filter { $0.withdrawnAt != nil }
        return publicity
    }

    /// The round whose public page is at `key`.
    public func round(key: String) async throws -> UUID? {
        try await database.query("SELECT id FROM rounds WHERE publicity_key = \(key)").first?.decode(UUID.self)
    }

    private static func publicity(_ row: PostgresRow) throws -> Publicity {
        var cells = RowCells(row)
        var publicity = Publicity(
            roundID: try cells.next(UUID.self),
            title: try cells.next(String.self),
            year: try cells.next(Int.self),
            status: try cells.next(RoundStatus.self),
            startsAt: try cells.next(Date?.self),
            endsAt: try cells.next(Date?.self),
            startedAt: try cells.next(Date?.self),
            endedAt: try cells.next(Date?.self),
            shows: try cells.next(String?.self).flatMap(PublicityShows.init(rawValue:)),
            key: try cells.next(String?.self)
        )
        publicity.objections = try cells.next(Int.self)
        publicity.openObjections = try cells.next(Int.self)
        return publicity
    }

    private static func approval(_ row: PostgresRow) throws -> Publicity.Approval {
        var cells = RowCells(row)
        return Publicity.Approval(
            reference: try cells.next(String.self),
            meetingOn: try cells.next(String.self),
            approvedAt: try cells.next(Date.self),
            approvedBy: try cells.next(String?.self),
            configHash: try cells.next(String.self),
            resultsHash: try cells.next(String.self),
            openObjections: try cells.next(Int.self),
            withdrawnAt: try cells.next(Date?.self),
            withdrawnReason: try cells.next(String?.self)
        )
    }

    // MARK: Changing (in the caller's transaction)

    /// Sets the period and what the page shows, giving the round its page address if it has
    /// none; starts the publicity at once when its start has come.
    func setPeriod(
        _ id: UUID,
        startsAt: Date,
        endsAt: Date,
        shows: PublicityShows,
        startNow: Bool,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        let key = Hex.random(bytes: 16)
        try await connection.execute(
            """
            UPDATE rounds SET publicity_starts_at = \(startsAt), publicity_ends_at = \(endsAt), publicity_shows = \(shows.rawValue),
              publicity_key = coalesce(publicity_key, \(key)), publicity_ended_at = NULL, updated_at = now()
            WHERE id = \(id)
            """,
            logger: logger
        )
        if startNow { try await start(id, on: connection, logger: logger) }
    }

    func start(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute(
            """
            UPDATE rounds SET status = \(RoundStatus.publicity), publicity_started_at = coalesce(publicity_started_at, now()),
              updated_at = now()
            WHERE id = \(id)
            """,
            logger: logger
        )
    }

    func end(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute(
            "UPDATE rounds SET publicity_ended_at = now(), updated_at = now() WHERE id = \(id)",
            logger: logger
        )
    }

    /// The rounds whose publicity is due to start or end, for the scheduler to take one by one.
    func due() async throws -> [UUID] {
        try await database.query(
            """
            SELECT id FROM rounds
            WHERE (status = \(RoundStatus.closed) AND publicity_starts_at <= now())
               OR (status = \(RoundStatus.publicity) AND publicity_ended_at IS NULL AND publicity_ends_at <= now())
            """
        ).map { try $0.decode(UUID.self) }
    }

    /// Under the row lock, skipping a round another instance holds: whether it is due to
    /// start, to end, or neither any more.
    func dueLocked(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> DueStep? {
        var step: DueStep?
        for try await (status, starts, ends, ended) in try await connection.query(
            """
            SELECT status, coalesce(publicity_starts_at <= now(), false), coalesce(publicity_ends_at <= now(), false),
              publicity_ended_at IS NOT NULL
            FROM rounds WHERE id = \(id) FOR UPDATE SKIP LOCKED
            """,
            logger: logger
        ).decode((RoundStatus, Bool, Bool, Bool).self) {
            if status == .closed && starts { step = .start }
            if status == .publicity && ends && !ended { step = .end }
        }
        return step
    }

    enum DueStep { case start, end }

    /// Whether the round's publicity has ended, and when it ends.
    func period(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> (ended: Bool, endsAt: Date?) {
        var period: (Bool, Date?) = (false, nil)
        for try await row in try await connection.query(
            "SELECT publicity_ended_at IS NOT NULL, publicity_ends_at FROM rounds WHERE id = \(id)",
            logger: logger
        ).decode((Bool, Date?).self) { period = row }
        return period
    }

    /// The receipts of the round's objections not yet decided, oldest first.
    func openObjections(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        var receipts: [String] = []
        for try await receipt in try await connection.query(
            "SELECT receipt FROM objections WHERE round_id = \(id) AND decision IS NULL ORDER BY filed_at, receipt",
            logger: logger
        ).decode(String.self) { receipts.append(receipt) }
        return receipts
    }

    /// Signs the round off: the standing final snapshot's hash and the configuration's hash
    /// stored with the meeting's reference. Returns the results hash.
    func approve(
        _ id: UUID,
        reference: String,
        meetingOn: String,
        openObjections: Int,
        approvedBy: UUID?,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> String {
        var hash = ""
        for try await value in try await connection.query(
            """
            INSERT INTO round_approvals (round_id, reference, meeting_on, approved_by, config_hash, results_hash, snapshot_id, open_objections)
            SELECT r.id, \(reference), \(meetingOn)::date, \(approvedBy), coalesce(r.config_hash, ''),
              encode(sha256(convert_to(s.results::text, 'UTF8')), 'hex'), s.id, \(openObjections)
            FROM rounds r JOIN result_snapshots s ON s.round_id = r.id AND s.kind = 'final'
            WHERE r.id = \(id)
            RETURNING results_hash
            """,
            logger: logger
        ).decode(String.self) { hash = value }
        try await connection.execute(
            "UPDATE rounds SET status = \(RoundStatus.approved), updated_at = now() WHERE id = \(id)",
            logger: logger
        )
        return hash
    }

    /// Withdraws the standing sign-off and puts the round back in publicity until `endsAt`.
    func reopen(_ id: UUID, endsAt: Date, reason: String, by user: UUID?, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute(
            """
            UPDATE round_approvals SET withdrawn_at = now(), withdrawn_reason = \(reason), withdrawn_by = \(user)
            WHERE round_id = \(id) AND withdrawn_at IS NULL
            """,
            logger: logger
        )
        try await connection.execute(
            """
            UPDATE rounds SET status = \(RoundStatus.publicity), publicity_ends_at = \(endsAt), publicity_ended_at = NULL,
              updated_at = now()
            WHERE id = \(id)
            """,
            logger: logger
        )
    }
}
