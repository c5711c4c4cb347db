import Foundation
import PostgresNIO

/// Limits password guessing, per account and per client address, over a sliding window.
///
/// Attempts are counted in PostgreSQL so that every instance behind the proxy sees the same
/// counts. Failures before the last success of an account do not count against it.
public struct LoginThrottle: Sendable {
    public struct Limits: Sendable {
        public var window: Duration = .seconds(15 * 60)
        public var failuresPerAccount = 5
        public var failuresPerAddress = 20
        public init() {}
    }

    let database: Database
    public let limits: Limits

    public init(database: Database, limits: Limits = .init()) {
        self.database = database
        self.limits = limits
    }

    public enum Verdict: Equatable, Sendable {
        /// The attempt may go ahead; it is already counted as a failure until `succeeded` says otherwise.
        case allowed(attempt: Int64)
        case accountLocked
        case addressLocked
    }

    /// Counts an attempt before its password is checked, and says whether it may go ahead.
    ///
    /// The count and the new attempt's row are one transaction under locks on the account and
    /// the address, so concurrent guesses are taken one after another: the sixth of forty
    /// simultaneous guesses already sees five, none of them finished. A guess that turns out
    /// right is marked with `succeeded(_:)`.
    public func reserve(username: String, address: String) async throws -> Verdict {
        let seconds = Double(limits.window.components.seconds)
        let account = "login-account:" + username.lowercased()
        let place = "login-address:" + address
        return try await database.transaction(logger: Database.quietLogger) { connection in
            // Always account first, then address, so that two attempts never wait on each other crosswise.
            try await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended(\(account), 0))", logger: Database.quietLogger)
            try await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended(\(place), 0))", logger: Database.quietLogger)
            let rows = try await connection.query(
                """
                SELECT
                  (SELECT count(*)::int FROM login_attempts a
                    WHERE lower(a.username) = lower(\(username)) AND NOT a.succeeded
                      AND a.attempted_at > now() - make_interval(secs => \(seconds))
                      AND a.attempted_at > coalesce((SELECT max(s.attempted_at) FROM login_attempts s
                            WHERE lower(s.username) = lower(\(username)) AND s.succeeded), '-infinity')),
                  (SELECT count(*)::int FROM login_attempts
                    WHERE address = \(address) AND NOT succeeded
                      AND attempted_at > now() - make_interval(secs => \(seconds)))
                """,
                logger: Database.quietLogger
            )
            var counts: (account: Int, address: Int) = (0, 0)
            for try await row in rows { counts = try row.decode((Int, Int).self) }
            if counts.address >= limits.failuresPerAddress { return .addressLocked }
            if counts.account >= limits.failuresPerAccount { return .accountLocked }
            // clock_timestamp(), not now(): attempts that queued behind the lock must be ordered
            // by when they were counted, not by when their transactions began.
            let inserted = try await connection.query(
                "INSERT INTO login_attempts (username, address, succeeded, attempted_at) VALUES (\(username), \(address), false, clock_timestamp()) RETURNING id",
                logger: Database.quietLogger
            )
            var id: Int64 = 0
            for try await row in inserted { id = try row.decode(Int64.self) }
            return .allowed(attempt: id)
        }
    }

    /// Marks a reserved attempt as a successful sign-in, which forgives the account's earlier failures.
    public func succeeded(_ attempt: Int64) async throws {
        try await database.query("UPDATE login_attempts SET succeeded = true, attempted_at = clock_timestamp() WHERE id = \(attempt)")
    }

    /// Attempts older than a day serve no purpose; the audit log keeps the history.
    public func prune() async throws {
        try await database.query("DELETE FROM login_attempts WHERE attempted_at < now() - interval '1 day'")
    }
}
