import Foundation
import HummingbirdTesting
import Logging
import Testing

@testable import KaopingServer

/// An office's mistakes in a round, put right: a draft edited or deleted, an opened round
/// cancelled out of every page people read results on, branches added late, dates checked.
@Suite("Correcting rounds", .timeLimit(.minutes(3)))
struct RoundCorrectionTests {
    static func quiet() -> Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    /// Two branches with members, and an administrator signed in.
    static func office(_ client: any TestClientProtocol, _ harness: TestHarness) async throws -> Browser {
        _ = try await harness.database.query("INSERT INTO branches (code, name) VALUES ('b01', '办公室党支部'), ('b02', '财务处党支部')")
        _ = try await harness.database.query(
            """
            INSERT INTO members (staff_number, name, branch_id)
            SELECT 'm' || b.code || g, '党员' || g, b.id FROM branches b, generate_series(1, 3) g
            """
        )
        try await harness.createUser("chief", password: "the chief's password")
        var admin = Browser(client)
        _ = try await admin.signIn("chief", "the chief's password")
        return admin
    }

    static func form(title: String, year: Int = 2026, closes: String, codes: String? = nil) -> [(String, String)] {
        var entered = RoundForm.defaults(year: year).entered
        entered["title"] = title
        entered["closes"] = closes
        if let codes {
            entered["branches"] = "codes"
            entered["branch_codes"] = codes
        }
        return entered.map { ($0.key, $0.value) }
    }

    @Test func aDraftIsEditedOnItsPageAndDeletedAfterConfirming() async throws {
        try await TestApp.run { client, harness in
            var admin = try await Self.office(client, harness)
            let created = try await admin.post("/admin/rounds", form: Self.form(title: "2026 年度考评（草稿", closes: "2027-01-20 18:00"))
            let path = try #require(created.location)
            // Invitations made for the draft, as an office prints them ahead.
            _ = try await admin.post(path + "/invitations", form: [])
            #expect(try await harness.count("SELECT count(*)::int FROM invitations") == 6)

            // The edit page shows the round as stored.
            let page = try await admin.get(path + "/edit")
            #expect(page.status == .ok)
            #expect(page.text.contains("value=\"2026 年度考评（草稿\""))
            #expect(page.text.contains("value=\"2027-01-20T18:00\""))
            #expect(page.text.contains("action=\"\(path)/edit\""))

            // The typo is fixed and b02 taken out: its invitations go with it, b01's stay.
            let saved = try await admin.post(path + "/edit", form: Self.form(title: "2026 年度支部工作考评", closes: "2027-01-22 18:00", codes: "b01"))
            #expect(saved.status == .seeOther)
            let shown = try await admin.get(try #require(saved.location))
            #expect(shown.text.contains("2026 年度支部工作考评") && shown.text.contains("2027-01-22 18:00"))
            #expect(shown.text.contains("“b02”"))
            #expect(try await harness.count("SELECT count(*)::int FROM round_branches") == 1)
            #expect(
                try await harness.count("SELECT count(*)::int FROM invitations i JOIN branches b ON b.id = i.branch_id WHERE b.code = 'b01'") == 3
            )
            #expect(try await harness.count("SELECT count(*)::int FROM invitations") == 3)
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'round.edited'") == 1)

            // Deleting asks first; a bare post goes to the question.
            let question = try await admin.get(path + "/delete")
            #expect(question.text.contains("删除这个轮次？") && question.text.contains("name=\"confirmed\""))
            #expect(try await admin.post(path + "/delete", form: []).location == path + "/delete")
            #expect(try await harness.count("SELECT count(*)::int FROM rounds") == 1)
            let deleted = try await admin.post(path + "/delete", form: [("confirmed", "yes")])
            #expect(deleted.location == "/admin/rounds?deleted=1")
            #expect(try await harness.count("SELECT count(*)::int FROM rounds") == 0)
            #expect(try await harness.count("SELECT count(*)::int FROM invitations") == 0)
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'round.deleted' AND details->>'title' = '2026 年度支部工作考评'"
                ) == 1
            )
        }
    }

    @Test func anOpenedRoundIsNeitherEditedNorDeletedButCancelledOutOfEveryPage() async throws {
        try await TestApp.run { client, harness in
            let rounds = try await BranchHistoryTests.threeYears(harness)
            let cancelled = rounds[2]
            let path = "/admin/rounds/\(cancelled.uuidString.lowercased())"
            try await harness.createUser("chief", password: "the chief's password")
            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")
            _ = try await UserRepository(database: harness.database).create(
                username: "secretary-b01",
                displayName: "",
                role: .viewer,
                branchCode: "b01",
                passwordHash: try await TestApp.hasher.hash("b01's secretary password")
            )
            var secretary = Browser(client)
            _ = try await secretary.signIn("secretary-b01", "b01's secretary password")
            #expect(try await secretary.get("/admin").text.contains("2026 年度支部考评"))
            #expect(try await secretary.get("/admin/org/branches/b01/history").text.contains("2026 年度支部考评"))

            // A closed round cannot be edited or deleted: the page offers neither.
            let page = try await admin.get(path)
            #expect(!page.text.contains(path + "/edit") && !page.text.contains(path + "/delete"))
            #expect(page.text.contains("href=\"\(path)/cancel\""))
            let notDeleted = try await admin.post(path + "/delete", form: [("confirmed", "yes")])
            #expect(
                notDeleted.location?.contains("wrong%2Dstatus") == true,
                "\(notDeleted.status) \(notDeleted.location ?? "") \(notDeleted.text.prefix(400))"
            )
            #expect(try await admin.get(path + "/edit").location?.contains("wrong%2Dstatus") == true)

            // Cancelling needs a reason.
            let noReason = try await admin.post(path + "/cancel", form: [("confirmed", "yes"), ("reason", "  ")])
            #expect(noReason.status == .unprocessableContent)
            #expect(try await harness.count("SELECT count(*)::int FROM rounds WHERE status = 'cancelled'") == 0)
            let done = try await admin.post(path + "/cancel", form: [("confirmed", "yes"), ("reason", "测试数据误录为正式轮次")])
            #expect(done.location == "/admin/rounds?cancelled=1")

            // Gone from the rounds list, the ranking, the record and the secretary's pages…
            let list = try await admin.get("/admin/rounds")
            #expect(!list.text.contains("2026 年度支部考评") && list.text.contains("2025 年度支部考评"))
            #expect(try await admin.get("/admin/rounds/\(cancelled.uuidString.lowercased())/results").status == .notFound)
            #expect(!(try await secretary.get("/admin").text.contains("2026 年度支部考评")))
            let record = try await secretary.get("/admin/org/branches/b01/history")
            #expect(!record.text.contains("2026 年度支部考评") && record.text.contains("2025 年度支部考评"))
            // …kept for the record: listed among cancelled rounds, its answers and snapshot stored.
            let kept = try await admin.get("/admin/rounds?cancelled=all")
            #expect(kept.text.contains("2026 年度支部考评") && !kept.text.contains("2025 年度支部考评"))
            let shown = try await admin.get(path)
            #expect(shown.text.contains("已作废") && shown.text.contains("测试数据误录为正式轮次"))
            #expect(try await harness.count("SELECT count(*)::int FROM result_snapshots WHERE round_id = '\(cancelled)'") == 1)
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'round.cancelled' AND details->>'reason' = '测试数据误录为正式轮次'"
                ) == 1
            )
        }
    }

    @Test func anOpenRoundIsCancelledAndItsLinksStopTakingAnswers() async throws {
        try await TestApp.run { client, harness in
            var admin = try await Self.office(client, harness)
            let created = try await admin.post("/admin/rounds", form: Self.form(title: "试运行", closes: "2027-01-20 18:00"))
            let path = try #require(created.location)
            _ = try await admin.post(path + "/open", form: [("confirmed", "yes")])
            let id = try #require(UUID(uuidString: String(path.split(separator: "/").last!)))
            let link = try await harness.database.query("SELECT public_code FROM round_branches WHERE round_id = \(id) LIMIT 1").first!.decode(
                String.self
            )
            // A form opened before the round is cancelled, sent after.
            var phone = Browser(client)
            let key = try #require(try await phone.get("/p/\(link)").hidden("_key"))
            #expect(try await admin.get("/admin").text.contains("试运行"))

            #expect(try await admin.get(path + "/cancel").text.contains("name=\"reason\""))
            _ = try await admin.post(path + "/cancel", form: [("confirmed", "yes"), ("reason", "试运行结束")])
            #expect(!(try await admin.get("/admin").text.contains("试运行")))
            let late = try await phone.post("/p/\(link)", form: publicAnswers() + [("_key", key)])
            #expect(late.text.contains("本轮考评当前不接受填写"))
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 0)
            // The scheduler leaves it alone.
            _ = try await harness.database.query(
                "UPDATE rounds SET opens_at = now() - interval '1 hour', closes_at = now() - interval '1 minute' WHERE id = \(id)"
            )
            let due = try await harness.services.rounds.runDue(logger: Self.quiet())
            #expect(due.closed.isEmpty)
            #expect(try await harness.count("SELECT count(*)::int FROM rounds WHERE status = 'cancelled'") == 1)
        }
    }

    @Test func branchesJoinAnOpenRoundWithTheirInvitationsAndAClosedRoundHandsOutNothing() async throws {
        try await TestApp.run { client, harness in
            var admin = try await Self.office(client, harness)
            let created = try await admin.post("/admin/rounds", form: Self.form(title: "2026 年度考评", closes: "2027-01-20 18:00", codes: "b01"))
            let path = try #require(created.location)
            _ = try await admin.post(path + "/open", form: [("confirmed", "yes")])
            _ = try await admin.post(path + "/invitations", form: [])
            #expect(try await harness.count("SELECT count(*)::int FROM invitations") == 3)

            // b02 is offered, then joins with its three members' invitations.
            let page = try await admin.get(path)
            #expect(page.text.contains("name=\"branch\" value=\"b02\""))
            #expect(!page.text.contains("name=\"branch\" value=\"b01\""))
            let joined = try await admin.post(path + "/branches", form: [("branch", "b02")])
            #expect(try await admin.get(try #require(joined.location)).text.contains("已加入 1 个支部，生成邀请 3 份"))
            #expect(try await harness.count("SELECT count(*)::int FROM round_branches") == 2)
            #expect(
                try await harness.count("SELECT count(*)::int FROM invitations i JOIN branches b ON b.id = i.branch_id WHERE b.code = 'b02'") == 3
            )
            // Again changes nothing; an unknown code is refused by name.
            _ = try await admin.post(path + "/branches", form: [("branch", "b02")])
            #expect(try await harness.count("SELECT count(*)::int FROM invitations") == 6)
            let unknown = try await admin.post(path + "/branches", form: [("branch", "b09")])
            #expect(try await admin.get(try #require(unknown.location)).text.contains("b09"))

            // A branch deactivated since is named on the round page.
            _ = try await harness.database.query("UPDATE branches SET active = false WHERE code = 'b02'")
            #expect(try await admin.get(path).text.contains("以下支部已在组织中撤销，但仍在本轮中"))

            // Closed: no forms to hand out more, and a post that tries is refused.
            _ = try await admin.post(path + "/close", form: [("confirmed", "yes")])
            let closed = try await admin.get(path)
            #expect(!closed.text.contains("action=\"\(path)/invitations\""))
            #expect(!closed.text.contains("action=\"\(path)/visit-codes\""))
            #expect(!closed.text.contains("action=\"\(path)/evaluators\""))
            _ = try await harness.database.query(
                "INSERT INTO members (staff_number, name, branch_id) SELECT 'late1', '新党员', id FROM branches WHERE code = 'b01'"
            )
            let refused = try await admin.post(path + "/invitations", form: [])
            #expect(refused.location?.contains("wrong%2Dstatus") == true)
            #expect(try await harness.count("SELECT count(*)::int FROM invitations") == 6)
            let codes = try await admin.post(path + "/visit-codes", form: [("count", "5")])
            #expect(codes.location?.contains("wrong%2Dstatus") == true)
            #expect(try await harness.count("SELECT count(*)::int FROM visit_codes") == 0)
        }
    }

    @Test func datesAreCheckedAndASlipIsConfirmedBeforeTheRoundIsStored() async throws {
        try await TestApp.run { client, harness in
            var admin = try await Self.office(client, harness)
            // A close already past is refused outright.
            let past = try await admin.post("/admin/rounds", form: Self.form(title: "过期", closes: "2026-01-10 18:00"))
            #expect(past.status == .unprocessableContent && past.text.contains("晚于现在"))
            // A 2027 round closing in 2026 is asked about, with what was typed kept.
            let slip = Self.form(title: "2027 年度考评", year: 2027, closes: "2026-12-28 18:00")
            let asked = try await admin.post("/admin/rounds", form: slip)
            #expect(asked.status == .unprocessableContent)
            #expect(asked.text.contains("这是 2027 年度的考评，截止时间却在 2026 年"))
            #expect(asked.text.contains("value=\"2026-12-28T18:00\""))
            #expect(try await harness.count("SELECT count(*)::int FROM rounds") == 0)
            let confirmed = try await admin.post("/admin/rounds", form: slip + [("accept_warnings", "1")])
            #expect(confirmed.status == .seeOther)
            #expect(try await harness.count("SELECT count(*)::int FROM rounds WHERE year = 2027") == 1)
            // The year after is where a year's evaluation often ends: no question.
            let january = try await admin.post("/admin/rounds", form: Self.form(title: "2026 年度考评", closes: "2027-01-15 18:00"))
            #expect(january.status == .seeOther)

            // An office with business units is told when the year's results are not loaded.
            _ = try await harness.database.query("INSERT INTO units (code, name, branch_id) SELECT 'u01', '办公室', id FROM branches WHERE code = 'b01'")
            let noResults = try await admin.post("/admin/rounds", form: Self.form(title: "无绩效", closes: "2027-01-15 18:00"))
            #expect(noResults.text.contains("2026 年的业务绩效结果尚未导入"))

            // The new-round page proposes a close in the chosen year, and its script moves it along.
            let new = try await admin.get("/admin/rounds/new")
            #expect(new.text.contains("&quot;2028&quot;:&quot;2028-12-15T18:00&quot;") || new.text.contains("\"2028\":\"2028-12-15T18:00\""))
            #expect(new.text.contains("round-form.js"))
        }
    }
}
