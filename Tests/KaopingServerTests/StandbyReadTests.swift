import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import Prometheus
import Testing

@testable import KaopingServer

/// `--read-database-url`: the results pages, downloads and read API on a real streaming
/// standby (`pg_basebackup -R` of a primary on loopback), the primary left alone by them, and
/// what the pages say when the standby lags or is gone.
@Suite("Results read from a streaming standby", .timeLimit(.minutes(4)))
struct StandbyReadTests {
    /// A server on a new database of the standby tests' primary, reading results from `standby`.
    static func run(
        standby: StreamingStandby,
        log: CapturedLog? = nil,
        _ test: @escaping @Sendable (any TestClientProtocol, TestHarness, DatabaseURL) async throws -> Void
    ) async throws {
        let url = try await StandbyTestPrimary.shared.makeDatabase()
        let standbyURL = standby.url(of: url)
        let reads = NIOLockedValueBox<Database?>(nil)
        try await TestApp.run(
            database: url,
            configureEnvironment: { environment in
                let database = Database.standby(
                    url: standbyURL,
                    poolSize: 4,
                    primary: environment.database,
                    registry: PrometheusCollectorRegistry(),
                    logger: log?.logger(level: .notice) ?? TestApp.logger
                )
                reads.withLockedValue { $0 = database }
                environment.readDatabase = database
            }
        ) { client, harness in
            // Every connection to the standby opened before the test, as a running server's
            // would be: on a loaded two-core machine a first connection (and the watchdog's
            // probe beside it) can take longer than a lease may wait, which the pool takes for
            // a standby that is away. That is not what these tests are about.
            if let database = reads.withLockedValue({ $0 }) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<database.poolSize { group.addTask { try await database.query("SELECT pg_sleep(0.2)") } }
                    try await group.waitForAll()
                }
                database.fallback?.standbyAnswered()
            }
            try await test(client, harness, url)
        }
    }

    static func signIn(_ client: any TestClientProtocol, _ harness: TestHarness) async throws -> Browser {
        try await harness.createUser("admin", password: "read from the standby")
        var admin = Browser(client)
        _ = try await admin.post("/admin/login", form: [("username", "admin"), ("password", "read from the standby")])
        return admin
    }

    /// The statements a server ran in `database`, as its statement statistics list them.
    static func statements(in database: DatabaseURL) async throws -> [String] {
        try await DatabaseBootstrap.withMaintenanceConnection(database, logger: TestDatabaseServer.shared.logger, database: database.database) {
            connection in
            var texts: [String] = []
            for try await text in try await connection.query(
                "SELECT s.query FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database()",
                logger: TestDatabaseServer.shared.logger
            ).decode(String.self) { texts.append(text) }
            return texts
        }
    }

    /// What only reading results runs: the snapshot, the integrated sheet, the records, the
    /// answers, the sheets and the business results.
    static func readsResults(_ statement: String) -> Bool {
        let text = statement.lowercased()
        return [
            "result_snapshots", "integrated_sheets", "branch_years", "join answers", "org_sheet_entries", "performance_results",
            "appraisal_proposals",
        ].contains {
            text.contains($0)
        } || (text.hasPrefix("select") && text.contains("from responses"))
    }

    /// A group's score over five answers, as the ranking shows it ("82.50 (5)").
    nonisolated(unsafe) static let fiveAnswers = #/\d+\.\d\d \(5\)/#

    @Test func aClosedRoundsPagesDownloadsAndAPIAreReadFromTheStandbyAndNoneFromThePrimary() async throws {
        try await StreamingStandby.with { standby in
            try await Self.run(standby: standby) { client, harness, url in
                var quiet = Logger(label: "test")
                quiet.logLevel = .critical
                let (round, rounds) = try await harness.workedExampleRound()
                try await harness.loadWorkedExamplePerformance()
                #expect(try await rounds.close(round, actor: .commandLine, logger: quiet))
                var admin = try await Self.signIn(client, harness)
                let (_, token) = try await harness.issueToken("committee")
                try await standby.caughtUp()
                // From here on, what reaches the primary in this database is counted afresh.
                try await DatabaseBootstrap.withMaintenanceConnection(url, logger: quiet, database: url.database) { connection in
                    try await connection.execute(
                        "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)",
                        logger: quiet
                    )
                }
                let id = round.lowercased
                let pages = [
                    SiteURL.results(id), SiteURL.diagnostics(id), SiteURL.integration(id), SiteURL.integratedSheet(id),
                    SiteURL.watchList(id), SiteURL.branchReport(id, branchCode: "b01"), SiteURL.branchHistory("b01"),
                    SiteURL.resultsXLSX(id), SiteURL.resultsCSV(id), SiteURL.responsesCSV(id), SiteURL.sheetsCSV(id),
                    SiteURL.integratedCSV(id), SiteURL.integrationCSV(id),
                ]
                var texts: [String: String] = [:]
                for page in pages {
                    let reply = try await admin.get(page.path)
                    #expect(reply.status == .ok, "\(page.path)")
                    texts[page.path] = reply.text
                }
                let ranking = try #require(texts[SiteURL.results(id).path])
                // The worked example's figures, from the snapshot the close stored on the primary.
                #expect(ranking.contains("<strong>91.00</strong>") && ranking.contains("<strong>93.57</strong>"))
                // A closed round's results are the same on either server: no "as of" to tell.
                #expect(!ranking.contains("临时结果读自备库"))
                let answers = try #require(texts[SiteURL.responsesCSV(id).path])
                #expect(answers.components(separatedBy: "\r\n").filter { $0.contains(",b01,") && $0.contains(",党员评价,") }.count > 0)
                for path in [
                    SiteURL.apiRoundResults(id), SiteURL.apiRoundIntegration(id), SiteURL.apiRoundDiagnostic(id), SiteURL.apiBranchHistory("b01"),
                ] {
                    let reply = try await client.execute(uri: path.path, method: .get, headers: [.authorization: "Bearer \(token)"])
                    #expect(reply.status == .ok, "\(path.path)")
                }

                let onPrimary = try await Self.statements(in: url).filter(Self.readsResults)
                #expect(onPrimary.isEmpty, "read from the primary: \(onPrimary)")
                // The standby did the reading: the same statistics there list the snapshot's reads.
                let onStandby = try await Self.statements(in: standby.url(of: url)).filter(Self.readsResults)
                #expect(onStandby.contains { $0.contains("result_snapshots") })
                #expect(onStandby.contains { $0.lowercased().contains("join answers") })  // the answers download
            }
        }
    }

    @Test func anOpenRoundReadFromAStandbyThatStoppedReplayingSaysHowFarItHasGotAndCountsOnlyThat() async throws {
        try await StreamingStandby.with { standby in
            try await Self.run(standby: standby) { client, harness, url in
                let (round, _) = try await harness.workedExampleRound()
                var admin = try await Self.signIn(client, harness)
                try await standby.caughtUp()
                try await standby.pauseReplay()
                // Three of b01's eight member answers are taken out on the primary (as an
                // exclusion would); the paused standby still has all eight.
                try await harness.database.query(
                    """
                    DELETE FROM responses WHERE id IN (
                      SELECT r.id FROM responses r JOIN branches b ON b.id = r.branch_id
                      WHERE r.round_id = \(round) AND b.code = 'b01' AND r.rater_group = 'members' ORDER BY r.score LIMIT 3)
                    """
                )
                #expect(
                    try await harness.count(
                        "SELECT count(*)::int FROM responses r JOIN branches b ON b.id = r.branch_id WHERE b.code = 'b01' AND r.rater_group = 'members'"
                    ) == 5
                )
                let replayed = try #require(try await standby.value("SELECT pg_last_xact_replay_timestamp()", as: Date.self))

                let ranking = try await admin.get(SiteURL.results(round.lowercased).path)
                #expect(ranking.status == .ok)
                #expect(ranking.text.contains("80.00 (8)"))
                #expect(ranking.text.firstMatch(of: Self.fiveAnswers) == nil)
                #expect(ranking.text.contains("临时结果读自备库，数据截至 \(ChinaTime.formatWithSeconds(replayed))"))
                #expect(ranking.text.contains("备库已暂停同步"))
                let report = try await admin.get(SiteURL.branchReport(round.lowercased, branchCode: "b01").path)
                #expect(report.text.contains("备库已暂停同步"))
                // The answers download streams from the standby too: eight of b01's members.
                let answers = try await admin.get(SiteURL.responsesCSV(round.lowercased).path).text
                let memberAnswers = Set(
                    answers.components(separatedBy: "\r\n").filter { $0.contains(",b01,") && $0.contains(",党员评价,") }.map {
                        $0.split(separator: ",").first.map(String.init) ?? ""
                    }
                )
                #expect(memberAnswers.count == 8)
            }
        }
    }

    @Test func aStandbyThatIsGoneLeavesTheReadsToThePrimaryAndSaysSoOnce() async throws {
        let log = CapturedLog()
        try await StreamingStandby.with { standby in
            try await Self.run(standby: standby, log: log) { client, harness, _ in
                let (round, _) = try await harness.workedExampleRound()
                var admin = try await Self.signIn(client, harness)
                try await standby.caughtUp()
                let before = try await admin.get(SiteURL.results(round.lowercased).path)
                #expect(before.text.contains("80.00 (8)") && before.text.contains("临时结果读自备库"))
                standby.remove()
                try await harness.database.query(
                    """
                    DELETE FROM responses WHERE id IN (
                      SELECT r.id FROM responses r JOIN branches b ON b.id = r.branch_id
                      WHERE r.round_id = \(round) AND b.code = 'b01' AND r.rater_group = 'members' ORDER BY r.score LIMIT 3)
                    """
                )
                for _ in 0..<3 {
                    let ranking = try await admin.get(SiteURL.results(round.lowercased).path)
                    #expect(ranking.status == .ok)
                    // From the primary now: five answers left, and no standby to speak of.
                    #expect(ranking.text.firstMatch(of: Self.fiveAnswers) != nil && !ranking.text.contains("80.00 (8)"))
                    #expect(!ranking.text.contains("临时结果读自备库"))
                }
                let answers = try await admin.get(SiteURL.responsesCSV(round.lowercased).path)
                #expect(answers.status == .ok)
                let said = log.text.components(separatedBy: "\n").filter { $0.contains("the standby does not answer") }
                #expect(said.count == 1, "\(said)")
            }
        }
    }
}
