import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import KaopingServer

/// One-time codes for people served at a window, the way the government's 好差评 ratings work.
@Suite("Visit codes", .timeLimit(.minutes(2)))
struct VisitCodeTests {
    func round(_ harness: TestHarness) async throws -> (round: UUID, publicCode: String) {
        try await harness.database.query("INSERT INTO branches (code, name) VALUES ('b01', '服务窗口党支部'), ('b02', '办公室党支部')")
        let catalog = try FormCatalog(directory: TestDatabaseServer.repositoryRoot + "/forms")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let rounds = RoundRepository(
            database: harness.database,
            forms: catalog,
            frozenForms: FormRepository(database: harness.database),
            seal: TestApp.ballotSeal
        )
        let id = try await rounds.create(RoundSpec(title: "窗口测评", year: 2026, closesAt: .now + 7 * 86400), actor: .commandLine, logger: logger)
        try await rounds.open(id, actor: .commandLine, logger: logger)
        let code = try await harness.database.query(
            "SELECT rb.public_code FROM round_branches rb JOIN branches b ON b.id = rb.branch_id WHERE rb.round_id = \(id) AND b.code = 'b01'"
        ).first!.decode(String.self)
        return (id, code)
    }

    @Test func aBranchTakesCodesOnlyAndEachCodeCountsOnce() async throws {
        // One answer an hour per address: the codes, not the address, are the limit here.
        try await TestApp.run(configure: { $0.publicAnswersPerHour = 1 }) { client, harness in
            try await harness.createUser("admin", password: "visit codes admin")
            let (round, publicCode) = try await round(harness)
            let path = "/admin/rounds/\(round.uuidString.lowercased())"
            var admin = Browser(client)
            _ = try await admin.post("/admin/login", form: [("username", "admin"), ("password", "visit codes admin")])

            // The window of b01 hands out codes; its open link is closed to the public.
            let unknown = try await admin.post(path + "/public-access", form: [("access", "codes"), ("branches", "b01, b99")])
            #expect(try await admin.get(try #require(unknown.location)).text.contains("本轮次没有编码为“b99”的参评支部"))
            #expect(
                try await admin.post(path + "/public-access", form: [("access", "codes"), ("branches", "b01")]).location == path + "?accessSet=1"
            )
            var passer = Browser(client)
            let closed = try await passer.get("/p/\(publicCode)")
            #expect(closed.status == .forbidden)
            #expect(closed.text.contains("本窗口使用一次性评价码"))

            let made = try await admin.post(path + "/visit-codes", form: [("branches", "b01"), ("count", "3")])
            #expect(made.location == path + "?visitCodes=3")
            #expect(try await admin.post(path + "/visit-codes", form: [("branches", "b01"), ("count", "0")]).location?.contains("problem=") == true)
            let page = try await admin.get(path)
            #expect(page.text.contains("<td>b01</td><td>服务窗口党支部</td><td class=\"num\">1</td><td class=\"num\">3</td><td class=\"num\">0</td>"))
            let slips = try await admin.get(path + "/visit-codes?branch=b01&batch=1")
            #expect(slips.status == .ok)
            #expect(slips.text.components(separatedBy: "/v/").count == 4)
            #expect(slips.text.contains("<svg"))
            // Only hashes are stored; the codes come from the secret.
            let codes = try await VisitCodeRepository(database: harness.database, tokens: InvitationTokens(secret: TestApp.invitationSecret))
                .codes(roundID: round, branchCode: "b01", batch: 1).map(\.code)
            #expect(codes.count == 3)
            for code in codes {
                #expect(
                    try await harness.count("SELECT count(*)::int FROM visit_codes WHERE position(convert_to('\(code)', 'UTF8') in code_hash) > 0")
                        == 0
                )
            }

            // Two people from one address, each with a code: both count, the address limit aside.
            for code in codes.prefix(2) {
                var visitor = Browser(client)
                let form = try await visitor.get("/v/\(code)")
                #expect(form.status == .ok)
                #expect(form.text.contains("党支部工作群众满意度测评"))
                let key = try #require(form.hidden("_key"))
                #expect(try await visitor.post("/v/\(code)", form: publicAnswers() + [("_key", key)]).status == .ok)
                // Sent again (a double click): the same thank-you, nothing more stored.
                #expect(try await visitor.post("/v/\(code)", form: publicAnswers() + [("_key", key)]).status == .ok)
            }
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box WHERE rater_group = 'public'") == 2)
            #expect(try await harness.count("SELECT count(*)::int FROM visit_codes WHERE used") == 2)

            // A used code says so; a made-up one says it is not valid.
            var late = Browser(client)
            let used = try await late.get("/v/\(codes[0])")
            #expect(used.status == .gone)
            #expect(used.text.contains("这个评价码已经使用过"))
            let madeUp = try await late.get("/v/AAAAAAAAAAAAAAAAAAAAAA")
            #expect(madeUp.status == .notFound)
            #expect(madeUp.text.contains("这个评价码无效"))
            #expect(try await admin.get(path).text.contains("<td class=\"num\">3</td><td class=\"num\">2</td>"))

            // Back to the open link only: the codes stop working and the poster works again.
            _ = try await admin.post(path + "/public-access", form: [("access", "link"), ("branches", "")])
            #expect(try await late.get("/v/\(codes[2])").status == .notFound)
            #expect(try await late.get("/p/\(publicCode)").status == .ok)
        }
    }
}
