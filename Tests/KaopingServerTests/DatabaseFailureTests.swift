import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import KaopingServer

#if canImport(Glibc)
import Glibc
#endif

/// The database goes away during a round: nothing acknowledged is lost, nobody waits long, and
/// the service comes back without a person.
@Suite("Database failures", .timeLimit(.minutes(3)))
struct DatabaseFailureTests {
    static let quiet: Logger = {
        var logger = Logger(label: "kaoping.tests.failures")
        logger.logLevel = .critical
        return logger
    }()

    /// The test's database refuses new connections and loses the ones it had.
    static func takeAway(_ harness: TestHarness) async throws {
        try await alter(harness, "ALLOW_CONNECTIONS false")
    }

    /// Changes the test's database (`ALTER DATABASE … change`) and ends its sessions, so that
    /// every connection made after it has the change.
    static func alter(_ harness: TestHarness, _ change: String) async throws {
        let server = try await TestDatabaseServer.shared.serverURL()
        let name = DatabaseBootstrap.quoteIdentifier(harness.url.database)
        try await TestDatabaseServer.execute("ALTER DATABASE \(name) \(change)", on: server, logger: Self.quiet)
        try await TestDatabaseServer.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(harness.url.database)' AND pid <> pg_backend_pid()",
            on: server,
            logger: Self.quiet
        )
    }

    @Test func anUnreachableDatabaseFailsFastAndTheRespondentKeepsTheirAnswers() async throws {
        try await TestApp.run { client, harness in
            let (round, branch) = try await harness.openRound()
            let link = try #require(try await harness.memberLinks(round: round, branch: branch).first)
            var browser = Browser(client)
            let key = try #require(try await browser.get(link).hidden("_key"))
            let server = try await TestDatabaseServer.shared.serverURL()
            let name = DatabaseBootstrap.quoteIdentifier(harness.url.database)

            try await Self.takeAway(harness)
            // The README promises the 503 page once a connection cannot be had within 2 s: a
            // lease waits 1.5 s, the watchdog wakes every 0.25 s and its probe finds the database
            // refusing at once (1.58–1.64 s over five runs of this test alone). When the whole
            // suite starts at once on two cores the same path took 4.9–7.5 s, so the suite holds
            // the fastest of up to three tries to 8 s and each to 15 s: that still fails a request
            // that waits out the busy pool's 30 s.
            let promised = Duration.seconds(8)
            var fastest = Duration.seconds(3600)
            var start = ContinuousClock.now
            var refused = try await browser.post(link, form: try memberAnswers(option: "3") + [("_key", key)])
            for attempt in 1...3 {
                if attempt > 1 {
                    start = ContinuousClock.now
                    refused = try await browser.post(link, form: try memberAnswers(option: "3") + [("_key", key)])
                }
                let took = ContinuousClock.now - start
                #expect(took < .seconds(15), "try \(attempt): the form came back after \(took)")
                fastest = min(fastest, took)
                if fastest < promised { break }
            }
            #expect(fastest < promised, "the form came back after \(fastest) at best")
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "60")
            #expect(refused.text.contains("这份答卷尚未提交"))
            #expect(refused.text.contains("value=\"3\" checked"))
            #expect(refused.text.contains("学习与业务结合得好"))
            #expect(refused.hidden("_key") == key)

            start = ContinuousClock.now
            var stranger = Browser(client)
            let page = try await stranger.get("/admin/rounds")
            let pageAfter = ContinuousClock.now - start
            #expect(pageAfter < promised, "the page came after \(pageAfter)")
            #expect(page.status == .serviceUnavailable || page.status == .seeOther)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .serviceUnavailable)

            // Back again: the same answers, sent again with the same key, are stored once.
            try await TestDatabaseServer.execute("ALTER DATABASE \(name) ALLOW_CONNECTIONS true", on: server, logger: Self.quiet)
            let deadline = ContinuousClock.now + .seconds(20)
            var stored = false
            while !stored && ContinuousClock.now < deadline {
                let again = try await browser.post(link, form: try memberAnswers(option: "3") + [("_key", key)])
                stored = again.status == .ok
                if !stored { try await Task.sleep(for: .milliseconds(500)) }
            }
            #expect(stored)
            _ = try await browser.post(link, form: try memberAnswers(option: "3") + [("_key", key)])
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 1)
        }
    }

    @Test func aDatabaseTurnedReadOnlyGivesTheFailFastPageAndItsConnectionsAreDroppedUntilAWritableOneComes() async throws {
        try await TestApp.run { client, harness in
            let (round, branch) = try await harness.openRound()
            let link = try #require(try await harness.memberLinks(round: round, branch: branch).first)
            var browser = Browser(client)
            let key = try #require(try await browser.get(link).hidden("_key"))
            let server = try await TestDatabaseServer.shared.serverURL()
            let name = DatabaseBootstrap.quoteIdentifier(harness.url.database)

            // As after a failover whose address still leads to the demoted primary: the sessions
            // end, and every new one reaches a server that answers reads and refuses writes
            // (SQLSTATE 25006).
            try await Self.alter(harness, "SET default_transaction_read_only = on")
            var refused = try await browser.post(link, form: try memberAnswers(option: "3") + [("_key", key)])
            // The first use of a pooled connection whose session was ended fails as unreachable;
            // the next reaches the read-only server. Either way: the form again, never a 500.
            #expect(refused.status == .serviceUnavailable)
            refused = try await browser.post(link, form: try memberAnswers(option: "3") + [("_key", key)])
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.text.contains("这份答卷尚未提交"))
            #expect(refused.text.contains("value=\"3\" checked"))
            #expect(refused.hidden("_key") == key)
            let notReady = try await client.execute(uri: "/readyz", method: .get)
            #expect(notReady.status == .serviceUnavailable && String(buffer: notReady.body).contains("read-only"))
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 0)

            // Writable again, for new sessions only: the pool's read-only sessions would refuse
            // every write until its idle timeout, a minute, unless dropped when refused.
            try await TestDatabaseServer.execute("ALTER DATABASE \(name) RESET default_transaction_read_only", on: server, logger: Self.quiet)
            let deadline = ContinuousClock.now + .seconds(20)
            var stored = false
            var tries = 0
            while !stored && ContinuousClock.now < deadline {
                let again = try await browser.post(link, form: try memberAnswers(option: "3") + [("_key", key)])
                #expect(again.status == .ok || again.status == .serviceUnavailable)
                stored = again.status == .ok
                tries += 1
                if !stored { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(stored, "no write went through in 20 s after \(tries) tries")
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 1)
            var ready = false
            while !ready && ContinuousClock.now < deadline + .seconds(5) {
                ready = try await client.execute(uri: "/readyz", method: .get).status == .ok
                if !ready { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(ready)
        }
    }

    @Test func aKilledEmbeddedDatabaseIsRestartedUnderLoadAndNothingAcknowledgedIsLost() async throws {
        let directory = NSTemporaryDirectory() + "kaoping-kill-\(UUID().uuidString.prefix(8))"
        _ = DataDirectoryLock.makeDirectories(directory)
        chmod(directory, 0o755)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cluster = EmbeddedPostgres(dataDirectory: directory)
        let running = try await cluster.start(logger: Self.quiet)
        defer { cluster.stopNow() }
        try await DatabaseBootstrap.createDatabaseIfMissing(running.url, logger: Self.quiet)

        try await TestApp.run(
            database: running.url,
            configureEnvironment: { environment in
                environment.embeddedCluster = cluster
                environment.embeddedClusterStartedHere = true
            }
        ) { client, harness in
            let (round, branch) = try await harness.openRound()
            let links = try await harness.memberLinks(round: round, branch: branch, count: 160)
            var keys: [(link: String, key: String, cookies: [String: String])] = []
            for link in links {
                var browser = Browser(client)
                keys.append((link, try #require(try await browser.get(link).hidden("_key")), browser.cookies))
            }
            let answers = try memberAnswers()
            let killed = ContinuousClock.now + .milliseconds(400)

            // Eight respondents at a time; the postmaster dies while they send.
            let results = try await withThrowingTaskGroup(of: (link: String, status: HTTPResponse.Status, took: Duration).self) { group in
                var next = 0
                func send(_ item: (link: String, key: String, cookies: [String: String])) {
                    group.addTask {
                        try await client.onOwnConnection { connection in
                            var browser = Browser(connection)
                            browser.cookies = item.cookies
                            let start = ContinuousClock.now
                            let status = try await browser.post(item.link, form: answers + [("_key", item.key)]).status
                            return (item.link, status, ContinuousClock.now - start)
                        }
                    }
                }
                for _ in 0..<8 {
                    send(keys[next])
                    next += 1
                }
                var killDone = false
                var results: [(link: String, status: HTTPResponse.Status, took: Duration)] = []
                while let result = try await group.next() {
                    results.append(result)
                    if !killDone && ContinuousClock.now >= killed {
                        killDone = true
                        let pidText = try String(contentsOfFile: cluster.clusterDirectory + "/postmaster.pid", encoding: .utf8)
                        let pid = try #require(pid_t(pidText.split(separator: "\n")[0]))
                        kill(pid, SIGKILL)
                    }
                    if next < keys.count {
                        send(keys[next])
                        next += 1
                        // Slow enough that the load spans the outage.
                        try await Task.sleep(for: .milliseconds(20))
                    }
                }
                return results
            }
            let acknowledged = Set(results.filter { $0.status == .ok }.map(\.link))
            #expect(results.allSatisfy { $0.status == .ok || $0.status == .serviceUnavailable }, "\(results.map(\.status.code))")
            // Answers sent while the database was away: each either waited for its return (a
            // restart within the lease's patience) or was told, quickly, to send again.
            #expect(results.count == keys.count)
            let slowest = results.map(\.took).max() ?? .zero
            // 1.5 s for a lease and 1.5 s to find the database unreachable; on two cores shared
            // with the whole test suite a request has been seen to take 5.5 s. Before the
            // watchdog such a request waited 60 s or for ever.
            #expect(slowest < .seconds(8), "a request waited \(slowest)")

            // Back by itself within 30 s, the target for any database failure (seen
            // within 10 s; on two cores shared with the whole suite once past 20 s). A miss says
            // where the restart stood: a readiness answer, the restarts counted, the server's log.
            var ready = false
            var lastAnswer = ""
            while !ready && ContinuousClock.now < killed + .seconds(30) {
                let answer = try await client.execute(uri: "/readyz", method: .get)
                ready = answer.status == .ok
                lastAnswer = String(buffer: answer.body)
                if !ready { try await Task.sleep(for: .milliseconds(200)) }
            }
            if !ready {
                let restarts = try await harness.metrics().text.split(separator: "\n").filter {
                    $0.hasPrefix("kaoping_embedded_postgres_restarts_total")
                }
                let log = (try? String(contentsOfFile: cluster.serverLogFile, encoding: .utf8)) ?? ""
                let logEnd = log.split(separator: "\n").suffix(15).joined(separator: "\n")
                let alive = cluster.postmasterIsAlive()
                Issue.record("not ready again within 30 s of the kill: readyz \(lastAnswer), \(restarts), postmaster alive \(alive), log:\n\(logEnd)")
            }
            let metrics = try await harness.metrics().text
            #expect(metrics.contains("kaoping_embedded_postgres_restarts_total 1"))

            // Every acknowledged answer is there: one ballot per used invitation, no more. (A
            // pooled connection whose server process died with the postmaster fails once when
            // next used, as it would for a page: asked again, on a fresh connection.)
            func count(_ sql: String) async throws -> Int {
                do {
                    return try await harness.count(sql)
                } catch  where DatabaseFailure.isUnavailable(error) {
                    return try await harness.count(sql)
                }
            }
            let stored = try await count("SELECT (SELECT count(*) FROM ballot_box)::int + (SELECT count(*) FROM responses)::int")
            #expect(stored == acknowledged.count, "\(stored) stored, \(acknowledged.count) acknowledged")
            #expect(try await count("SELECT count(*)::int FROM invitations WHERE used") == acknowledged.count)
        }
    }

    @Test func anObjectionIsEitherFiledAndAcknowledgedOrGivenBackToSendAgain() async throws {
        try await TestApp.run { client, harness in
            let id = try await PublicityTests.closedRound(harness)
            _ = try await harness.services.publicity.publicise(id, shows: .top, actor: .commandLine, logger: Self.quiet)
            let page = "/g/\(try await PublicityTests.key(harness, id))"
            var phone = Browser(client)
            let formKey = try #require(try await phone.get(page).hidden("_key"))
            let body = "第二党支部的群众评价里有同一人重复提交的答卷"
            let form = PublicityTests.objection("b02", body, key: formKey, name: "李某")

            // The database goes away while the objection is filed: the page comes back with what
            // was typed and the same key, saying that nothing was filed.
            let server = try await TestDatabaseServer.shared.serverURL()
            let name = DatabaseBootstrap.quoteIdentifier(harness.url.database)
            try await Self.takeAway(harness)
            // The page itself is served from the copy in memory once its version cannot be checked.
            try await Task.sleep(for: .seconds(3.2))
            let stillShown = try await PublicityTests.fresh(client).get(page)
            #expect(stillShown.status == .ok && stillShown.text.contains("name=\"body\""))
            let refused = try await phone.post(page, form: form)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "60")
            #expect(refused.text.contains("这件异议尚未提交"))
            #expect(refused.text.contains(body) && refused.text.contains("value=\"李某\""))
            #expect(refused.text.contains("<option value=\"b02\" selected>"))
            #expect(refused.hidden("_key") == formKey)
            try await TestDatabaseServer.execute("ALTER DATABASE \(name) ALLOW_CONNECTIONS true", on: server, logger: Self.quiet)
            // A pooled connection cut above fails once when next used, as it would for a page.
            for _ in 0..<40 {
                do {
                    _ = try await harness.count("SELECT 1")
                    break
                } catch  where DatabaseFailure.isUnavailable(error) {
                    try await Task.sleep(for: .milliseconds(250))
                }
            }

            // The database fails in the middle of the filing, inside its transaction (held there
            // by a trigger until its connection is cut): nothing half stored, the form given back.
            try await harness.database.query(
                """
                CREATE FUNCTION held_filing() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(60); RETURN NEW; END $$
                """
            )
            try await harness.database.query(
                "CREATE TRIGGER held BEFORE INSERT ON objections FOR EACH ROW EXECUTE FUNCTION held_filing()"
            )
            let cookies = phone.cookies
            async let cut = client.onOwnConnection { connection in
                var browser = Browser(connection)
                browser.cookies = cookies
                return try await browser.post(page, form: form)
            }
            var held = false
            for _ in 0..<100 where !held {
                try await Task.sleep(for: .milliseconds(100))
                held = try await harness.count("SELECT count(*)::int FROM pg_stat_activity WHERE wait_event = 'PgSleep'") == 1
            }
            #expect(held)
            try await TestDatabaseServer.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(harness.url.database)' AND wait_event = 'PgSleep'",
                on: server,
                logger: Self.quiet
            )
            let midway = try await cut
            #expect(midway.status == .serviceUnavailable)
            #expect(midway.text.contains("这件异议尚未提交") && midway.text.contains(body))
            #expect(try await harness.count("SELECT count(*)::int FROM objections") == 0)
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'objection.filed'") == 0)
            try await harness.database.query("DROP TRIGGER held ON objections")

            // Sent again once the database is back: filed once, and every send after that leads
            // to the same receipt's link.
            let deadline = ContinuousClock.now + .seconds(20)
            var filed: Reply?
            while filed == nil && ContinuousClock.now < deadline {
                let again = try await phone.post(page, form: form)
                if again.status == .seeOther { filed = again } else { try await Task.sleep(for: .milliseconds(500)) }
            }
            let link = try #require(filed?.location)
            #expect(link.hasPrefix("/o/"))
            #expect(try await phone.post(page, form: form).location == link)
            #expect(try await harness.count("SELECT count(*)::int FROM objections WHERE body = '\(body)'") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'objection.filed'") == 1)
            #expect(try await phone.get(link).text.contains(body))
        }
    }

    @Test func startUpSaysInOneLineWhatIsWrong() async throws {
        // An address where nothing listens.
        let port = try FreePort.find()
        let url = try DatabaseURL(parsing: "postgres://kaoping:secret@127.0.0.1:\(port)/kaoping")
        let start = ContinuousClock.now
        do {
            try await DatabaseBootstrap.checkReachable(url, logger: Self.quiet)
            Issue.record("an unreachable database was accepted")
        } catch {
            #expect(ContinuousClock.now - start < .seconds(6))
            #expect(
                "\(error)"
                    == "cannot connect to the database kaoping at 127.0.0.1:\(port) as kaoping: connection refused (is PostgreSQL running there, and listening on that address and port?)"
            )
        }
        // A data directory that cannot be made.
        do {
            try DataDirectoryLock.acquire(dataDirectory: "/etc/hostname/kaoping")
            Issue.record("a data directory under a file was accepted")
        } catch {
            #expect(error.description == "cannot use the data directory /etc/hostname/kaoping: a part of the path is a file, not a directory")
        }
        // A second server on a data directory in use.
        let directory = NSTemporaryDirectory() + "kaoping-lock-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try DataDirectoryLock.acquire(dataDirectory: directory)
        do {
            try DataDirectoryLock.acquire(dataDirectory: directory)
            Issue.record("a second server took a data directory in use")
        } catch {
            #expect(error.description.hasPrefix("another kaoping serve is already running on the data directory"))
        }
    }
}
