import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Synchronization
import Testing

@testable import KaopingServer

#if canImport(Glibc)
import Glibc
#endif

/// `kaoping serve` as an operator runs it, stopped while its database is gone.
@Suite("Stopping a server whose database died", .serialized, .timeLimit(.minutes(3)))
struct PinnedFailureTests {
    static let quiet: Logger = {
        var logger = Logger(label: "kaoping.tests.pinned-failure")
        logger.logLevel = .critical
        return logger
    }()

    /// What the respondents' clients saw, by status (0: no reply, the connection failed).
    final class Tally: Sendable {
        private let counts = Mutex<[Int: Int]>([:])
        func add(_ code: Int) { counts.withLock { $0[code, default: 0] += 1 } }
        var all: [Int: Int] { counts.withLock { $0 } }
    }

    /// A database of the test's own (not the shared test server) dies while members submit;
    /// then SIGTERM must stop the server within seconds and with status 0, not leave it waiting
    /// on leases, the pool's reconnecting or requests still in flight.
    @Test func sigtermStopsTheServerPromptlyAfterItsDatabaseIsKilledUnderLoad() async throws {
        let directory = NSTemporaryDirectory() + "kaoping-sigterm-\(UUID().uuidString.prefix(8))"
        _ = DataDirectoryLock.makeDirectories(directory)
        chmod(directory, 0o755)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cluster = EmbeddedPostgres(dataDirectory: directory + "/db", serverSettings: ["fsync": "off"])
        let running = try await cluster.start(logger: Self.quiet)
        defer { cluster.stopNow(timeout: .seconds(10)) }
        let url = running.url
        try await DatabaseBootstrap.createDatabaseIfMissing(url, logger: Self.quiet)
        try Data(TestApp.invitationSecret).write(to: URL(fileURLWithPath: directory + "/secret"))

        // The server, with an outside database: nobody brings it back once it is killed.
        let port = try FreePort.find()
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KAOPING_") }
        environment["KAOPING_DATABASE_URL"] = "postgres://\(url.username):\(url.password ?? "")@\(url.host):\(url.port)/\(url.database)"
        environment["KAOPING_SECRET_FILE"] = directory + "/secret"
        let server = try await ChildProgram.start(
            CommandLineTests.Program.binary,
            ["serve", "--port", "\(port)", "--metrics-address", "off", "--log-level", "error"],
            environment: environment,
            workingDirectory: "/",
            outputDirectory: directory
        )
        // Never outlives the test, whatever fails first.
        defer { server.send(SIGKILL) }
        func ready() async -> Bool {
            let connection = try? RawConnection(port: port)
            connection?.send("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return await connection?.readUntilClosed(timeout: 2).text.hasPrefix("HTTP/1.1 200") ?? false
        }
        let startDeadline = ContinuousClock.now + .seconds(60)
        var up = false
        while !up && server.isRunning && ContinuousClock.now < startDeadline {
            up = await ready()
            if !up { try await Task.sleep(for: .milliseconds(250)) }
        }
        try #require(up, "the server did not become ready: \(server.errors)")

        // An open round with links, made beside the server on the same database.
        let database = Database(url: url, poolSize: 2, registry: PrometheusCollectorRegistry(), logger: Self.quiet)
        let tokens = try await withThrowingTaskGroup(of: [String]?.self) { group in
            group.addTask {
                await database.client.run()
                return nil
            }
            defer { group.cancelAll() }
            let harness = try TestHarness(database: database, url: url, configuration: TestApp.configuration(for: url))
            return try await harness.roundWithInvitations(members: 200).tokens
        }
        let answers = try memberAnswers()

        // Four respondents at a time, each reading their form and sending it, until the server
        // is gone (or, at the latest, a minute from now).
        let tally = Tally()
        let loadDeadline = ContinuousClock.now + .seconds(60)
        let clients = 4
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<clients {
                    group.addTask {
                        for token in stride(from: client, to: tokens.count, by: clients).map({ tokens[$0] }) {
                            guard server.isRunning && ContinuousClock.now < loadDeadline else { return }
                            let connection = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(10)))
                            connection.connect()
                            var browser = Browser(connection)
                            do {
                                let form = try await browser.get("/s/\(token)")
                                if let key = form.hidden("_key") {
                                    tally.add(Int(try await browser.post("/s/\(token)", form: answers + [("_key", key)]).status.code))
                                } else {
                                    tally.add(Int(form.status.code))
                                }
                            } catch {
                                tally.add(0)
                            }
                            try? await connection.shutdown()
                        }
                    }
                }
            }
        }
        defer { load.cancel() }

        // Some answers are in before the database dies.
        let loaded = ContinuousClock.now + .seconds(30)
        while (tally.all[200] ?? 0) < 8 && ContinuousClock.now < loaded { try await Task.sleep(for: .milliseconds(50)) }
        #expect((tally.all[200] ?? 0) >= 8, "\(tally.all)")
        let pidText = try String(contentsOfFile: cluster.clusterDirectory + "/postmaster.pid", encoding: .utf8)
        kill(try #require(pid_t(pidText.split(separator: "\n")[0])), SIGKILL)
        // Requests are now waiting on leases the dead database cannot give (a lease waits 1.5 s
        // before the watchdog asks whether the database is there).
        try await Task.sleep(for: .milliseconds(700))
        #expect(server.isRunning, "the server ended by itself when its database died: \(server.errors)")

        server.send(SIGTERM)
        #expect(await server.finished(within: 10), "the server was still running 10 s after SIGTERM (then killed)")
        #expect(server.status == 0, "exit status \(server.status.map(String.init) ?? "none"): \(server.errors)")

        // The respondents' clients end with the server; each was answered "stored" or "try
        // again", or found the connection closed.
        #expect(await Self.ended(load, within: .seconds(15)))
        #expect(Set(tally.all.keys).isSubset(of: [0, 200, 503]), "\(tally.all)")
    }

    /// Whether `task` ended within the time (checked every 50 ms); if not, it is cancelled.
    static func ended(_ task: Task<Void, Never>, within limit: Duration) async -> Bool {
        final class Flag: Sendable {
            let raised = Mutex(false)
        }
        let done = Flag()
        Task {
            await task.value
            done.raised.withLock { $0 = true }
        }
        let deadline = ContinuousClock.now + limit
        while !done.raised.withLock({ $0 }) && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if !done.raised.withLock({ $0 }) { task.cancel() }
        return done.raised.withLock { $0 }
    }
}
