import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing

@testable import KaopingServer

/// The server's log at its most talkative level, through a round's whole life on the
/// respondents' side: what it may say about the secret paths, and what it never says
/// (docs/design.md, "Secrets in logs").
@Suite("What the log keeps at debug level", .timeLimit(.minutes(2)))
struct PinnedLogTests {
    /// Runs `test` against a live server whose every logger, the database pool's included,
    /// writes into `log` at debug level.
    static func run(
        log: CapturedLog,
        _ test: @escaping @Sendable (any TestClientProtocol, TestHarness) async throws -> Void
    ) async throws {
        let url = try await TestDatabaseServer.shared.makeMigratedDatabase()
        let logger = log.logger(level: .debug)
        let configuration = TestApp.configuration(for: url)
        let registry = PrometheusCollectorRegistry()
        let database = Database(url: url, poolSize: 4, registry: registry, logger: logger)
        var environment = ApplicationEnvironment(
            configuration: configuration,
            database: database,
            registry: registry,
            logger: logger,
            passwordHasher: TestApp.hasher
        )
        environment.invitationSecret = TestApp.invitationSecret
        let harness = try TestHarness(database: database, url: url, configuration: configuration)
        do {
            let app = try await buildApplication(environment)
            try await app.test(.live) { client in try await test(client, harness) }
        } catch {
            await TestDatabaseServer.shared.drop(url)
            throw error
        }
        await TestDatabaseServer.shared.drop(url)
    }

    @Test func aBallotAndAVisitCodeLeaveNoSecretOrAnswerInADebugLog() async throws {
        let log = CapturedLog()
        try await Self.run(log: log) { client, harness in
            let password = "an administrator's password 7Qx"
            try await harness.createUser("admin", password: password)
            let (round, tokens) = try await harness.roundWithInvitations(members: 3)
            let path = "/admin/rounds/\(round.uuidString.lowercased())"
            var admin = Browser(client)
            #expect(try await admin.post("/admin/login", form: [("username", "admin"), ("password", password)]).status == .seeOther)
            let publicCode = try await harness.database.query("SELECT public_code FROM round_branches WHERE round_id = \(round)").first!.decode(
                String.self
            )
            // The window of b01 takes one-time codes.
            #expect(
                try await admin.post(path + "/public-access", form: [("access", "codes"), ("branches", "b01")]).location == path + "?accessSet=1"
            )
            #expect(try await admin.post(path + "/visit-codes", form: [("branches", "b01"), ("count", "2")]).location == path + "?visitCodes=2")
            let codes = try await VisitCodeRepository(database: harness.database, tokens: InvitationTokens(secret: TestApp.invitationSecret))
                .codes(roundID: round, branchCode: "b01", batch: 1).map(\.code)
            #expect(codes.count == 2)
            let (_, apiToken) = try await harness.issueToken("人事系统")

            // Words nobody else writes: the search for them cannot hit by chance.
            let memberComment = "支部把调研成果用于窗口改进-member-\(UUID().uuidString.prefix(8))"
            let refusedComment = "没有评分只写意见-refused-\(UUID().uuidString.prefix(8))"
            let doubledComment = "重复的意见字段-doubled-\(UUID().uuidString.prefix(8))"
            let visitorComment = "窗口办事一次办好-visitor-\(UUID().uuidString.prefix(8))"

            // A member answers through their link: once left incomplete (the form comes back),
            // once malformed (a field twice), then in full.
            var member = Browser(client)
            let form = try await member.get("/s/\(tokens[0])")
            #expect(form.status == .ok)
            let memberKey = try #require(form.hidden("_key"))
            let incomplete = try await member.post("/s/\(tokens[0])", form: [("q.works_well", refusedComment), ("_key", memberKey)])
            #expect(incomplete.status == .unprocessableContent && incomplete.text.contains(refusedComment))
            let doubled = try await member.post(
                "/s/\(tokens[0])",
                form: try memberAnswers(comment: doubledComment) + [("q.works_well", doubledComment), ("_key", memberKey)]
            )
            #expect(doubled.status == .badRequest)
            #expect(try await member.post("/s/\(tokens[0])", form: try memberAnswers(comment: memberComment) + [("_key", memberKey)]).status == .ok)
            #expect(try await member.get("/s/\(tokens[0])").status == .gone)

            // A person served at the window answers with their code; the open link says codes only.
            var visitor = Browser(client)
            let visitForm = try await visitor.get("/v/\(codes[0])")
            #expect(visitForm.status == .ok)
            let visitKey = try #require(visitForm.hidden("_key"))
            let visited = try await visitor.post("/v/\(codes[0])", form: publicAnswers() + [("q.comment", visitorComment), ("_key", visitKey)])
            #expect(visited.status == .ok)
            #expect(try await visitor.get("/p/\(publicCode)").status == .forbidden)

            // A system reads the rounds with its API token; the administrator closes the round,
            // which moves both ballots into the responses.
            let api = try await client.execute(uri: "/api/v1/rounds", method: .get, headers: [.authorization: "Bearer \(apiToken)"], body: nil)
            #expect(api.status == .ok)
            #expect(try await admin.post(path + "/close", form: [("confirmed", "yes")]).status == .seeOther)
            #expect(try await harness.count("SELECT count(*)::int FROM answers WHERE text_value IN ('\(memberComment)', '\(visitorComment)')") == 2)

            let text = log.text
            let lines = text.split(separator: "\n")
            // The log is the debug one, and it did record these requests, by the kind of page.
            #expect(lines.contains { $0.hasPrefix("debug ") })
            #expect(lines.contains { $0.contains("method=POST") && $0.contains("path=/s/… ") && $0.contains("status=200") })
            #expect(lines.contains { $0.contains("method=GET") && $0.contains("path=/s/… ") && $0.contains("status=410") })
            #expect(lines.contains { $0.contains("method=POST") && $0.contains("path=/v/… ") && $0.contains("status=200") })
            #expect(lines.contains { $0.contains("method=GET") && $0.contains("path=/p/… ") && $0.contains("status=403") })

            // Nothing that opens a form, signs in or stands for a person's answers.
            var secrets = [
                "invitation token": tokens[0],
                "visit code": codes[0],
                "public code": publicCode,
                "API token": apiToken,
                "password": password,
                "member's submission key": memberKey,
                "visitor's submission key": visitKey,
                "member's answer": memberComment,
                "refused answer": refusedComment,
                "doubled answer": doubledComment,
                "visitor's answer": visitorComment,
            ]
            secrets["CSRF token"] = admin.csrfToken
            secrets["session cookie"] = admin.cookies[Browser.cookieNames.session]
            #expect(secrets.count == 13)
            for (name, secret) in secrets.sorted(by: { $0.key < $1.key }) {
                let logged = text.contains(secret)
                #expect(logged == false, "the log holds the \(name)")
            }
        }
    }
}
