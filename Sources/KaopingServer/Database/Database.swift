import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOSSL
import PostgresNIO
import Prometheus
import ServiceLifecycle

/// The application's handle on PostgreSQL: a connection pool plus the counts `/metrics` reports.
///
/// Everything that talks to the database goes through here, so that pool use is measured in
/// one place.
public struct Database: Sendable {
    public let client: PostgresClient
    public let url: DatabaseURL
    let poolSize: Int
    let inUse: Gauge
    let waitingOrActive: ManagedAtomicCounter
    let watchdog: LeaseWatchdog
    /// Set on a pool that reads from a standby (`--read-database-url`): the primary that
    /// serves its reads while the standby does not answer.
    let fallback: StandbyFallback?

    /// - Parameter quietBackground: keep the pool's own log lines to errors (command-line tools,
    ///   where a warning about the pool starting up is noise).
    public init(url: DatabaseURL, poolSize: Int, registry: PrometheusCollectorRegistry, logger: Logger, quietBackground: Bool = false) {
        self.init(url: url, poolSize: poolSize, registry: registry, logger: logger, quietBackground: quietBackground, subsystem: "db", fallback: nil)
    }

    /// A pool on a streaming standby for the reads that may lag behind the primary by the
    /// replication delay (results, reports, downloads). While the standby does not answer,
    /// its reads go to `primary`: the change either way is logged once.
    public static func standby(url: DatabaseURL, poolSize: Int, primary: Database, registry: PrometheusCollectorRegistry, logger: Logger) -> Database
    {
        Database(
            url: url,
            poolSize: poolSize,
            registry: registry,
            logger: logger,
            quietBackground: false,
            subsystem: "db_read",
            fallback: StandbyFallback(primary: primary, standbyURL: url, logger: logger)
        )
    }

    private init(
        url: DatabaseURL,
        poolSize: Int,
        registry: PrometheusCollectorRegistry,
        logger: Logger,
        quietBackground: Bool,
        subsystem: String,
        fallback: StandbyFallback?
    ) {
        var configuration: PostgresClient.Configuration
        if let socketDirectory = url.unixSocketDirectory {
            configuration = .init(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(url.port)",
                username: url.username,
                password: url.password,
                database: url.database
            )
        } else {
            let tls: PostgresClient.Configuration.TLS =
                switch url.tlsMode {
                case .disable: .disable
                case .prefer: .prefer(.makeClientConfiguration())
                case .require: .require(.makeClientConfiguration())
                }
            configuration = .init(
                host: url.host,
                port: url.port,
                username: url.username,
                password: url.password,
                database: url.database,
                tls: tls
            )
        }
        configuration.options.maximumConnections = poolSize
        configuration.options.connectTimeout = .seconds(5)
        var backgroundLogger = logger
        backgroundLogger.logLevel = max(logger.logLevel, quietBackground ? .error : .notice)
        self.client = PostgresClient(configuration: configuration, backgroundLogger: backgroundLogger)
        self.url = url
        self.poolSize = poolSize
        self.inUse = registry.makeGauge(
            descriptor: .init(
                namespace: "kaoping",
                subsystem: subsystem,
                metricName: "connections",
                unitName: "in_use",
                helpText: "Database connections leased from the pool right now"
            ),
            labels: []
        )
        registry.makeGauge(
            descriptor: .init(
                namespace: "kaoping",
                subsystem: subsystem,
                metricName: "connections",
                unitName: "max",
                helpText: "Size of the database connection pool"
            ),
            labels: []
        ).set(to: Double(poolSize))
        self.waitingOrActive = ManagedAtomicCounter()
        self.watchdog = LeaseWatchdog(reachability: ReachabilityProbe(url: url, logger: logger), logger: logger)
        self.fallback = fallback
    }

    /// Whether this pool reads from a standby, falling back to the primary.
    public var readsFromStandby: Bool { fallback != nil }

    /// Runs `body` with a connection leased from the pool, or throws `DatabaseUnavailable` when
    /// the database fails to serve it: at once after `leaseTimeout` if the database cannot be
    /// reached, after `busyLeaseTimeout` if it can but every connection stays busy, and a few
    /// seconds after the connection under `body` closed if `body` still has not returned.
    ///
    /// PostgresClient keeps a lease waiting while it retries an unreachable server, for up to a
    /// minute; and a statement sent just as the server dies has been seen never to return. A
    /// person waiting on a page must not wait on either. So the lease and `body` run in a task
    /// of their own, and a watchdog answers the caller when they take too long, cancelling the
    /// work. Every statement Kaoping runs is safe to see fail this way: nothing half-done is
    /// committed, and a respondent's retry with the same submission key is stored once.
    ///
    /// On a standby's pool, `body` runs on the primary instead while the standby does not
    /// answer, and again on the primary when the standby cancels it in a conflict with the
    /// changes it replays: what runs here only reads, so running it again is safe.
    public func withConnection<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        guard let fallback else { return try await leased(body) }
        guard fallback.standbyInUse() else { return try await fallback.primary.withConnection(body) }
        do {
            let value = try await leased(body)
            fallback.standbyAnswered()
            return value
        } catch  where DatabaseFailure.isUnavailable(error) {
            fallback.standbyFailed(error)
            return try await fallback.primary.withConnection(body)
        } catch  where DatabaseFailure.isRecoveryConflict(error) {
            return try await fallback.primary.withConnection(body)
        }
    }

    private func leased<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        track(+1)
        defer { track(-1) }
        let outcome = LeaseOutcome<Result>()
        let client = self.client
        let work = Task {
            do {
                let value = try await client.withConnection { connection in
                    outcome.leased(connection)
                    do {
                        return try await body(connection)
                    } catch  where DatabaseFailure.isReadOnly(error) {
                        // The server behind this connection no longer takes writes: a primary
                        // demoted in a failover, or a standby reached through an address that
                        // has moved. Dropped, the pool connects again through the address, which
                        // leads to the new primary once the failover is done.
                        try? await connection.close()
                        throw error
                    }
                }
                outcome.finish(.success(value))
            } catch {
                outcome.finish(.failure(error))
            }
        }
        let entry = watchdog.watch(outcome, cancelling: work)
        defer { watchdog.forget(entry) }
        return try await withTaskCancellationHandler {
            try await outcome.value()
        } onCancel: {
            work.cancel()
            outcome.finish(.failure(CancellationError()))
        }
    }

    /// A connection for work that streams to the caller for a long time (every answer of a
    /// round, written out as it is read): leased straight from the pool, without the watchdog
    /// of `withConnection`, because the caller's writer can only be used in the caller's task.
    ///
    /// On a standby's pool, a quick check through `withConnection` comes first: a standby that
    /// does not answer sends the stream to the primary before anything is written.
    public func withStreamingConnection<Result>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        if let fallback {
            // A standby that does not answer this is marked away by `withConnection`.
            try await withConnection { connection in try await connection.execute("SELECT 1", logger: Database.quietLogger) }
            if !fallback.standbyInUse() { return try await fallback.primary.withStreamingConnection(body) }
        }
        track(+1)
        defer { track(-1) }
        return try await client.withConnection { connection in try await body(connection) }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    /// The error thrown by `body` is rethrown as it was, not wrapped.
    public func transaction<Result: Sendable>(
        logger: Logger,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withConnection { connection in
            do {
                return try await connection.withTransaction(logger: logger) { connection in try await body(connection) }
            } catch let error as PostgresTransactionError {
                throw error.closureError ?? error.beginError ?? error.commitError ?? error
            }
        }
    }

    /// Runs one statement and collects its rows.
    @discardableResult
    public func query(_ query: PostgresQuery, logger: Logger? = nil) async throws -> [PostgresRow] {
        try await withConnection { connection in
            let rows = try await connection.query(query, logger: logger ?? Database.quietLogger)
            var collected: [PostgresRow] = []
            for try await row in rows { collected.append(row) }
            return collected
        }
    }

    /// Whether the server this pool reaches takes writes: not a standby (in recovery) and not
    /// made read-only. After a failover the address may for a while still lead to the old
    /// primary, now a standby, which answers reads but refuses every write.
    /// A connection that finds its server read-only is dropped, as after a refused write.
    public func acceptsWrites() async throws -> Bool {
        try await withConnection { connection in
            let rows = try await connection.query(
                "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'",
                logger: Database.quietLogger
            )
            var writable = false
            for try await row in rows { writable = try row.decode(Bool.self) }
            if !writable { try? await connection.close() }
            return writable
        }
    }

    /// Where a standby's reads stand: the time of the last change it has replayed, and whether
    /// its replay is paused. `nil` on a primary, and on a standby's pool while its reads go to
    /// the primary: nothing to say then, the figures are current.
    public func standbyPosition() async throws -> StandbyPosition? {
        guard fallback != nil else { return nil }
        return try await withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT pg_last_xact_replay_timestamp(), pg_is_wal_replay_paused()
                FROM (SELECT pg_is_in_recovery() AS standby) s WHERE standby
                """,
                logger: Database.quietLogger
            )
            for try await (replayed, paused) in rows.decode((Date?, Bool).self) {
                return StandbyPosition(replayedUpTo: replayed, paused: paused)
            }
            return nil
        }
    }

    /// `true` when the database answers within `timeout`. PostgresNIO keeps retrying an
    /// unreachable server for a long time; readiness must answer quickly instead.
    public func answers<Value: Sendable>(within timeout: Duration, _ probe: @escaping @Sendable () async throws -> Value) async -> Value? {
        await Self.first(within: timeout, probe)
    }

    /// The value of `probe`, or `nil` if it throws or has not finished within `timeout`.
    static func first<Value: Sendable>(within timeout: Duration, _ probe: @escaping @Sendable () async throws -> Value) async -> Value? {
        // Not a task group: a group waits for every child before it returns, and a probe stuck
        // connecting to a stopped server may not notice cancellation for a long time. The
        // first of the probe and the timer to finish answers; the probe is cancelled and left
        // to wind down on its own.
        let pending = NIOLockedValueBox<CheckedContinuation<Value?, Never>?>(nil)
        let finish: @Sendable (Value?) -> Void = { value in
            let continuation = pending.withLockedValue { continuation in
                defer { continuation = nil }
                return continuation
            }
            continuation?.resume(returning: value)
        }
        return await withCheckedContinuation { continuation in
            pending.withLockedValue { $0 = continuation }
            let work = Task { finish(try? await probe()) }
            Task {
                try? await Task.sleep(for: timeout)
                work.cancel()
                finish(nil)
            }
        }
    }

    private func track(_ delta: Int) {
        let value = waitingOrActive.add(delta)
        inUse.set(to: Double(min(value, poolSize)))
    }

    static let quietLogger = Logger(label: "kaoping.db.quiet", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// No connection to the database could be had in time: the server is down or unreachable.
/// Pages answer 503 and say that nothing already acknowledged is lost.
public struct DatabaseUnavailable: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "the database did not answer in time" }
}

public enum DatabaseFailure {
    /// Whether `error` came from PostgreSQL or its client library.
    public static func isFromTheDatabase(_ error: any Error) -> Bool {
        error is PSQLError || error is PostgresTransactionError
    }

    /// What the server said (SQLSTATE and message), or the client's reason, for a person to read.
    public static func reason(_ error: any Error) -> String {
        switch error {
        case let error as PSQLError:
            if let state = error.serverInfo?[.sqlState], let message = error.serverInfo?[.message] { return "\(message) (SQLSTATE \(state))" }
            return "\(error.code)"
        case let error as PostgresTransactionError:
            return (error.closureError ?? error.beginError ?? error.commitError).map(reason) ?? "\(error)"
        default:
            return "\(error)"
        }
    }

    /// SQLSTATE read_only_sql_transaction.
    static let readOnlyState = "25006"

    /// Whether `error` is a write refused because the server is read-only.
    static func isReadOnly(_ error: any Error) -> Bool {
        switch error {
        case let error as PSQLError:
            return error.serverInfo?[.sqlState] == readOnlyState
        case let error as PostgresTransactionError:
            return [error.beginError, error.commitError, error.closureError].contains { $0.map(isReadOnly) ?? false }
        default:
            return false
        }
    }

    /// SQLSTATE serialization_failure: what a hot standby cancels a query with when it conflicts
    /// with a change being replayed. Kaoping runs no serializable transactions, so on a
    /// standby's pool it means only that.
    static let recoveryConflictState = "40001"

    /// Whether `error` is a standby cancelling a read that conflicted with the replay.
    static func isRecoveryConflict(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == recoveryConflictState
    }

    /// Whether `error` means the database could not be reached (rather than that a statement
    /// was wrong): the request may be tried again later, and nothing of it was stored.
    public static func isUnavailable(_ error: any Error) -> Bool {
        switch error {
        case is DatabaseUnavailable:
            return true
        case let error as PSQLError:
            // 57P: the server is shutting down, crashed, or starting up or in recovery; 08: the
            // connection failed; 25006: a read-only server (a standby, or a primary demoted in a
            // failover) refused a write.
            return [.connectionError, .serverClosedConnection, .poolClosed, .clientClosedConnection, .uncleanShutdown].contains(error.code)
                || error.serverInfo?[.sqlState].map { $0.hasPrefix("57P") || $0.hasPrefix("08") || $0 == readOnlyState } == true
        case let error as PostgresTransactionError:
            return [error.beginError, error.commitError, error.closureError].contains { $0.map(isUnavailable) ?? false }
        default:
            return false
        }
    }
}

/// How far a standby has replayed the primary's changes, for pages read from it.
public struct StandbyPosition: Sendable, Equatable {
    /// The commit time of the last transaction replayed; `nil` before the first.
    public let replayedUpTo: Date?
    /// Replay paused (`pg_wal_replay_pause()`): the standby falls behind until resumed.
    public let paused: Bool
}

/// The primary a standby's pool reads from while the standby does not answer, and when it
/// tries the standby again. Each change of source is logged once, not once per request.
final class StandbyFallback: Sendable {
    let primary: Database
    let standbyURL: DatabaseURL
    let logger: Logger
    /// How long reads stay on the primary before the standby is tried again.
    let retryAfter: Duration

    private struct State {
        /// Until when reads go to the primary; `nil` while the standby serves them.
        var awayUntil: ContinuousClock.Instant?
    }
    private let state = NIOLockedValueBox(State())

    init(primary: Database, standbyURL: DatabaseURL, logger: Logger, retryAfter: Duration = .seconds(15)) {
        self.primary = primary
        self.standbyURL = standbyURL
        self.logger = logger
        self.retryAfter = retryAfter
    }

    /// Whether the next read should try the standby.
    func standbyInUse() -> Bool {
        state.withLockedValue { state in
            guard let until = state.awayUntil else { return true }
            return ContinuousClock.now >= until
        }
    }

    func standbyFailed(_ error: any Error) {
        let first = state.withLockedValue { state in
            defer { state.awayUntil = .now + retryAfter }
            return state.awayUntil == nil
        }
        if first {
            logger.warning(
                "the standby does not answer; results are read from the primary until it does",
                metadata: ["standby": "\(standbyURL.host):\(standbyURL.port)", "reason": "\(DatabaseFailure.reason(error))"]
            )
        }
    }

    func standbyAnswered() {
        let back = state.withLockedValue { state in
            defer { state.awayUntil = nil }
            return state.awayUntil != nil
        }
        if back {
            logger.notice("the standby answers again; results are read from it", metadata: ["standby": "\(standbyURL.host):\(standbyURL.port)"])
        }
    }
}

/// A lock-protected counter; the pool gauge is updated from many tasks at once.
final class ManagedAtomicCounter: Sendable {
    private let value = NIOLockedValueBox(0)
    func add(_ delta: Int) -> Int {
        value.withLockedValue {
            $0 += delta
            return $0
        }
    }
}

extension PostgresConnection {
    /// Runs a statement whose rows, if any, are not wanted, and returns when it has finished;
    /// an error the server reports part-way through is thrown here, not lost with the rows.
    func execute(_ query: PostgresQuery, logger: Logger) async throws {
        for try await _ in try await self.query(query, logger: logger) {}
    }

    /// Runs a statement that returns a row for each thing it changed (`RETURNING 1`) and says
    /// whether it changed anything.
    func changes(_ query: PostgresQuery, logger: Logger) async throws -> Bool {
        var changed = false
        for try await _ in try await self.query(query, logger: logger) { changed = true }
        return changed
    }
}
