import NIOSSL
import Foundation
import Logging
import NIOPosix
import PostgresNIO

/// Finds the database the configuration names: the given URL, or the embedded cluster, started
/// if it is not running and given its `kaoping` database on first use.
public struct DatabaseBootstrap: Sendable {
    public struct Prepared: Sendable {
        public let url: DatabaseURL
        /// Set when this process started the embedded cluster and should stop it when done.
        public let startedCluster: EmbeddedPostgres?
    }

    public static func prepare(_ configuration: KaopingConfiguration, logger: Logger) async throws -> Prepared {
        if let url = configuration.databaseURL {
            return Prepared(url: url, startedCluster: nil)
        }
        let cluster = EmbeddedPostgres(dataDirectory: configuration.dataDirectory)
        let running = try cluster.start(logger: logger)
        do {
            try await createDatabaseIfMissing(running.url, logger: logger)
        } catch {
            if running.startedHere { try? cluster.stop(logger: logger) }
            throw error
        }
        return Prepared(url: running.url, startedCluster: running.startedHere ? cluster : nil)
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
        _ url: DatabaseURL, logger: Logger, database: String = "postgres", _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let maintenance = url.with(database: database)
        var configuration: PostgresConnection.Configuration
        if let socketDirectory = maintenance.unixSocketDirectory {
            configuration = .init(unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(maintenance.port)", username: maintenance.username, password: maintenance.password, database: maintenance.database)
        } else {
            configuration = .init(
                host: maintenance.host, port: maintenance.port, username: maintenance.username,
                password: maintenance.password, database: maintenance.database,
                tls: maintenance.tlsMode == .disable ? .disable : .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            )
        }
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
