import Foundation
import Logging
import PostgresNIO
import Testing

@testable import KaopingServer

/// The embedded PostgreSQL launcher on clusters of its own (not the shared test server).
@Suite("Embedded PostgreSQL launcher", .serialized, .timeLimit(.minutes(3)))
struct LauncherTests {
    let logger: Logger = {
        var logger = Logger(label: "kaoping.tests.launcher")
        logger.logLevel = .error
        return logger
    }()

    func temporaryDirectory() -> String {
        NSTemporaryDirectory() + "kaoping-launcher-\(UUID().uuidString.prefix(8))"
    }

    func scalar(_ url: DatabaseURL, _ sql: String) async throws -> String? {
        try await DatabaseBootstrap.withMaintenanceConnection(url, logger: logger, database: url.database) { connection in
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(String?.self) {
                return value
            }
            return nil
        }
    }

    @Test func initialisesStartsReusesAndKeepsDataAcrossRestarts() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cluster = EmbeddedPostgres(dataDirectory: directory, serverSettings: ["fsync": "off"])

        let first = try await cluster.start(logger: logger)
        #expect(first.startedHere)
        #expect(FileManager.default.fileExists(atPath: directory + "/postgres/PG_VERSION"))
        // The password file is for the owner only.
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/postgres-password")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        try await DatabaseBootstrap.createDatabaseIfMissing(first.url, logger: logger)
        _ = try await scalar(first.url, "CREATE TABLE kept (note text)")
        _ = try await scalar(first.url, "INSERT INTO kept VALUES ('still here')")

        // A second start while it runs finds it and leaves it to its owner.
        let again = try await cluster.start(logger: logger)
        #expect(!again.startedHere)
        #expect(again.url.port == first.url.port)

        try await cluster.stop(logger: logger)
        #expect(await !cluster.isRunning())

        let restarted = try await cluster.start(logger: logger)
        #expect(restarted.startedHere)
        #expect(try await scalar(restarted.url, "SELECT note FROM kept") == "still here")
        try await cluster.stop(logger: logger)
    }

    @Test func staleProcessIDFileIsHandled() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cluster = EmbeddedPostgres(dataDirectory: directory, serverSettings: ["fsync": "off"])
        _ = try await cluster.start(logger: logger)
        try await cluster.stop(logger: logger)

        // What a power cut leaves: a postmaster.pid naming a process that no longer exists.
        let pidFile = directory + "/postgres/postmaster.pid"
        try "999999\n\(directory)/postgres\n1700000000\n5432\n\(directory)/postgres\n127.0.0.1\n  5432001         0\nready   \n"
            .write(toFile: pidFile, atomically: true, encoding: .utf8)
        #expect(FileManager.default.fileExists(atPath: pidFile))

        let running = try await cluster.start(logger: logger)
        #expect(running.startedHere)
        #expect(try await scalar(running.url.with(database: "postgres"), "SELECT 'alive'") == "alive")
        try await cluster.stop(logger: logger)
    }

    @Test func killedServerIsRecovered() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cluster = EmbeddedPostgres(dataDirectory: directory, serverSettings: ["fsync": "off"])
        _ = try await cluster.start(logger: logger)
        let pidText = try String(contentsOfFile: directory + "/postgres/postmaster.pid", encoding: .utf8)
        let pid = try #require(pid_t(pidText.split(separator: "\n")[0]))
        kill(pid, SIGKILL)
        // Children notice the postmaster's death and exit on their own within a moment.
        for _ in 0..<50 where await cluster.isRunning() { try await Task.sleep(for: .milliseconds(100)) }
        try await Task.sleep(for: .milliseconds(500))

        let running = try await cluster.start(logger: logger)
        #expect(running.startedHere)
        #expect(try await scalar(running.url.with(database: "postgres"), "SELECT 'recovered'") == "recovered")
        try await cluster.stop(logger: logger)
    }

    @Test func aDirectoryThatIsNotAClusterIsRefused() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/postgres", withIntermediateDirectories: true)
        try "not a database".write(toFile: directory + "/postgres/notes.txt", atomically: true, encoding: .utf8)
        await #expect {
            _ = try await EmbeddedPostgres(dataDirectory: directory).start(logger: logger)
        } throws: { error in
            "\(error)".contains("is not a PostgreSQL cluster")
        }
    }
}
