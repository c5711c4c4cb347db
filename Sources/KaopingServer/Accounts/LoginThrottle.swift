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
        case allowed
        case accountLocked
        case addressLocked
    }

    public func check(username: String, address: String) async throws -> Verdict {
        let seconds = Double(limits.window.components.seconds)
        let rows = try await database.query(
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
            """
        )
        let (accountFailures, addressFailures) = try rows.first!.decode((Int, Int).self)
        if addressFailures >= limits.failuresPerAddress { return .addressLocked }
        if accountFailures >= limits.failuresPerAccount { return .accountLocked }
        return .allowed
    }

    public func record(username: String, address: String, succeeded: Bool) async throws {
        try await database.query(
            "INSERT INTO login_attempts (username, address, succeeded) VALUES (\(username), \(address), \(succeeded))"
        )
    }

    /// Attempts older than a day serve no purpose; the audit log keeps the history.
    public func prune() async throws {
        try await database.query("DELETE FROM login_attempts WHERE attempted_at < now() - interval '1 day'")
    }
}
