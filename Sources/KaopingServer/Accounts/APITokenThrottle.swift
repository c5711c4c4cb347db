import Foundation
import PostgresNIO
import Prometheus

/// Limits API token guessing per client address, over a sliding window, as `LoginThrottle`
/// limits password guessing: twenty failed token checks from one address within fifteen
/// minutes, and that address gets 429 for every API request, a valid token's too, until the
/// oldest of them leaves the window.
///
/// Failures are rows of `login_attempts` (so every instance sees the same counts, and the
/// sign-in clean-up prunes them) whose address, and username, is `api-token|<address>`: sign-in
/// counts its own addresses, never these, and no sign-in reaches this subject's rows. A failure
/// is recorded by `reserve_login_attempt`, under its advisory lock on the subject, so of guesses
/// sent at once no more than the limit are answered 401; the rest meet the lock.
public struct APITokenThrottle: Sendable {
    public struct Limits: Sendable {
        public var window: Duration = .seconds(15 * 60)
        public var failuresPerAddress = 20
        public init() {}
    }

    let database: Database
    public let limits: Limits
    let invalid: Counter
    let throttled: Counter

    public init(database: Database, registry: PrometheusCollectorRegistry, limits: Limits = .init()) {
        self.database = database
        self.limits = limits
        let name = "kaoping_api_token_refusals_total"
        let help = "API requests refused for their token: invalid (401), or from an address throttled after too many invalid ones (429)"
        self.invalid = registry.makeCounter(name: name, labels: [("reason", "invalid")], help: help)
        self.throttled = registry.makeCounter(name: name, labels: [("reason", "throttled")], help: help)
    }

    /// What failures from `address` are stored under in `login_attempts`.
    static func subject(_ address: String) -> String { "api-token|" + address }

    /// `nil` while the address may present tokens; else the seconds until it may again.
    public func wait(address: String) async throws -> Int? {
        let seconds = Double(limits.window.components.seconds)
        // The limit-th newest failure in the window: when it leaves, fewer than the limit remain.
        let rows = try await database.query(
            """
            SELECT ceil(extract(epoch FROM attempted_at + make_interval(secs => \(seconds)) - now()))::bigint FROM login_attempts
             WHERE address = \(Self.subject(address)) AND NOT succeeded AND attempted_at > now() - make_interval(secs => \(seconds))
             ORDER BY attempted_at DESC OFFSET \(limits.failuresPerAddress - 1) LIMIT 1
            """,
            logger: Database.quietLogger
        )
        for row in rows { return max(1, Int(try row.decode(Int64.self))) }
        return nil
    }

    /// Records a failed token check from `address`. `false`: the address had reached the limit
    /// meanwhile (guesses sent at once), and nothing was recorded.
    public func failed(address: String) async throws -> Bool {
        let subject = Self.subject(address)
        let seconds = Double(limits.window.components.seconds)
        let rows = try await database.query(
            """
            SELECT verdict FROM reserve_login_attempt(
              \(subject), \(subject), \(seconds), \(Int(Int32.max))::integer, \(limits.failuresPerAddress)::integer)
            """,
            logger: Database.quietLogger
        )
        for row in rows {
            switch try row.decode(String.self) {
            case "allowed": return true
            case "address-locked", "account-locked": return false
            default: break
            }
        }
        throw LoginThrottleError.unexpectedVerdict
    }

    /// Counts a request refused 401 for its token.
    func countInvalid() { invalid.increment() }

    /// Counts a request refused 429 for its address.
    func countThrottled() { throttled.increment() }
}
