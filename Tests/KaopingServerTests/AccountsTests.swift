import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import KaopingServer

extension HTTPReply {
    /// The one-time passwords on an account sheet, by username.
    var issuedPasswords: [String: String] {
        var issued: [String: String] = [:]
        var rest = text[...]
        while let slip = rest.range(of: "<div class=\"credential-slip\">") {
            rest = rest[slip.upperBound...]
            guard let user = rest.range(of: "<dd><code>"), let userEnd = rest[user.upperBound...].range(of: "</code>"),
                let password = rest.range(of: "<code class=\"token\">"), let passwordEnd = rest[password.upperBound...].range(of: "</code>")
            else { break }
            issued[String(rest[user.upperBound..<userEnd.lowerBound])] = String(rest[password.upperBound..<passwordEnd.lowerBound])
        }
        return issued
    }
}

extension Browser {
    mutating func signIn(_ username: String, _ password: String) async throws -> Reply {
        try await post("/admin/login", form: [("username", username), ("password", password)])
    }
}

/// Accounts in the admin area: created, listed, disabled and reset in the browser, with
/// one-time passwords that must be changed at the first sign-in.
@Suite("Accounts in the admin area", .timeLimit(.minutes(2)))
struct AccountsTests {
    @Test func anAdministratorCreatesAnEvaluatorWhoMustChooseTheirOwnPassword() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("chief", password: "the chief's password")
            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")
            let page = try await admin.get("/admin/accounts")
            #expect(page.status == .ok)
            #expect(page.text.contains("账号管理") && page.text.contains("chief") && page.text.contains("当前登录账号"))

            let created = try await admin.post(
                "/admin/accounts",
                form: [("username", "wang.evaluator"), ("displayName", "王考评"), ("role", "evaluator"), ("branch", "")]
            )
            #expect(created.status == .ok)
            #expect(created.headers[.cacheControl] == "no-store")
            #expect(created.text.contains("账号通知单") && created.text.contains("王考评") && created.text.contains("/admin/login"))
            let password = try #require(created.issuedPasswords["wang.evaluator"])
            #expect(password.count == 19)
            #expect(try await harness.count("SELECT count(*)::int FROM users WHERE username = 'wang.evaluator' AND must_change_password") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'user.created' AND subject = 'wang.evaluator'") == 1)

            // The one-time password signs in, and every page leads to choosing a new one.
            var wang = Browser(client)
            #expect(try await wang.signIn("wang.evaluator", password).status == .seeOther)
            #expect(try await wang.get("/admin").location == "/admin/password")
            #expect(try await wang.get("/admin/sheets").location == "/admin/password")
            let form = try await wang.get("/admin/password")
            #expect(form.status == .ok && form.text.contains("一次性密码"))
            let changed = try await wang.post(
                "/admin/password",
                form: [("current", password), ("new", "wang's own password"), ("confirm", "wang's own password")]
            )
            #expect(changed.status == .ok && changed.text.contains("进入首页"))
            #expect(try await wang.get("/admin/sheets").status == .ok)
            #expect(try await harness.count("SELECT count(*)::int FROM users WHERE username = 'wang.evaluator' AND must_change_password") == 0)

            // The list shows the new account, now signed in once and past its first change.
            let list = try await admin.get("/admin/accounts")
            #expect(list.text.contains("王考评") && list.text.contains("考评人员") && !list.text.contains("从未登录"))

            // Only administrators manage accounts.
            #expect(try await wang.get("/admin/accounts").status == .forbidden)
            #expect(try await wang.post("/admin/accounts", form: [("username", "sneaky"), ("role", "admin")]).status == .forbidden)
        }
    }

    @Test func refusalsNameTheProblemAndKeepWhatWasTyped() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("chief", password: "the chief's password")
            try await harness.database.query("INSERT INTO branches (code, name) VALUES ('b01', '办公室党支部')")
            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")

            let taken = try await admin.post("/admin/accounts", form: [("username", "CHIEF"), ("displayName", "重名"), ("role", "admin")])
            #expect(taken.status == .unprocessableContent)
            #expect(taken.text.contains("用户名“CHIEF”已被使用"))
            #expect(taken.text.contains("value=\"重名\""))

            let noBranch = try await admin.post("/admin/accounts", form: [("username", "viewer1"), ("role", "viewer"), ("branch", "")])
            #expect(noBranch.status == .unprocessableContent && noBranch.text.contains("请选择所属支部"))
            let unknownBranch = try await admin.post("/admin/accounts", form: [("username", "viewer1"), ("role", "viewer"), ("branch", "b99")])
            #expect(unknownBranch.status == .unprocessableContent && unknownBranch.text.contains("没有编码为“b99”的支部"))
            let badName = try await admin.post("/admin/accounts", form: [("username", "with space"), ("role", "evaluator")])
            #expect(badName.status == .unprocessableContent && badName.text.contains("不能有空格"))
            let badRole = try await admin.post("/admin/accounts", form: [("username", "someone"), ("role", "root")])
            #expect(badRole.status == .unprocessableContent)
            #expect(try await harness.count("SELECT count(*)::int FROM users") == 1)

            let viewer = try await admin.post("/admin/accounts", form: [("username", "viewer1"), ("role", "viewer"), ("branch", "b01")])
            #expect(viewer.status == .ok && viewer.text.contains("办公室党支部") && viewer.issuedPasswords["viewer1"] != nil)
        }
    }

    @Test func everySecretaryGetsAViewerAccountOnOnePrintableSheet() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("chief", password: "the chief's password")
            try await harness.database.query(
                """
                INSERT INTO branches (code, name, secretary_name) VALUES
                  ('b01', '办公室党支部', '张书记'), ('b02', '财务处党支部', NULL), ('b03', '人事处党支部', '李书记')
                """
            )
            // b03 has a viewer already: it is not offered again.
            try await harness.database.query(
                "INSERT INTO users (username, role, branch_id, password_hash) SELECT 'old-b03', 'viewer', id, 'x' FROM branches WHERE code = 'b03'"
            )
            // A username the first branch's would take is in use: the next free one is chosen.
            try await harness.createUser("secretary-b01", password: "someone else entirely", role: .evaluator)
            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")
            let page = try await admin.get("/admin/accounts")
            #expect(page.text.contains("value=\"b01\" checked") && page.text.contains("value=\"b02\" checked"))
            #expect(!page.text.contains("name=\"branch\" value=\"b03\""))

            let nothingTicked = try await admin.post("/admin/accounts/secretaries", form: [])
            #expect(nothingTicked.status == .unprocessableContent && nothingTicked.text.contains("请至少勾选一个支部"))
            let sheet = try await admin.post("/admin/accounts/secretaries", form: [("branch", "b01"), ("branch", "b02")])
            #expect(sheet.status == .ok)
            let issued = sheet.issuedPasswords
            #expect(Set(issued.keys) == ["secretary-b01-2", "secretary-b02"])
            #expect(sheet.text.contains("张书记") && sheet.text.contains("财务处党支部书记"))
            #expect(sheet.text.contains("data-print") && sheet.text.contains("print.js"))
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM users u JOIN branches b ON b.id = u.branch_id WHERE u.role = 'viewer' AND u.must_change_password AND u.username LIKE 'secretary-' || b.code || '%'"
                ) == 2
            )
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'user.created' AND actor_name = 'chief' AND details->>'role' = 'viewer' AND details->>'branch' IN ('b01', 'b02') AND subject LIKE 'secretary-%'"
                ) == 2
            )
            // Once each has an account, none is offered; the same form sent again (a reload of
            // the printed sheet) creates nothing and says why, not that nothing was ticked.
            #expect(try await admin.get("/admin/accounts").text.contains("每个在册支部都已有查看账号"))
            let again = try await admin.post("/admin/accounts/secretaries", form: [("branch", "b01"), ("branch", "b02")])
            #expect(again.status == .conflict)
            #expect(again.text.contains("所选支部中 “b01”、“b02” 已有查看账号，未再创建") && !again.text.contains("请至少勾选"))
            #expect(try await harness.count("SELECT count(*)::int FROM users WHERE role = 'viewer'") == 3)
            // A new branch beside one provided for: its account is made, and the sheet names
            // the one passed over.
            try await harness.database.query("INSERT INTO branches (code, name) VALUES ('b04', '后勤党支部')")
            let mixed = try await admin.post("/admin/accounts/secretaries", form: [("branch", "b01"), ("branch", "b04")])
            #expect(mixed.status == .ok && Set(mixed.issuedPasswords.keys) == ["secretary-b04"])
            #expect(mixed.text.contains("所选支部中 “b01” 已有查看账号"))

            // The secretary signs in, chooses a password and is a viewer of their branch.
            var secretary = Browser(client)
            _ = try await secretary.signIn("secretary-b02", try #require(issued["secretary-b02"]))
            #expect(try await secretary.get("/admin").location == "/admin/password")
            let password = try #require(issued["secretary-b02"])
            _ = try await secretary.post(
                "/admin/password",
                form: [("current", password), ("new", "my own secret 123"), ("confirm", "my own secret 123")]
            )
            let home = try await secretary.get("/admin")
            #expect(home.status == .ok && home.text.contains("支部查看"))
            #expect(try await secretary.get("/admin/rounds").status == .forbidden)
        }
    }

    @Test func disablingSignsOutAndResettingReplacesThePassword() async throws {
        try await TestApp.run { client, harness in
            let chief = try await harness.createUser("chief", password: "the chief's password")
            let zhao = try await harness.createUser("zhao", password: "zhao's first password", role: .evaluator)
            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")
            var evaluator = Browser(client)
            _ = try await evaluator.signIn("zhao", "zhao's first password")
            #expect(try await evaluator.get("/admin/sheets").status == .ok)

            // The accounts page links to a page that asks first; a bare post is sent there and
            // changes nothing.
            let zhaoPath = "/admin/accounts/\(zhao.id.lowercased)"
            let list = try await admin.get("/admin/accounts").text
            #expect(list.contains("href=\"\(zhaoPath)/disable\""))
            #expect(list.contains("href=\"\(zhaoPath)/reset-password\""))
            #expect(try await admin.post(zhaoPath + "/disable", form: []).location == zhaoPath + "/disable")
            #expect(try await admin.post(zhaoPath + "/reset-password", form: []).location == zhaoPath + "/reset-password")
            #expect(try await evaluator.get("/admin/sheets").status == .ok)
            let askDisable = try await admin.get(zhaoPath + "/disable")
            #expect(askDisable.status == .ok)
            #expect(askDisable.text.contains("停用这个账号？"))
            #expect(askDisable.text.contains("name=\"confirmed\" value=\"yes\""))
            #expect(askDisable.text.contains("action=\"\(zhaoPath)/disable\""))
            let askReset = try await admin.get(zhaoPath + "/reset-password")
            #expect(askReset.text.contains("重置这个账号的密码？"))
            #expect(askReset.text.contains("action=\"\(zhaoPath)/reset-password\""))
            #expect(
                try await harness.count("SELECT count(*)::int FROM audit_log WHERE action IN ('user.disabled', 'user.password_reset')") == 0
            )

            let disabled = try await admin.post(zhaoPath + "/disable", form: [("confirmed", "yes")])
            #expect(disabled.location == "/admin/accounts?disabled=zhao")
            #expect(try await admin.get(try #require(disabled.location)).text.contains("已停用账号“zhao”"))
            // Out at once, and cannot come back in.
            #expect(try await evaluator.get("/admin/sheets").location?.hasPrefix("/admin/login") == true)
            #expect(try await evaluator.signIn("zhao", "zhao's first password").status == .unprocessableContent)
            #expect(try await harness.count("SELECT count(*)::int FROM sessions WHERE user_id = '\(zhao.id.lowercased)'") == 0)

            #expect(try await admin.post("/admin/accounts/\(zhao.id.lowercased)/enable", form: []).location == "/admin/accounts?enabled=zhao")
            #expect(try await evaluator.signIn("zhao", "zhao's first password").status == .seeOther)

            // A reset ends the sessions, retires the old password and hands out a one-time one.
            let reset = try await admin.post(zhaoPath + "/reset-password", form: [("confirmed", "yes")])
            let password = try #require(reset.issuedPasswords["zhao"])
            #expect(try await evaluator.get("/admin/sheets").location?.hasPrefix("/admin/login") == true)
            #expect(try await evaluator.signIn("zhao", "zhao's first password").status == .unprocessableContent)
            var again = Browser(client)
            _ = try await again.signIn("zhao", password)
            #expect(try await again.get("/admin/sheets").location == "/admin/password")
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM audit_log WHERE action IN ('user.disabled', 'user.enabled', 'user.password_reset')"
                ) == 3
            )

            // Nobody disables or resets themselves here, not even when asked first.
            for action in ["disable", "reset-password"] {
                #expect(try await admin.get("/admin/accounts/\(chief.id.lowercased)/\(action)").status == .conflict)
                #expect(try await admin.post("/admin/accounts/\(chief.id.lowercased)/\(action)", form: [("confirmed", "yes")]).status == .conflict)
            }
            #expect(try await admin.get("/admin/accounts/\(UUID().uuidString.lowercased())/disable").status == .notFound)
            #expect(
                try await admin.post("/admin/accounts/\(UUID().uuidString.lowercased())/disable", form: [("confirmed", "yes")]).status == .notFound
            )
        }
    }

    @Test func twoBulkCreationsAtOnceGiveEachBranchOneAccount() async throws {
        try await TestApp.run { _, harness in
            let codes = (1...15).map { String(format: "b%02d", $0) }
            for code in codes {
                try await harness.database.query("INSERT INTO branches (code, name) VALUES (\(code), \(code + " 党支部"))")
            }
            let accounts = harness.services.accounts
            // Both read every branch as without an account; the branches' lock lets one make
            // them and the other find them made.
            let outcomes = try await withThrowingTaskGroup(of: AccountService.SecretaryAccounts.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await accounts.createSecretaries(
                            branchCodes: Set(codes),
                            displayName: { "\($0)书记" },
                            actor: .commandLine,
                            logger: TestApp.logger
                        )
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.map(\.created.count).sorted() == [0, 15])
            #expect(outcomes.map { Set($0.alreadyHadAccounts).count }.sorted() == [0, 15])
            #expect(try await harness.count("SELECT count(DISTINCT branch_id)::int FROM users WHERE role = 'viewer'") == 15)
            #expect(try await harness.count("SELECT count(*)::int FROM users WHERE role = 'viewer'") == 15)
            // One audit entry per account made, naming it.
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM audit_log a JOIN users u ON u.username = a.subject WHERE a.action = 'user.created' AND u.role = 'viewer'"
                ) == 15
            )
            let names = try await harness.database.query("SELECT username FROM users WHERE role = 'viewer' ORDER BY username")
                .map { try $0.decode(String.self) }
            #expect(names == codes.map { "secretary-\($0)" })
        }
    }

    @Test func theLastActiveAdministratorStays() async throws {
        try await TestApp.run { _, harness in
            let accounts = harness.services.accounts
            let first = try await harness.createUser("first", password: "first administrator")
            let second = try await harness.createUser("second", password: "second administrator")
            // Two administrators disabling each other at once: one of them stays.
            let outcomes = await withTaskGroup(of: Result<AccountService.Disabled?, any Error>.self) { group in
                for id in [first.id, second.id] {
                    group.addTask {
                        do {
                            return .success(try await accounts.disable(userID: id, actor: .commandLine, logger: TestApp.logger))
                        } catch { return .failure(error) }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { (try? $0.get()) != nil }.count == 1)
            let refusals = outcomes.compactMap { outcome -> AccountError? in
                guard case .failure(let error) = outcome else { return nil }
                return error as? AccountError
            }
            #expect(refusals == [.lastAdministrator])
            #expect(try await harness.count("SELECT count(*)::int FROM users WHERE role = 'admin' AND active") == 1)
        }
    }

    @Test func theRoundPageListsWhoEvaluatesWhatAndRemovesAnAssignment() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("chief", password: "the chief's password")
            try await harness.createUser("zhang", password: "evaluator number one", role: .evaluator)
            let (round, _) = try await harness.openRound(group: "organisation", form: "organisation-sheet")
            try await harness.database.query(
                "INSERT INTO branches (code, name) VALUES ('b07', '后勤党支部')"
            )
            try await harness.database.query(
                "INSERT INTO round_branches (round_id, branch_id, eligible_members, public_code) SELECT \(round), id, 5, 'pc-b07' FROM branches WHERE code = 'b07'"
            )
            let roundPath = "/admin/rounds/\(round.lowercased)"
            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")
            #expect(try await admin.get(roundPath).text.contains("尚未分配考评人员"))
            #expect(
                try await admin.post(roundPath + "/evaluators", form: [("username", "zhang"), ("branches", "")]).location == roundPath + "?assigned=2"
            )
            let page = try await admin.get(roundPath)
            #expect(page.text.contains("id=\"assignments\"") && page.text.contains("后勤党支部") && page.text.contains("未开始"))
            #expect(page.text.components(separatedBy: "name=\"user\"").count == 3)

            // zhang submitted the sheet for b07: removing it needs the administrator's consent.
            try await harness.database.query(
                """
                INSERT INTO org_sheets (round_id, branch_id, evaluator_id, form_version_id, status, submitted_at)
                SELECT \(round), b.id, u.id, g.form_version_id, 'submitted', now()
                FROM branches b, users u, round_groups g WHERE b.code = 'b07' AND u.username = 'zhang' AND g.round_id = \(round)
                """
            )
            let zhang = try await harness.database.query("SELECT id FROM users WHERE username = 'zhang'").first!.decode(UUID.self)
            #expect(try await admin.get(roundPath).text.contains("同时删除已提交的考评表"))
            let refused = try await admin.post(roundPath + "/remove-evaluator", form: [("user", zhang.lowercased), ("branch", "b07")])
            #expect(refused.location?.contains("problem=") == true)
            #expect(try await admin.get(try #require(refused.location)).text.contains("已提交支部 b07 的考评表"))
            #expect(try await harness.count("SELECT count(*)::int FROM org_sheets") == 1)

            let removed = try await admin.post(
                roundPath + "/remove-evaluator",
                form: [("user", zhang.lowercased), ("branch", "b07"), ("discard", "1")]
            )
            #expect(removed.location == roundPath + "?unassigned=b07")
            #expect(try await admin.get(try #require(removed.location)).text.contains("已取消对支部 b07 的分配"))
            #expect(try await harness.count("SELECT count(*)::int FROM org_sheets") == 0)
            #expect(try await harness.count("SELECT count(*)::int FROM evaluator_assignments") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'round.evaluator_removed'") == 1)
            // Again: nothing left to remove, and the page says so.
            let again = try await admin.post(roundPath + "/remove-evaluator", form: [("user", zhang.lowercased), ("branch", "b07")])
            #expect(try await admin.get(try #require(again.location)).text.contains("没有被分配这个支部"))

            // A closed round keeps its assignments.
            try await harness.database.query("UPDATE rounds SET status = 'closed', closed_at = now() WHERE id = \(round)")
            let closedPage = try await admin.get(roundPath)
            #expect(!closedPage.text.contains("name=\"user\""))
            let branchCode = try await harness.database.query(
                "SELECT b.code FROM evaluator_assignments a JOIN branches b ON b.id = a.branch_id"
            ).first!.decode(String.self)
            let closed = try await admin.post(roundPath + "/remove-evaluator", form: [("user", zhang.lowercased), ("branch", branchCode)])
            #expect(try await admin.get(try #require(closed.location)).text.contains("轮次已结束"))
            #expect(try await harness.count("SELECT count(*)::int FROM evaluator_assignments") == 1)
        }
    }
}

/// The start page shows each role its work.
@Suite("Home pages", .timeLimit(.minutes(2)))
struct HomePageTests {
    @Test func administratorsSeeWhatTheRunningRoundsNeedAndEvaluatorsTheirSheets() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("chief", password: "the chief's password")
            try await harness.createUser("zhang", password: "evaluator number one", role: .evaluator)
            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")
            // Nothing running: the first steps and a way to start.
            let empty = try await admin.get("/admin")
            #expect(empty.text.contains("开始使用") && empty.text.contains("href=\"/admin/rounds/new\""))

            let (round, _) = try await harness.openRound(group: "organisation", form: "organisation-sheet")
            // No closing time yet: said in words, not a label with a dash.
            let unset = try await admin.get("/admin/rounds/\(round.lowercased)").text
            #expect(unset.contains("尚未设定截止时间") && !unset.contains("截止时间：–"))
            // Closing late today, Beijing time.
            try await harness.database.query(
                """
                UPDATE rounds SET closes_at = (date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') + interval '23 hours 59 minutes')
                  AT TIME ZONE 'Asia/Shanghai' WHERE id = \(round)
                """
            )
            let home = try await admin.get("/admin")
            #expect(home.text.contains("2026 年度党支部考评") && home.text.contains("href=\"/admin/rounds/\(round.lowercased)\""))
            #expect(home.text.contains("党员已评 0 / 10"))
            #expect(home.text.contains("1 个支部尚未分配组织考评人员"))
            #expect(home.text.contains("23:59 截止"))

            let roundPath = "/admin/rounds/\(round.lowercased)"
            #expect(
                try await admin.post(roundPath + "/evaluators", form: [("username", "zhang"), ("branches", "")]).location == roundPath + "?assigned=1"
            )
            let assigned = try await admin.get("/admin")
            #expect(!assigned.text.contains("尚未分配组织考评人员") && assigned.text.contains("还有 1 份组织考评表未提交"))
            #expect(try await admin.get(roundPath).text.contains("<strong class=\"big\">0%</strong>"))

            // The evaluator's start page lists the sheet to fill.
            var zhang = Browser(client)
            _ = try await zhang.signIn("zhang", "evaluator number one")
            let evaluatorHome = try await zhang.get("/admin")
            #expect(evaluatorHome.text.contains("待填写的组织考评表") && evaluatorHome.text.contains("已提交 0 / 1"))
            #expect(evaluatorHome.text.contains("href=\"/admin/sheets/\(round.lowercased)/"))
        }
    }
}
