import Foundation
import Logging
import PostgresNIO
import Prometheus
import Testing

@testable import KaopingServer

/// A primary of the standby tests' own, with `pg_stat_statements` loaded so that a test can
/// see which statements reached it: the shared test cluster neither loads it nor should have
/// its replay paused under other tests. Started on first use, stopped when the process exits.
actor StandbyTestPrimary {
    static let shared = StandbyTestPrimary()

    static let settings = ["shared_preload_libraries": "pg_stat_statements", "fsync": "off", "max_connections": "200", "wal_keep_size": "512MB"]
    let directory = NSTemporaryDirectory() + "kaoping-standby-tests-\(getpid())"

    private var started: Task<(cluster: EmbeddedPostgres, url: DatabaseURL, template: String), any Error>?

    private func primary() async throws -> (cluster: EmbeddedPostgres, url: DatabaseURL, template: String) {
        if let started { return try await started.value }
        let (directory, logger) = (self.directory, TestDatabaseServer.shared.logger)
        let starting = Task { () throws -> (cluster: EmbeddedPostgres, url: DatabaseURL, template: String) in
            let cluster = EmbeddedPostgres(dataDirectory: directory + "/primary", serverSettings: Self.settings)
            let url = try await cluster.start(logger: logger).url
            TestClusterCleanup.register(cluster: cluster, directory: directory)
            let template = "kaoping_standby_template"
            try await TestDatabaseServer.buildTemplate(
                name: template,
                migrations: try Migrator.load(directory: TestDatabaseServer.sqlDirectory),
                server: url,
                logger: logger
            )
            return (cluster, url, template)
        }
        started = starting
        return try await starting.value
    }

    /// A new migrated database on the primary, with the statement statistics' view in it.
    func makeDatabase() async throws -> DatabaseURL {
        let (_, server, template) = try await primary()
        let name = "ks_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        try await TestDatabaseServer.execute(
            "CREATE DATABASE \(DatabaseBootstrap.quoteIdentifier(String(name))) TEMPLATE \(DatabaseBootstrap.quoteIdentifier(template))",
            on: server,
            logger: TestDatabaseServer.shared.logger
        )
        let url = server.with(database: String(name))
        try await DatabaseBootstrap.withMaintenanceConnection(url, logger: TestDatabaseServer.shared.logger, database: url.database) { connection in
            try await connection.execute("CREATE EXTENSION pg_stat_statements", logger: TestDatabaseServer.shared.logger)
        }
        return url
    }

    /// A streaming standby of the primary, made with `pg_basebackup -R` on loopback and
    /// started on a port of its own: one per test, so that one test may pause or stop its
    /// standby while others run.
    func makeStandby() async throws -> StreamingStandby {
        do {
            return try await standby()
        } catch {
            throw DatabaseFailure.isFromTheDatabase(error) ? StandbyTestFailure(reason: String(reflecting: error)) : error
        }
    }

    private func standby() async throws -> StreamingStandby {
        let (primaryCluster, server, _) = try await primary()
        let state = directory + "/standby-" + UUID().uuidString.prefix(8).lowercased()
        let cluster = EmbeddedPostgres(dataDirectory: state, serverSettings: Self.settings)
        let runner = CommandRunner(runAsPostgres: geteuid() == 0)
        let fileManager = FileManager.default
        try fileManager.createDirectory(atPath: cluster.clusterDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if runner.runAsPostgres {
            try fileManager.setAttributes([.posixPermissions: 0o711], ofItemAtPath: state)
            try runner.chownToPostgres(cluster.clusterDirectory)
        }
        // The standby signs in with the primary's superuser password, as its cluster's own.
        try fileManager.copyItem(atPath: primaryCluster.stateDirectory + "/postgres-password", toPath: state + "/postgres-password")
        let binaries = try await PostgresBinaries.locate()
        let backup = try await runner.run(
            binaries.path("pg_basebackup"),
            [
                "-D", cluster.clusterDirectory, "-R", "-X", "stream", "-c", "fast", "-h", "127.0.0.1", "-p", "\(server.port)", "-U", server.username,
                "-w",
            ],
            environment: ["PGPASSWORD": server.password ?? ""]
        )
        guard backup.status == 0 else { throw StandbyTestFailure(reason: "pg_basebackup: \(backup.output)") }
        // The primary's server log came along with the files: the standby's own starts empty.
        try? fileManager.removeItem(atPath: cluster.clusterDirectory + "/kaoping-server.log")
        let running = try await cluster.start(logger: TestDatabaseServer.shared.logger)
        return StreamingStandby(cluster: cluster, server: running.url.with(database: "postgres"), primary: server.with(database: "postgres"))
    }
}

struct StandbyTestFailure: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

/// A standby of `StandbyTestPrimary`, and what a test does with it.
struct StreamingStandby: Sendable {
    let cluster: EmbeddedPostgres
    /// The standby's maintenance database; `url(of:)` for a test's own.
    let server: DatabaseURL
    let primary: DatabaseURL

    func url(of database: DatabaseURL) -> DatabaseURL { server.with(database: database.database) }

    /// Runs one statement on the standby (in the maintenance database) and decodes its first column of the first row.
    func value<Value: PostgresDecodable & Sendable>(_ sql: String, as type: Value.Type, database: String? = nil) async throws -> Value? {
        try await Self.value(sql, as: type, on: database.map { server.with(database: $0) } ?? server)
    }

    static func value<Value: PostgresDecodable & Sendable>(_ sql: String, as type: Value.Type, on url: DatabaseURL) async throws -> Value? {
        try await DatabaseBootstrap.withMaintenanceConnection(url, logger: TestDatabaseServer.shared.logger, database: url.database) { connection in
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabaseServer.shared.logger) {
                return try row.decode(Value.self)
            }
            return nil
        }
    }

    /// Waits until the standby has replayed everything the primary has written so far.
    func caughtUp(within timeout: Duration = .seconds(60)) async throws {
        let target = try #require(try await Self.value("SELECT pg_current_wal_lsn()::text", as: String.self, on: primary))
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await value("SELECT pg_last_wal_replay_lsn() >= '\(target)'::pg_lsn", as: Bool.self) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw StandbyTestFailure(reason: "the standby had not replayed up to \(target) within \(timeout)")
    }

    /// Pauses the replay, and waits until it has paused.
    func pauseReplay() async throws {
        _ = try await value("SELECT pg_wal_replay_pause()::text", as: String.self)
        for _ in 0..<200 {
            if try await value("SELECT pg_get_wal_replay_pause_state()", as: String.self) == "paused" { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw StandbyTestFailure(reason: "the standby's replay did not pause")
    }

    /// Stops the standby at once (the machine gone) and removes its files.
    func remove() {
        cluster.stopNow()
        try? FileManager.default.removeItem(atPath: cluster.stateDirectory)
    }

    /// Runs `body` with a standby, removed afterwards however `body` ends.
    static func with(_ body: (StreamingStandby) async throws -> Void) async throws {
        let standby = try await StandbyTestPrimary.shared.makeStandby()
        do {
            try await body(standby)
        } catch {
            standby.remove()
            // What the server said, not PSQLError's generic text.
            throw DatabaseFailure.isFromTheDatabase(error) ? StandbyTestFailure(reason: String(reflecting: error)) : error
        }
        standby.remove()
    }
}
