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
    /// The count and the new attempt's row are one statement (`reserve_login_attempt`) under
    /// locks on the account and the address, so concurrent guesses are taken one after another:
    /// the sixth of forty simultaneous guesses already sees five, none of them finished. A guess
    /// that turns out right is marked with `succeeded(_:)`.
    public func reserve(username: String, address: String) async throws -> Verdict {
        let seconds = Double(limits.window.components.seconds)
        let rows = try await database.query(
            """
            SELECT verdict, attempt FROM reserve_login_attempt(
              \(username), \(address), \(seconds), \(limits.failuresPerAccount)::integer, \(limits.failuresPerAddress)::integer)
            """,
            logger: Database.quietLogger
        )
        for row in rows {
            let (verdict, attempt) = try row.decode((String, Int64?).self)
            switch (verdict, attempt) {
            case ("allowed", let attempt?): return .allowed(attempt: attempt)
            case ("account-locked", _): return .accountLocked
            case ("address-locked", _): return .addressLocked
            default: break
            }
        }
        throw LoginThrottleError.unexpectedVerdict
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

enum LoginThrottleError: Error {
    /// The database answered with a verdict this build does not know: a migration out of step.
    case unexpectedVerdict
}
