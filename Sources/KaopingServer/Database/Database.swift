import NIOConcurrencyHelpers
import Foundation
import Logging
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
    /// Longest wait for a connection before a request gives up with `DatabaseUnavailable`.
    public var leaseTimeout: Duration = .seconds(2)

    /// - Parameter quietBackground: keep the pool's own log lines to errors (command-line tools,
    ///   where a warning about the pool starting up is noise).
    public init(url: DatabaseURL, poolSize: Int, registry: PrometheusCollectorRegistry, logger: Logger, quietBackground: Bool = false) {
        var configuration: PostgresClient.Configuration
        if let socketDirectory = url.unixSocketDirectory {
            configuration = .init(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(url.port)",
                username: url.username, password: url.password, database: url.database
            )
        } else {
            let tls: PostgresClient.Configuration.TLS =
                switch url.tlsMode {
                case .disable: .disable
                case .prefer: .prefer(.makeClientConfiguration())
                case .require: .require(.makeClientConfiguration())
                }
            configuration = .init(
                host: url.host, port: url.port, username: url.username, password: url.password,
                database: url.database, tls: tls
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
            descriptor: .init(namespace: "kaoping", subsystem: "db", metricName: "connections", unitName: "in_use", helpText: "Database connections leased from the pool right now"),
            labels: []
        )
        registry.makeGauge(
            descriptor: .init(namespace: "kaoping", subsystem: "db", metricName: "connections", unitName: "max", helpText: "Size of the database connection pool"),
            labels: []
        ).set(to: Double(poolSize))
        self.waitingOrActive = ManagedAtomicCounter()
    }

    /// Runs `body` with a connection leased from the pool, or throws `DatabaseUnavailable` when
    /// no connection can be had within `leaseTimeout`.
    ///
    /// PostgresClient keeps a lease waiting while it retries an unreachable server, for up to a
    /// minute; a person waiting on a page would long have given up. So the lease runs in a child
    /// task that hands the connection over, and a timer abandons it (cancelling the lease) when
    /// it takes too long. `body` itself runs here, in the caller's task, with no time limit.
    public func withConnection<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        track(+1)
        defer { track(-1) }
        let handoff = LeaseHandoff()
        let client = self.client
        let leaseTimeout = self.leaseTimeout
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await client.withConnection { connection in await handoff.deliver(connection) }
                } catch {
                    handoff.fail(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: leaseTimeout)
                if !Task.isCancelled { handoff.fail(DatabaseUnavailable()) }
            }
            defer {
                handoff.release()
                group.cancelAll()
            }
            let connection = try await withTaskCancellationHandler {
                try await handoff.connection()
            } onCancel: {
                handoff.fail(CancellationError())
            }
            return try await body(connection)
        }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    /// The error thrown by `body` is rethrown as it was, not wrapped.
    public func transaction<Result: Sendable>(logger: Logger, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
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

    /// `true` when the database answers within `timeout`. PostgresNIO keeps retrying an
    /// unreachable server for a long time; readiness must answer quickly instead.
    public func answers<Value: Sendable>(within timeout: Duration, _ probe: @escaping @Sendable () async throws -> Value) async -> Value? {
        // Not a task group: a group waits for every child before it returns, and a probe stuck
        // connecting to a stopped server may not notice cancellation for a long time. The
        // first of the probe and the timer to finish answers; the probe is cancelled and left
        // to wind down on its own.
        let pending = NIOLockedValueBox<CheckedContinuation<Value?, Never>?>(nil)
        let finish: @Sendable (Value?) -> Void = { value in
            pending.withLockedValue { continuation in
                continuation?.resume(returning: value)
                continuation = nil
            }
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

enum DatabaseFailure {
    /// Whether `error` means the database could not be reached (rather than that a statement
    /// was wrong): the request may be tried again later, and nothing of it was stored.
    static func isUnavailable(_ error: any Error) -> Bool {
        switch error {
        case is DatabaseUnavailable:
            return true
        case let error as PSQLError:
            return [.connectionError, .serverClosedConnection, .poolClosed, .clientClosedConnection, .uncleanShutdown].contains(error.code)
                || error.serverInfo?[.sqlState].map { $0.hasPrefix("57P") || $0.hasPrefix("08") } == true
        case let error as PostgresTransactionError:
            return [error.beginError, error.commitError, error.closureError].contains { $0.map(isUnavailable) ?? false }
        default:
            return false
        }
    }
}

/// Passes a leased connection from the task that holds the lease to the task that uses it, and
/// tells the lease holder when the user is done.
///
/// Continuations are always resumed after the lock is released: `fail` also runs as a task's
/// cancellation handler, under the runtime's own lock on that task, and resuming a task takes
/// that lock too; doing both under ours would let two threads wait on each other for ever.
private final class LeaseHandoff: Sendable {
    private struct State {
        var connection: PostgresConnection?
        var failure: (any Error)?
        var waiting: CheckedContinuation<PostgresConnection, any Error>?
        var holding: CheckedContinuation<Void, Never>?
        var released = false
    }
    private let state = NIOLockedValueBox(State())

    /// Called by the lease holder; returns when the connection may go back to the pool.
    func deliver(_ connection: PostgresConnection) async {
        await withCheckedContinuation { (holding: CheckedContinuation<Void, Never>) in
            let (giveBack, waiting) = state.withLockedValue { state -> (Bool, CheckedContinuation<PostgresConnection, any Error>?) in
                if state.released || state.failure != nil { return (true, nil) }
                state.connection = connection
                state.holding = holding
                defer { state.waiting = nil }
                return (false, state.waiting)
            }
            if giveBack { holding.resume() }
            waiting?.resume(returning: connection)
        }
    }

    /// No connection is coming (an error, the timer, cancellation); ignored once one was delivered.
    func fail(_ error: any Error) {
        let waiting = state.withLockedValue { state -> CheckedContinuation<PostgresConnection, any Error>? in
            guard state.connection == nil, state.failure == nil else { return nil }
            state.failure = error
            defer { state.waiting = nil }
            return state.waiting
        }
        waiting?.resume(throwing: error)
    }

    func connection() async throws -> PostgresConnection {
        try await withCheckedThrowingContinuation { continuation in
            let outcome = state.withLockedValue { state -> Result<PostgresConnection, any Error>? in
                if let connection = state.connection { return .success(connection) }
                if let failure = state.failure { return .failure(failure) }
                state.waiting = continuation
                return nil
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    func release() {
        let holding = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.released = true
            defer { state.holding = nil }
            return state.holding
        }
        holding?.resume()
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
