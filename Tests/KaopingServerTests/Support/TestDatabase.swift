import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import Testing

@testable import KaopingServer

/// One PostgreSQL server for the whole test run, a migrated template database made once, and
/// a fresh clone of it for every test, so that tests run in parallel without seeing each other.
///
/// The server is `KAOPING_TEST_DATABASE_URL` when set; otherwise an embedded cluster in a
/// temporary directory, started on first use and stopped when the test process exits.
actor TestDatabaseServer {
    static let shared = TestDatabaseServer()

    static let repositoryRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let sqlDirectory = repositoryRoot + "/sql"

    let logger: Logger = {
        var logger = Logger(label: "kaoping.tests")
        logger.logLevel = .warning
        return logger
    }()

    private var server: Task<DatabaseURL, any Error>?
    private var template: String?

    /// The server's address (its maintenance database); the first caller starts it, the
    /// others wait for the same start.
    func serverURL() async throws -> DatabaseURL {
        if let server { return try await server.value }
        let logger = self.logger
        let starting = Task { () throws -> DatabaseURL in
            if let configured = ProcessInfo.processInfo.environment["KAOPING_TEST_DATABASE_URL"] {
                return try DatabaseURL(parsing: configured)
            }
            let directory = NSTemporaryDirectory() + "kaoping-tests-\(getpid())"
            let cluster = EmbeddedPostgres(
                dataDirectory: directory,
                // A throwaway cluster: durability is worth nothing here, speed is. Every test runs
                // at once with its own server's pool (and in-process commands open theirs), so
                // the cluster takes many more clients than a server would.
                serverSettings: ["fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "1000"]
            )
            let url = try await cluster.start(logger: logger).url
            TestClusterCleanup.register(cluster: cluster, directory: directory)
            return url
        }
        server = starting
        return try await starting.value
    }

    /// A new database with every migration applied, cloned from the template.
    func makeMigratedDatabase() async throws -> DatabaseURL {
        let server = try await serverURL()
        let template = try await migratedTemplate()
        let name = "kt_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        try await Self.execute(
            "CREATE DATABASE \(DatabaseBootstrap.quoteIdentifier(String(name))) TEMPLATE \(DatabaseBootstrap.quoteIdentifier(template))",
            on: server,
            logger: logger
        )
        return server.with(database: String(name))
    }

    /// A new database with nothing in it, for migration tests.
    func makeEmptyDatabase() async throws -> DatabaseURL {
        let server = try await serverURL()
        let name = "ke_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        try await DatabaseBootstrap.createDatabaseIfMissing(server.with(database: String(name)), logger: logger)
        return server.with(database: String(name))
    }

    nonisolated func drop(_ url: DatabaseURL) async {
        try? await Self.execute("DROP DATABASE IF EXISTS \(DatabaseBootstrap.quoteIdentifier(url.database)) WITH (FORCE)", on: url, logger: logger)
    }

    /// Runs one statement on the server's maintenance database.
    nonisolated static func execute(_ sql: String, on server: DatabaseURL, logger: Logger) async throws {
        try await DatabaseBootstrap.withMaintenanceConnection(server, logger: logger) { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }

    /// The template is named after the migrations' contents, so a changed migration gets a new
    /// template instead of a stale one, and runs against a shared server do not collide.
    private func migratedTemplate() async throws -> String {
        if let template { return template }
        let server = try await serverURL()
        let migrations = try Migrator.load(directory: Self.sqlDirectory)
        var digest: UInt64 = 14_695_981_039_346_656_037
        for byte in migrations.map({ "\($0.fileName)\n\($0.sql)" }).joined().utf8 {
            digest = (digest ^ UInt64(byte)) &* 1_099_511_628_211
        }
        let name = "kaoping_tpl_" + String(digest, radix: 16)
        try await Self.buildTemplate(name: name, migrations: migrations, server: server, logger: logger)
        template = name
        return name
    }
}

extension TestDatabaseServer {
    nonisolated static func buildTemplate(name: String, migrations: [Migration], server: DatabaseURL, logger: Logger) async throws {
        try await DatabaseBootstrap.withMaintenanceConnection(server, logger: logger) { connection in
            // Several test processes may share a server: one builds the template, the others wait.
            // The lock ends with this connection.
            _ = try await connection.query("SELECT pg_advisory_lock(4242)", logger: logger)
            var exists = false
            for try await _ in try await connection.query("SELECT 1 FROM pg_database WHERE datname = \(name) AND datistemplate", logger: logger) {
                exists = true
            }
            if exists { return }
            _ = try await connection.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(DatabaseBootstrap.quoteIdentifier(name))"),
                logger: logger
            )
            _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(DatabaseBootstrap.quoteIdentifier(name))"), logger: logger)
            try await DatabaseBootstrap.withMaintenanceConnection(server, logger: logger, database: name) { templateConnection in
                _ = try await Migrator(migrations: migrations).migrate(on: templateConnection, logger: logger)
            }
            _ = try await connection.query(
                PostgresQuery(unsafeSQL: "ALTER DATABASE \(DatabaseBootstrap.quoteIdentifier(name)) WITH IS_TEMPLATE true"),
                logger: logger
            )
        }
    }
}

/// Stops the test clusters (the shared one, and the standby tests' primary) and removes their
/// files when the test process exits.
enum TestClusterCleanup {
    // Registered from two actors (the shared server's and the standby tests').
    private static let clusters = NIOLockedValueBox<[(cluster: EmbeddedPostgres, directory: String)]>([])

    static func register(cluster: EmbeddedPostgres, directory: String) {
        let first = clusters.withLockedValue { clusters in
            defer { clusters.append((cluster, directory)) }
            return clusters.isEmpty
        }
        guard first else { return }
        atexit {
            for (cluster, directory) in TestClusterCleanup.clusters.withLockedValue({ $0 }) {
                cluster.stopNow()
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
    }
}
