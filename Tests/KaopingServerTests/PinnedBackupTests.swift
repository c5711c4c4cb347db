import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Synchronization
import Testing

@testable import KaopingServer

#if canImport(Glibc)
import Glibc
#endif

/// `kaoping backup` and `kaoping restore` with an office's year in the database: a submitted
/// score sheet, members' and the public's answers, accounts and API tokens all come back, into
/// a new embedded data directory as into an empty external database, and work there.
@Suite("Backup and restore, pinned", .timeLimit(.minutes(4)))
struct PinnedBackupTests {
    static let adminPassword = "the office's admin password"
    static let evaluatorPassword = "the evaluator's own password"
    static let memberComment = "备份之前写下的意见"
    static let roundTitle = "2026 年度备份考评"

    final class Captured: Sendable {
        let value = Mutex<(Saved, [String: [String]])?>(nil)
    }

    struct Saved: Sendable {
        let round: UUID
        let liveToken: String
        let revokedToken: String
    }

    /// What the tables hold, as text, for comparing two databases row by row.
    static func contents(_ database: Database) async throws -> [String: [String]] {
        let queries = [
            "sheets": """
            SELECT ROW(b.code, u.username, s.status, s.remark, e.item_key, e.points_lost, e.points_earned, e.passed, e.note)::text
            FROM org_sheets s JOIN branches b ON b.id = s.branch_id JOIN users u ON u.id = s.evaluator_id
            JOIN org_sheet_entries e ON e.sheet_id = s.id
            """,
            "answers": """
            SELECT ROW(r.rater_group, b.code, r.score, r.satisfied, r.submitted_on, r.dimension_scores, a.item_key, a.option_key,
                       a.number_value, a.text_value, a.points)::text
            FROM responses r JOIN branches b ON b.id = r.branch_id JOIN answers a ON a.response_id = r.id
            """,
            "accounts": "SELECT ROW(username, role, password_hash, active)::text FROM users",
            "tokens": "SELECT ROW(name, scope, encode(token_hash, 'hex'), revoked_at IS NULL)::text FROM api_tokens",
            "rounds": "SELECT ROW(id, title, status, config_hash)::text FROM rounds",
        ]
        var contents: [String: [String]] = [:]
        for (name, sql) in queries {
            var rows: [String] = []
            for result in try await database.query(PostgresQuery(unsafeSQL: sql)) {
                let row = try result.decode(String.self)
                rows.append(row)
            }
            contents[name] = rows.sorted()
        }
        return contents
    }

    /// The year's data, entered the way the office enters it: through the server's pages.
    static func enterAYear(_ client: any TestClientProtocol, _ harness: TestHarness) async throws -> Saved {
        try await harness.createUser("admin", password: adminPassword)
        try await harness.createUser("zhang", password: evaluatorPassword, role: .evaluator)
        try await harness.database.query("INSERT INTO branches (code, name) VALUES ('b01', '办公室党支部')")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let rounds = try harness.roundRepository()
        let round = try await rounds.create(RoundSpec(title: roundTitle, year: 2026, closesAt: .now + 7 * 86400), actor: .commandLine, logger: logger)
        try await rounds.open(round, actor: .commandLine, logger: logger)
        let branch = try await harness.database.query("SELECT id FROM branches WHERE code = 'b01'").first!.decode(UUID.self)

        var admin = Browser(client)
        #expect(try await admin.post("/admin/login", form: [("username", "admin"), ("password", adminPassword)]).location == "/admin")
        let roundPath = "/admin/rounds/\(round.uuidString.lowercased())"
        #expect(
            try await admin.post(roundPath + "/evaluators", form: [("username", "zhang"), ("branches", "b01")]).location == roundPath + "?assigned=1"
        )
        var zhang = Browser(client)
        _ = try await zhang.post("/admin/login", form: [("username", "zhang"), ("password", evaluatorPassword)])
        let sheet = fullSheet().map { $0.0 == "q.org_life" ? ($0.0, "3.5") : $0 } + [("_action", "submit")]
        #expect(try await zhang.post("/admin/sheets/\(round.uuidString.lowercased())/b01", form: sheet).location == "/admin/sheets?saved=submit")

        // Two members with different answers, and one person from the public.
        let links = try await harness.memberLinks(round: round, branch: branch, count: 2)
        for (link, option) in zip(links, ["4", "2"]) {
            var member = Browser(client)
            let key = try #require(try await member.get(link).hidden("_key"))
            let comment = option == "4" ? memberComment : "第二位党员的意见"
            #expect(try await member.post(link, form: try memberAnswers(option: option, comment: comment) + [("_key", key)]).status == .ok)
        }
        var visitor = Browser(client)
        let publicLink = try await harness.publicLink(round: round, branch: branch)
        let key = try #require(try await visitor.get(publicLink).hidden("_key"))
        #expect(try await visitor.post(publicLink, form: publicAnswers() + [("_key", key)]).status == .ok)
        // The server's own mixer may have taken some of them already.
        try await harness.mixBallots(round: round)
        #expect(try await harness.count("SELECT count(*)::int FROM responses") == 3)
        #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 0)

        let (_, live) = try await harness.issueToken("人事系统")
        let (revokedID, revoked) = try await harness.issueToken("旧系统", scope: .write)
        try await harness.database.query("UPDATE api_tokens SET revoked_at = now() WHERE id = \(revokedID)")
        return Saved(round: round, liveToken: live, revokedToken: revoked)
    }

    /// The restored database holds what was saved, and the server on it lets the people and
    /// the systems in.
    static func checkRestored(_ url: DatabaseURL, saved: Saved, expected: [String: [String]]) async throws {
        try await TestApp.run(database: url) { client, harness in
            let restored = try await Self.contents(harness.database)
            for (name, rows) in expected { #expect(restored[name] == rows, "\(name)") }

            // The values themselves, as they were entered.
            let lost = try await harness.database.query("SELECT points_lost FROM org_sheet_entries WHERE item_key = 'org_life'").first?.decode(
                Double.self
            )
            #expect(lost == 3.5)
            let award = try await harness.database.query("SELECT points_earned, note FROM org_sheet_entries WHERE item_key = 'awards'").first?
                .decode((Double, String).self)
            #expect(award?.0 == 1 && award?.1 == "获市级表彰")
            var memberScores: [Double] = []
            let scores = try await harness.database.query("SELECT score FROM responses WHERE rater_group = 'members' ORDER BY score")
            for result in scores {
                let score = try result.decode(Double.self)
                memberScores.append(score)
            }
            // 较差 is 55 points and 较好 85 on the member form (version 2's scale, 100/85/70/55/40).
            #expect(memberScores == [55, 85])
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM answers WHERE item_key = 'works_well' AND text_value = '\(memberComment)'"
                ) == 1
            )
            let publicRow = try await harness.database.query("SELECT score, satisfied FROM responses WHERE rater_group = 'public'")
            var publicAnswers: [String] = []
            for result in publicRow {
                let (score, satisfied) = try result.decode((Double, Bool?).self)

                publicAnswers.append("\(score) \(satisfied.map(String.init) ?? "-")")
            }
            #expect(publicAnswers == ["100.0 true"])

            // The accounts sign in with their passwords, and only with them.
            var admin = Browser(client)
            #expect(try await admin.post("/admin/login", form: [("username", "admin"), ("password", adminPassword)]).location == "/admin")
            #expect(try await admin.get("/admin/rounds").text.contains(roundTitle))
            var zhang = Browser(client)
            #expect(try await zhang.post("/admin/login", form: [("username", "zhang"), ("password", evaluatorPassword)]).location == "/admin")
            #expect(try await zhang.get("/admin/sheets").text.contains("办公室党支部"))
            var stranger = Browser(client)
            #expect(
                try await stranger.post("/admin/login", form: [("username", "admin"), ("password", evaluatorPassword)]).status
                    == .unprocessableContent
            )

            // The live token calls the API; the revoked one stays revoked.
            let rounds = try await client.execute(
                uri: "/api/v1/rounds",
                method: .get,
                headers: [.authorization: "Bearer \(saved.liveToken)"],
                body: nil
            )
            #expect(rounds.status == .ok)
            let body = try JSONSerialization.jsonObject(with: Data(buffer: rounds.body)) as? [String: Any]
            let listed = (body?["rounds"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(listed == [saved.round.uuidString.lowercased()])
            let refused = try await client.execute(
                uri: "/api/v1/rounds",
                method: .get,
                headers: [.authorization: "Bearer \(saved.revokedToken)"],
                body: nil
            )
            #expect(refused.status == .unauthorized)
        }
    }

    @Test func aBackupComesBackWhole() async throws {
        let directory = NSTemporaryDirectory() + "kaoping-backup-\(UUID().uuidString.prefix(8))"
        _ = DataDirectoryLock.makeDirectories(directory)
        // The embedded cluster runs as the postgres user, who must be able to enter it.
        chmod(directory, 0o755)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/kaoping.dump"

        let captured = Captured()
        try await TestApp.run { client, harness in
            let saved = try await Self.enterAYear(client, harness)
            let expected = try await Self.contents(harness.database)
            #expect(expected["sheets"]?.count ?? 0 >= 9)
            #expect(expected["answers"]?.isEmpty == false)
            #expect(expected["accounts"]?.count == 2 && expected["tokens"]?.count == 2)
            let program = CommandLineTests.Program(url: harness.url, directory: directory)
            #expect(try await program.run(["backup", "--out", file]).out.contains("wrote a backup of \(harness.url.database)"))
            captured.value.withLock { $0 = (saved, expected) }
        }
        let (saved, expected) = try #require(captured.value.withLock { $0 })

        // Into an empty database on another server (here: another database of the same one).
        let empty = try await TestDatabaseServer.shared.makeEmptyDatabase()
        do {
            let program = CommandLineTests.Program(url: empty, directory: directory)
            #expect(try await program.run(["restore", file]).out.contains("restored \(file) into \(empty.database)"))
            try await Self.checkRestored(empty, saved: saved, expected: expected)
        } catch {
            await TestDatabaseServer.shared.drop(empty)
            throw error
        }
        await TestDatabaseServer.shared.drop(empty)

        // Into a new data directory: the program creates the embedded cluster and fills it.
        let data = directory + "/data"
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KAOPING_") }
        environment["KAOPING_SECRET_FILE"] = directory + "/secret"
        let restore = try await ChildProgram.start(
            CommandLineTests.Program.binary,
            ["restore", file, "--data-dir", data, "--log-level", "error"],
            environment: environment,
            workingDirectory: directory,
            outputDirectory: directory
        )
        #expect(await restore.finished(within: 90))
        #expect(restore.status == 0, "\(restore.errors)")
        #expect(String(decoding: restore.output, as: UTF8.self).contains("restored \(file) into kaoping"))
        let cluster = EmbeddedPostgres(dataDirectory: data, serverSettings: ["fsync": "off"])
        #expect(await !cluster.isRunning(), "the restore left its database running")
        var logger = Logger(label: "kaoping.tests.backup")
        logger.logLevel = .critical
        let running = try await cluster.start(logger: logger)
        defer { cluster.stopNow() }
        #expect(running.url.database == "kaoping")
        try await Self.checkRestored(running.url, saved: saved, expected: expected)
        try await cluster.stop(logger: logger)
    }
}
