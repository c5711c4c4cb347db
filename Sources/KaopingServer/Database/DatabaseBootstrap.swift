import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// Finds the database the configuration names: the given URL, or the embedded cluster, started
/// if it is not running and given its `kaoping` database on first use.
public struct DatabaseBootstrap: Sendable {
    public struct Prepared: Sendable {
        public let url: DatabaseURL
        /// Set when this process started the embedded cluster and should stop it when done.
        public let startedCluster: EmbeddedPostgres?
        /// The embedded cluster in use, whoever started it; `nil` with `--database-url`.
        public var embeddedCluster: EmbeddedPostgres? = nil
    }

    public static func prepare(_ configuration: KaopingConfiguration, logger: Logger) async throws -> Prepared {
        if let url = configuration.databaseURL {
            try await checkReachable(url, logger: logger)
            return Prepared(url: url, startedCluster: nil)
        }
        let cluster = EmbeddedPostgres(dataDirectory: configuration.dataDirectory)
        let running = try await cluster.start(logger: logger)
        do {
            try await createDatabaseIfMissing(running.url, logger: logger)
        } catch {
            if running.startedHere { try? await cluster.stop(logger: logger) }
            throw error
        }
        return Prepared(url: running.url, startedCluster: running.startedHere ? cluster : nil, embeddedCluster: cluster)
    }

    /// Connects once, so that a wrong address, password or database name stops start-up within
    /// seconds with one line, instead of a pool that retries for a minute.
    public static func checkReachable(_ url: DatabaseURL, logger: Logger, timeout: Duration = .seconds(5)) async throws {
        do {
            try await withMaintenanceConnection(url, logger: logger, database: url.database, connectTimeout: timeout) { _ in }
        } catch {
            throw DatabaseUnreachable(url: url, error: error)
        }
    }

    /// Connects to the server's `postgres` database and creates `url.database` if it is absent.
    public static func createDatabaseIfMissing(_ url: DatabaseURL, template: String? = nil, logger: Logger) async throws {
        try await withMaintenanceConnection(url, logger: logger) { connection in
            let rows = try await connection.query("SELECT 1 FROM pg_database WHERE datname = \(url.database)", logger: logger)
            var exists = false
            for try await _ in rows { exists = true }
            if exists { return }
            let templateClause = template.map { " TEMPLATE \(quoteIdentifier($0))" } ?? ""
            do {
                _ = try await connection.simpleQuery("CREATE DATABASE \(quoteIdentifier(url.database))\(templateClause)").get()
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42P04" {
                // Another process created it between our check and our CREATE: fine.
            }
            logger.info("created database", metadata: ["database": "\(url.database)"])
        }
    }

    /// Runs `body` on a single connection to the server's `postgres` database.
    public static func withMaintenanceConnection<Result: Sendable>(
        _ url: DatabaseURL,
        logger: Logger,
        database: String = "postgres",
        connectTimeout: Duration = .seconds(10),
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let maintenance = url.with(database: database)
        var configuration: PostgresConnection.Configuration
        if let socketDirectory = maintenance.unixSocketDirectory {
            configuration = .init(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(maintenance.port)",
                username: maintenance.username,
                password: maintenance.password,
                database: maintenance.database
            )
        } else {
            configuration = .init(
                host: maintenance.host,
                port: maintenance.port,
                username: maintenance.username,
                password: maintenance.password,
                database: maintenance.database,
                tls: maintenance.tlsMode == .disable ? .disable : .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            )
        }
        configuration.options.connectTimeout = .init(connectTimeout)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// The configured database could not be reached at start-up; the description is the one line
/// the operator reads.
public struct DatabaseUnreachable: Error, CustomStringConvertible {
    public let url: DatabaseURL
    public let error: any Error

    public var description: String {
        let place = url.unixSocketDirectory.map { "the socket in \($0)" } ?? "\(url.host):\(url.port)"
        return "cannot connect to the database \(url.database) at \(place) as \(url.username): \(Self.reason(error))"
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let state = error.serverInfo?[.sqlState] {
                let message = error.serverInfo?[.message] ?? ""
                switch state {
                case "28P01", "28000": return "the server refused the user name or password (\(message))"
                case "3D000": return "no such database (\(message)); create it, or check the name in --database-url"
                default: return "\(message) (SQLSTATE \(state))"
                }
            }
            if let underlying = error.underlying { return reason(underlying) }
            if error.code == .connectionError { return "no answer" }
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused (is PostgreSQL running there, and listening on that address and port?)"
            case ETIMEDOUT: return "timed out"
            case EHOSTUNREACH, ENETUNREACH: return "the host cannot be reached"
            default: return String(describing: error)
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return "no answer within the time limit" }
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return reason(first.error) }
            if let dns = error.dnsAAAAError ?? error.dnsAError { return "the host name could not be resolved (\(dns))" }
        }
        return String(describing: error)
    }
}
