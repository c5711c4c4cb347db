import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import KaopingServer

/// Every item of the organisation sheet filled in: 2 points lost on each deduction item.
func fullSheet() -> [(String, String)] {
    ["org_life", "study", "discipline", "integration", "member_management"].map { ("q.\($0)", "2") }
        + ["org_life_held", "no_violations", "dues_collected"].map { ("q.\($0)", "pass") }
        + [("q.awards", "1"), ("note.awards", "获市级表彰"), ("q.remark", "全年工作扎实")]
}

@Suite("Organisation score sheets", .timeLimit(.minutes(2)))
struct SheetTests {
    @Test func evaluatorsSaveDraftsSubmitAndAdminsSeeWhoScored() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("admin", password: "admin for sheets")
            try await harness.createUser("zhang", password: "evaluator number one", role: .evaluator)
            try await harness.createUser("li", password: "evaluator number two", role: .evaluator)
            try await harness.database.query("INSERT INTO branches (code, name) VALUES ('b01', '办公室党支部'), ('b02', '财务处党支部')")
            let catalog = try FormCatalog(directory: TestDatabaseServer.repositoryRoot + "/forms")
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let rounds = RoundRepository(
                database: harness.database,
                forms: catalog,
                frozenForms: FormRepository(database: harness.database),
                seal: TestApp.ballotSeal
            )
            let round = try await rounds.create(RoundSpec(title: "组织考评", year: 2026, closesAt: .now + 7 * 86400), actor: .commandLine, logger: logger)
            try await rounds.open(round, actor: .commandLine, logger: logger)
            let roundPath = "/admin/rounds/\(round.uuidString.lowercased())"

            var admin = Browser(client)
            _ = try await admin.post("/admin/login", form: [("username", "admin"), ("password", "admin for sheets")])
            #expect(
                try await admin.post(roundPath + "/evaluators", form: [("username", "zhang"), ("branches", "")]).location == roundPath + "?assigned=2"
            )
            #expect(
                try await admin.post(roundPath + "/evaluators", form: [("username", "li"), ("branches", "b01")]).location == roundPath + "?assigned=1"
            )
            // An administrator is not an evaluator, an unknown name is no one, a code not in the
            // round is no branch of it: each is refused by name and nothing is assigned.
            for (form, message) in [
                ([("username", "admin"), ("branches", "b01")], "“admin”是管理员账号，不是评审账号"),
                ([("username", "nobody"), ("branches", "b01")], "没有用户名为“nobody”的账号"),
                ([("username", "li"), ("branches", "b01, b77，b78")], "本轮次没有编码为“b77”、“b78”的参评支部"),
            ] {
                let refused = try await admin.post(roundPath + "/evaluators", form: form)
                #expect(try await admin.get(try #require(refused.location)).text.contains(message))
            }
            // The same assignment again changes nothing, and the page says so.
            let repeated = try await admin.post(roundPath + "/evaluators", form: [("username", "li"), ("branches", "b01")])
            #expect(repeated.location == roundPath + "?assigned=0")
            #expect(try await admin.get(try #require(repeated.location)).text.contains("没有新的分配"))
            #expect(try await harness.count("SELECT count(*)::int FROM evaluator_assignments") == 3)

            var zhang = Browser(client)
            _ = try await zhang.post("/admin/login", form: [("username", "zhang"), ("password", "evaluator number one")])
            let list = try await zhang.get("/admin/sheets")
            #expect(list.text.contains("办公室党支部"))
            #expect(list.text.contains("财务处党支部"))
            let sheetPath = "/admin/sheets/\(round.uuidString.lowercased())/b01"

            // A draft with one item: saved, and shown again next time.
            let draft = try await zhang.post(sheetPath, form: [("q.org_life", "3"), ("note.org_life", "少开一次党课"), ("_action", "save")])
            #expect(draft.location == "/admin/sheets?saved=draft")
            let again = try await zhang.get(sheetPath)
            #expect(again.text.contains("name=\"q.org_life\" value=\"3\""))
            #expect(again.text.contains(">少开一次党课</textarea>"))
            #expect(again.text.contains("当前状态：草稿"))
            // The sheet names its round and year beside the branch.
            #expect(again.text.contains("<strong>办公室党支部</strong> · 组织考评（2026 年度）</p>"))

            // Submitting needs every required item.
            let incomplete = try await zhang.post(sheetPath, form: [("q.org_life", "3"), ("_action", "submit")])
            #expect(incomplete.status == .unprocessableContent)
            #expect(incomplete.text.contains("此题为必答题"))
            #expect(incomplete.text.contains("提交未成功"))
            // A draft with a value out of range is saved all the same, as typed, with the
            // problem marked; the valid values are kept as entries.
            let flawed = try await zhang.post(sheetPath, form: [("q.org_life", "40"), ("q.study", "１．５"), ("_action", "save")])
            #expect(flawed.status == .ok)
            #expect(flawed.text.contains("草稿已保存，但有 1 处需要改正"))
            // Saved, not a failed submission: what is left is listed, without the red summary.
            #expect(!flawed.text.contains("提交未成功") && !flawed.text.contains("error-summary"))
            #expect(flawed.text.contains("提交前还需改正") && flawed.text.contains("href=\"#item-org_life\""))
            #expect(flawed.text.contains("name=\"q.org_life\" value=\"40\"") && flawed.text.contains("aria-invalid=\"true\""))
            #expect(
                try await harness.count("SELECT count(*)::int FROM org_sheet_entries WHERE item_key = 'study' AND points_lost = 1.5") == 1
            )
            let reopened = try await zhang.get(sheetPath)
            #expect(reopened.text.contains("name=\"q.org_life\" value=\"40\"") && reopened.text.contains("草稿已保存，但有 1 处需要改正"))
            #expect(!reopened.text.contains("提交未成功"))
            // The running total counts what is valid: 1.5 lost of 100.
            #expect(reopened.text.contains("当前合计：扣分 1.50 分，基本分 98.50（满分 100）；加分 0（封顶 10）"))
            #expect(reopened.text.contains("sheet-total.js") && reopened.text.contains("data-points=\"deduction\" data-max=\"25\""))
            // Moving between the branches of the round.
            #expect(reopened.text.contains("rel=\"next\" href=\"/admin/sheets/\(round.uuidString.lowercased())/b02\""))
            #expect(!reopened.text.contains("rel=\"prev\""))
            // Corrected (in full-width digits, as a Chinese input method types them), the draft
            // no longer holds anything as typed.
            #expect(try await zhang.post(sheetPath, form: [("q.org_life", "３"), ("_action", "save")]).location == "/admin/sheets?saved=draft")
            #expect(try await harness.count("SELECT count(*)::int FROM org_sheets WHERE draft_values IS NOT NULL") == 0)
            #expect(try await harness.count("SELECT count(*)::int FROM org_sheet_entries WHERE item_key = 'org_life' AND points_lost = 3") == 1)

            #expect(try await zhang.post(sheetPath, form: fullSheet() + [("_action", "submit")]).location == "/admin/sheets?saved=submit")
            // Once submitted, one button saves changes, checked as strictly as a submission.
            let submitted = try await zhang.get(sheetPath)
            #expect(submitted.text.contains(">保存修改</button>") && !submitted.text.contains(">保存草稿</button>"))
            #expect(submitted.text.contains("保存后立即替换原来提交的评分"))
            let entries = "SELECT count(*)::int FROM org_sheet_entries e JOIN org_sheets s ON s.id = e.sheet_id WHERE s.status = 'submitted'"
            let before = try await harness.count(entries)
            #expect(before >= 9)
            let halfDone = try await zhang.post(sheetPath, form: [("q.org_life", "3"), ("_action", "save")])
            #expect(halfDone.status == .unprocessableContent)
            #expect(try await harness.count(entries) == before)
            // The list: one section per round, with how many are submitted.
            let sections = try await zhang.get("/admin/sheets")
            #expect(sections.text.contains("<h2>组织考评</h2>") && sections.text.contains("已提交 1 / 2 个支部"))
            var li = Browser(client)
            _ = try await li.post("/admin/login", form: [("username", "li"), ("password", "evaluator number two")])
            #expect(try await li.post(sheetPath, form: fullSheet() + [("_action", "submit")]).location == "/admin/sheets?saved=submit")
            // li was not assigned b02.
            #expect(try await li.get("/admin/sheets/\(round.uuidString.lowercased())/b02").status == .notFound)

            // Not anonymous: who scored what is kept.
            let scored = try await harness.database.query(
                "SELECT u.username, s.status FROM org_sheets s JOIN users u ON u.id = s.evaluator_id ORDER BY u.username"
            ).map { try $0.decode((String, String).self) }
            #expect(scored.map(\.0) == ["li", "zhang"])
            #expect(scored.allSatisfy { $0.1 == "submitted" })
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM org_sheet_entries WHERE item_key = 'awards' AND points_earned = 1 AND note = '获市级表彰'"
                ) == 2
            )
            #expect(try await admin.get(roundPath).text.contains("<td class=\"num\" data-label=\"考评表\">2</td>"))
            // The evaluators' notes and remarks reach the branch's report (without their names)
            // and the workbook.
            let report = try await admin.get(roundPath + "/results/b01").text
            #expect(report.contains("<h2>评审说明</h2>") && report.contains("<dd>获市级表彰</dd>") && report.contains("<dd>全年工作扎实</dd>"))
            #expect(!report.contains("zhang") && !report.contains(">li<"))
            let workbook = try await admin.get(roundPath + "/results.xlsx")
            let notes = try #require(try XLSXReader.sheets(Array(workbook.body.readableBytesView)).first { $0.name == "评审说明" })
            #expect(notes.rows.contains { $0.cells.first == "b01" && $0.cells.last == "获市级表彰" })
            #expect(notes.rows.contains { $0.cells.first == "b01" && $0.cells.last == "全年工作扎实" })

            // After closing, the sheet can be read but not changed.
            _ = try await rounds.close(round, actor: .commandLine, logger: logger)
            let closed = try await zhang.get(sheetPath)
            #expect(closed.text.contains("本轮考评已结束，考评表只能查看。"))
            #expect(try await zhang.post(sheetPath, form: fullSheet() + [("_action", "submit")]).status == .forbidden)
            // Members and the public never reach the sheets.
            #expect(try await admin.get("/admin/sheets").status == .forbidden)
        }
    }

    @Test func evaluatorsNotesComeInOneOrderHoweverTheyWereStored() async throws {
        try await TestApp.run { _, harness in
            let (round, branch) = try await harness.openRound(group: "organisation", form: "organisation-sheet")
            let zhou = try await harness.createUser("zhou", password: "evaluator zhou's password", role: .evaluator)
            let an = try await harness.createUser("an", password: "evaluator an's password", role: .evaluator)
            // zhou's sheet is stored first, and each sheet's entries against the items' order.
            let sheets = [
                (zhou, [("study", "周：学习记录不全"), ("remark", "周：总体较好")]),
                (an, [("study", "安：学习扎实"), ("remark", "安：总体好"), ("org_life", "安：组织生活规范")]),
            ]
            for (evaluator, notes) in sheets {
                let sheet = try await harness.database.query(
                    """
                    INSERT INTO org_sheets (round_id, branch_id, evaluator_id, form_version_id, status, submitted_at)
                    SELECT \(round), \(branch), \(evaluator.id), form_version_id, 'submitted', now()
                    FROM round_groups WHERE round_id = \(round) AND rater_group = 'organisation'
                    RETURNING id
                    """
                ).first!.decode(UUID.self)
                for (item, note) in notes {
                    try await harness.database.query("INSERT INTO org_sheet_entries (sheet_id, item_key, note) VALUES (\(sheet), \(item), \(note))")
                }
            }
            let code = try await harness.database.query("SELECT code FROM branches WHERE id = \(branch)").first!.decode(String.self)
            // Evaluator by evaluator (an before zhou), each one's by item; not by the notes' text,
            // which put 周 before 安.
            let notes = try await harness.services.resultsRepository.sheetNotes(roundID: round, branchCode: code)
            #expect(notes.map(\.text) == ["安：组织生活规范", "安：总体好", "安：学习扎实", "周：总体较好", "周：学习记录不全"])
        }
    }
}
