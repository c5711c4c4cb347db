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

    /// Runs `body` with a connection leased from the pool.
    public func withConnection<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        track(+1)
        defer { track(-1) }
        return try await client.withConnection { connection in try await body(connection) }
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
