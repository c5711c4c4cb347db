import Foundation
import Testing

@testable import KaopingServer

/// Every POST of the admin area, walked from the route catalogue: done once, it leaves exactly
/// the audit entries it should, naming the actor and the object; refused, it leaves none. A new
/// admin POST without a step here fails the walk.
@Suite("Audit entries, every admin POST", .timeLimit(.minutes(3)))
struct AuditWalkTests {
    /// POSTs that change nothing, or whose refusal is itself recorded by design.
    static let exempt: [String: String] = [
        // A preview of a form filled by the administrator: nothing is stored.
        "POST /admin/forms/{formId}": "a preview changes nothing"
    ]

    struct Step {
        let route: String
        let path: String
        let form: [(String, String)]
        let action: String
        var entries = 1
        var actor = "chief"
        /// The same route refused (a wrong value, or done already): no entry at all.
        var refused: (path: String, form: [(String, String)])?
        /// Whether the refused attempt is itself recorded (sign-in failures are, by design).
        var refusalRecorded = false
    }

    @Test func everyAdminPostIsAuditedOnceAndARefusalNotAtAll() async throws {
        try await TestApp.run { client, harness in
            let chief = try await harness.createUser("chief", password: "the chief's password")
            let deputy = try await harness.createUser("deputy", password: "the deputy's password")
            let zhang = try await harness.createUser("zhang", password: "evaluator number one", role: .evaluator)
            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")
            var evaluator = Browser(client)
            _ = try await evaluator.signIn("zhang", "evaluator number one")

            func count(_ action: String, actor: String) async throws -> Int {
                try await harness.count(
                    "SELECT count(*)::int FROM audit_log WHERE action = '\(action)' AND actor_name = '\(actor)' AND subject <> ''"
                )
            }
            func total() async throws -> Int { try await harness.count("SELECT count(*)::int FROM audit_log") }
            var walked: Set<String> = []

            func run(_ step: Step, as browser: inout Browser) async throws {
                walked.insert(step.route)
                if let refused = step.refused {
                    let before = try await total()
                    let reply = try await browser.post(refused.path, form: refused.form)
                    #expect(reply.status.code < 500, "\(step.route) refused: \(reply.status)")
                    if !step.refusalRecorded { #expect(try await total() == before, "\(step.route): a refusal left an entry") }
                }
                let before = try await count(step.action, actor: step.actor)
                let everything = try await total()
                let reply = try await browser.post(step.path, form: step.form)
                #expect(reply.status.code < 400, "\(step.route): \(reply.status) \(reply.text.prefix(300))")
                #expect(try await count(step.action, actor: step.actor) - before == step.entries, "\(step.route): \(step.action)")
                #expect(try await total() - everything == step.entries, "\(step.route): other entries than \(step.action)")
            }

            // The organisation, by hand and from a file.
            try await run(
                Step(
                    route: "POST /admin/org/branches",
                    path: "/admin/org/branches",
                    form: [("code", "b01"), ("name", "办公室党支部")],
                    action: "org.branch.added",
                    refused: ("/admin/org/branches", [("code", "b01")])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/org/branches/{code}",
                    path: "/admin/org/branches/b01",
                    form: [("name", "办公室党支部"), ("secretary", "王书记"), ("active", "1")],
                    action: "org.branch.updated",
                    refused: ("/admin/org/branches/b01", [("active", "1")])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/org/branches/{code}/members",
                    path: "/admin/org/branches/b01/members",
                    form: [("staff", "m001"), ("name", "党员甲")],
                    action: "org.member.added",
                    refused: ("/admin/org/branches/b01/members", [("staff", "m002")])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/org/members/{staff}",
                    path: "/admin/org/members/m001",
                    form: [("name", "党员甲"), ("branch", "b01"), ("phone", "13800000000"), ("active", "1")],
                    action: "org.member.updated",
                    refused: ("/admin/org/members/m001", [("name", "党员甲"), ("branch", "zz9"), ("active", "1")])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/org/units",
                    path: "/admin/org/units",
                    form: [("code", "u01"), ("name", "办公室"), ("branch", "b01"), ("headcount", "12")],
                    action: "org.unit.added",
                    refused: ("/admin/org/units", [("code", "u02"), ("name", "财务处"), ("branch", "zz9")])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/org/units/{code}",
                    path: "/admin/org/units/u01",
                    form: [("name", "办公室"), ("branch", "b01"), ("headcount", "13"), ("active", "1")],
                    action: "org.unit.updated",
                    refused: ("/admin/org/units/u01", [("name", "办公室"), ("branch", "zz9"), ("active", "1")])
                ),
                as: &admin
            )
            // The upload goes through its own multipart helper.
            walked.insert("POST /admin/org/import")
            let uploadsBefore = try await total()
            #expect(try await admin.upload(kind: "branches", file: [], name: "empty.csv").status == .unprocessableContent)
            #expect(try await total() == uploadsBefore)
            let uploaded = try await admin.upload(kind: "branches", file: Array("支部编码,支部名称\nb02,财务处党支部\n".utf8), name: "b.csv")
            #expect(try await total() - uploadsBefore == 1)
            #expect(try await count("org.import.uploaded", actor: "chief") == 1)
            let preview = try #require(uploaded.location)
            try await run(
                Step(route: "POST /admin/org/imports/{id}/apply", path: preview + "/apply", form: [], action: "org.import.branches"),
                as: &admin
            )
            // Applying it again imports nothing and writes nothing.
            let applied = try await total()
            _ = try await admin.post(preview + "/apply", form: [])
            #expect(try await total() == applied)

            // A round, from the page, through its life.
            var round = RoundForm.defaults(year: 2026).entered
            round["title"] = "2026 年度考评"
            round["closes"] = "2027-06-01 18:00"
            // The office keeps business units and has no 2026 results yet: a warning it accepts.
            round["accept_warnings"] = "1"
            try await run(
                Step(
                    route: "POST /admin/rounds",
                    path: "/admin/rounds",
                    form: round.map { ($0.key, $0.value) },
                    action: "round.created",
                    refused: ("/admin/rounds", round.filter { $0.key != "title" }.map { ($0.key, $0.value) })
                ),
                as: &admin
            )
            let id = try await harness.database.query("SELECT id FROM rounds").first!.decode(UUID.self).uuidString.lowercased()
            let path = "/admin/rounds/\(id)"
            // A draft is corrected on its own page; a title left empty is refused.
            var corrected = round
            corrected["title"] = "2026 年度支部工作考评"
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/edit",
                    path: path + "/edit",
                    form: corrected.map { ($0.key, $0.value) },
                    action: "round.edited",
                    refused: (path + "/edit", corrected.filter { $0.key != "title" }.map { ($0.key, $0.value) })
                ),
                as: &admin
            )
            // A second draft, made by mistake, is deleted; the first, once open, cannot be.
            var mistaken = round
            mistaken["title"] = "测试轮次"
            _ = try await admin.post("/admin/rounds", form: mistaken.map { ($0.key, $0.value) })
            let second = try await harness.database.query("SELECT id FROM rounds WHERE title = '测试轮次'").first!.decode(UUID.self)
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/delete",
                    path: "/admin/rounds/\(second.uuidString.lowercased())/delete",
                    form: [("confirmed", "yes")],
                    action: "round.deleted",
                    refused: ("/admin/rounds/\(UUID().uuidString.lowercased())/delete", [("confirmed", "yes")])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/evaluators",
                    path: path + "/evaluators",
                    form: [("username", "zhang"), ("branches", "b01")],
                    action: "round.evaluator_assigned",
                    refused: (path + "/evaluators", [("username", "deputy"), ("branches", "b01")])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/open",
                    path: path + "/open",
                    form: [("confirmed", "yes")],
                    action: "round.opened",
                    refused: (path + "/close", [("confirmed", "yes")])
                ),
                as: &admin
            )
            walked.insert("POST /admin/rounds/{id}/close")
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/invitations",
                    path: path + "/invitations",
                    form: [],
                    action: "round.invitations_issued",
                    refused: (path + "/visit-codes", [("count", "0")])
                ),
                as: &admin
            )
            let issuedAgain = try await total()
            _ = try await admin.post(path + "/invitations", form: [])
            #expect(try await total() == issuedAgain)
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/public-access",
                    path: path + "/public-access",
                    form: [("access", "both"), ("branches", "b01")],
                    action: "round.public_access_set",
                    refused: (path + "/public-access", [("access", "both"), ("branches", "zz9")])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/visit-codes",
                    path: path + "/visit-codes",
                    form: [("count", "3"), ("branches", "b02")],
                    action: "round.visit_codes_issued",
                    refused: (path + "/visit-codes", [("count", "3"), ("branches", "zz9")])
                ),
                as: &admin
            )
            // A branch set up after the round opened joins it.
            _ = try await harness.database.query("INSERT INTO branches (code, name) VALUES ('b03', '新设党支部')")
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/branches",
                    path: path + "/branches",
                    form: [("branch", "b03")],
                    action: "round.branches_added",
                    refused: (path + "/branches", [("branch", "zz9")])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/shared-device",
                    path: path + "/shared-device",
                    form: [("shared", "1"), ("branches", "b02")],
                    action: "round.shared_device_set",
                    refused: (path + "/shared-device", [("shared", "1"), ("branches", "zz9")])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/extend",
                    path: path + "/extend",
                    form: [("closes", "2099-12-20 18:00")],
                    action: "round.extended",
                    refused: (path + "/extend", [("closes", "2020-12-20 18:00")])
                ),
                as: &admin
            )
            // The evaluator's sheet: a submission with problems is refused whole.
            try await run(
                Step(
                    route: "POST /admin/sheets/{round}/{branch}",
                    path: "/admin/sheets/\(id)/b01",
                    form: [("_action", "draft")],
                    action: "sheet.saved",
                    actor: "zhang",
                    refused: ("/admin/sheets/\(id)/b01", [("_action", "submit")])
                ),
                as: &evaluator
            )
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/remove-evaluator",
                    path: path + "/remove-evaluator",
                    form: [("user", zhang.id.lowercased), ("branch", "b01"), ("discard", "1")],
                    action: "round.evaluator_removed",
                    refused: (path + "/remove-evaluator", [("user", deputy.id.lowercased), ("branch", "b01")])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/close",
                    path: path + "/close",
                    form: [("confirmed", "yes")],
                    action: "round.closed",
                    refused: (path + "/close", [])
                ),
                as: &admin
            )
            // The integrated sheet is frozen again once the year's performance results arrive.
            _ = try await harness.services.imports.apply(
                .init(kind: .performance, content: Array("单位编码,得分\nu01,90\n".utf8), fileName: "p.csv", year: 2026),
                actor: .commandLine,
                logger: TestApp.logger
            )
            try await run(
                Step(route: "POST /admin/rounds/{id}/integrated", path: path + "/integrated", form: [], action: "integration.frozen"),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/reopen",
                    path: path + "/reopen",
                    form: [("closes", "2099-12-31 18:00"), ("reason", "补充测评")],
                    action: "round.reopened",
                    refused: (path + "/reopen", [("closes", "2099-12-31 18:00"), ("reason", " ")])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/cancel",
                    path: path + "/cancel",
                    form: [("confirmed", "yes"), ("reason", "试运行的轮次，不作为正式考评")],
                    action: "round.cancelled",
                    refused: (path + "/cancel", [("confirmed", "yes"), ("reason", " ")])
                ),
                as: &admin
            )

            // Publicity and sign-off, on a second round closed with the branch that joined late.
            let rounds = try harness.roundRepository()
            let published = try await rounds.create(
                RoundSpec(title: "2026 年度考评（公示）", year: 2026, closesAt: .now + 86400, branches: ["b03"]),
                actor: .commandLine,
                logger: TestApp.logger
            )
            try await rounds.open(published, actor: .commandLine, logger: TestApp.logger)
            _ = try await rounds.close(published, actor: .commandLine, logger: TestApp.logger)
            let publicity = "/admin/rounds/\(published.lowercased)"
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/publicity",
                    path: publicity + "/publicity",
                    form: [("starts", ""), ("ends", "2099-12-31 18:00"), ("shows", "grades")],
                    action: "round.publicity_set",
                    refused: (publicity + "/publicity", [("starts", "2099-12-31 18:00"), ("ends", "2099-12-30 18:00"), ("shows", "grades")])
                ),
                as: &admin
            )
            // An objection comes in through the public page; administrators handle it.
            let filed = try await harness.services.objections.file(
                ObjectionDraft(branchCode: "b03", body: "办公室支部的得分有误", submissionKey: RespondentController.newSubmissionKey()),
                round: published,
                filer: nil,
                logger: TestApp.logger
            )
            let objection = "/admin/objections/\(filed.id.lowercased)"
            try await run(
                Step(
                    route: "POST /admin/objections/{id}/assign",
                    path: objection + "/assign",
                    form: [("username", "deputy")],
                    action: "objection.assigned",
                    refused: (objection + "/assign", [("username", "zhang")])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/objections/{id}/reply",
                    path: objection + "/reply",
                    form: [("reply", "已核实，得分计算无误。")],
                    action: "objection.replied",
                    refused: (objection + "/reply", [("reply", " ")])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/objections/{id}/decide",
                    path: objection + "/decide",
                    form: [("decision", "not-upheld")],
                    action: "objection.decided",
                    refused: (objection + "/decide", [("decision", "maybe")])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/corrections",
                    path: publicity + "/corrections",
                    form: [("kind", "grade"), ("branch", "b03"), ("grade", "良好"), ("reason", "党委会研究决定")],
                    action: "round.corrected",
                    refused: (publicity + "/corrections", [("kind", "grade"), ("branch", "b03"), ("grade", "良好"), ("reason", " ")])
                ),
                as: &admin
            )
            // A branch's secretary objects from the report.
            let secretaryHash = try await TestApp.hasher.hash("the secretary's password")
            _ = try await UserRepository(database: harness.database).create(
                username: "secretary01",
                displayName: "",
                role: .viewer,
                branchCode: "b03",
                passwordHash: secretaryHash
            )
            var secretary = Browser(client)
            _ = try await secretary.signIn("secretary01", "the secretary's password")
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/results/{code}/objections",
                    path: publicity + "/results/b03/objections",
                    form: [("body", "本支部的组织评价表漏计了一项加分")],
                    action: "objection.filed",
                    actor: "secretary01",
                    refused: (publicity + "/results/b03/objections", [("body", " ")])
                ),
                as: &secretary
            )
            // The period ends (as the scheduler would stamp it); the round is signed off.
            _ = try await harness.database.query("UPDATE rounds SET publicity_ended_at = now() WHERE id = \(published)")
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/approve",
                    path: publicity + "/approve",
                    form: [("reference", "纪要〔2026〕9号"), ("meeting", "2026-12-20"), ("confirm_open", "yes")],
                    action: "round.approved",
                    refused: (publicity + "/approve", [("reference", "纪要〔2026〕9号"), ("meeting", "2026-12-20")])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/rounds/{id}/reopen-publicity",
                    path: publicity + "/reopen-publicity",
                    form: [("ends", "2099-12-31 18:00"), ("reason", "异议需要重新核实")],
                    action: "round.publicity_reopened",
                    refused: (publicity + "/reopen-publicity", [("ends", "2099-12-31 18:00"), ("reason", " ")])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/calendar",
                    path: "/admin/calendar",
                    form: [("year", "2027"), ("entries", "2027-01-01 休 元旦")],
                    action: "calendar.year_entered",
                    refused: ("/admin/calendar", [("year", "2027"), ("entries", "2027-02-30 休 春节")])
                ),
                as: &admin
            )

            // A branch's qualitative record.
            try await run(
                Step(
                    route: "POST /admin/org/branches/{code}/assessments",
                    path: "/admin/org/branches/b01/assessments",
                    form: [("first_year", "2024"), ("last_year", "2026"), ("level", "good"), ("judgement", "组织生活规范，与业务结合紧密")],
                    action: "assessment.created",
                    refused: ("/admin/org/branches/b01/assessments", [("first_year", "2024"), ("last_year", "2026"), ("level", "good")])
                ),
                as: &admin
            )
            let assessment = try await harness.database.query("SELECT id FROM branch_assessments").first!.decode(UUID.self).uuidString.lowercased()
            try await run(
                Step(
                    route: "POST /admin/org/branches/{code}/assessments/{id}",
                    path: "/admin/org/branches/b01/assessments/\(assessment)",
                    form: [("first_year", "2024"), ("last_year", "2026"), ("level", "fairlyGood"), ("judgement", "组织生活规范")],
                    action: "assessment.changed",
                    refused: (
                        "/admin/org/branches/b01/assessments/\(assessment)", [("first_year", "1999"), ("last_year", "2026"), ("level", "good")]
                    )
                ),
                as: &admin
            )

            // The members' appraisal of b01: created, links handed out, opened, closed, proposed,
            // approved.
            try await run(
                Step(
                    route: "POST /admin/appraisals/new",
                    path: "/admin/appraisals/new",
                    form: [("title", "2026 年度民主评议党员"), ("year", "2026"), ("branches", "b01")],
                    action: "appraisal.created",
                    refused: ("/admin/appraisals/new", [("title", "2026 年度民主评议党员"), ("year", "2026"), ("branches", "zz9")])
                ),
                as: &admin
            )
            let appraisal =
                "/admin/appraisals/" + (try await harness.database.query("SELECT id FROM appraisal_rounds").first!.decode(UUID.self).lowercased)
            let noAppraisal = "/admin/appraisals/\(UUID().uuidString.lowercased())"
            // A round with representatives takes their list as a file, through its own helper.
            walked.insert("POST /admin/appraisals/{id}/representatives")
            try await harness.database.query("UPDATE appraisal_rounds SET config = jsonb_set(config, '{representativesVote}', 'true')")
            let listBefore = try await total()
            #expect(try await admin.uploadRepresentatives(appraisal, "支部编码,姓名\nzz9,代表\n").status == .unprocessableContent)
            #expect(try await total() == listBefore)
            #expect(try await admin.uploadRepresentatives(appraisal, "支部编码,姓名\nb01,代表\n").status == .seeOther)
            #expect(try await count("appraisal.representatives_added", actor: "chief") == 1)
            #expect(try await total() - listBefore == 1)
            for (action, entry) in [("links", "appraisal.links_issued"), ("open", "appraisal.opened"), ("close", "appraisal.closed")] {
                try await run(
                    Step(
                        route: "POST /admin/appraisals/{id}/\(action)",
                        path: "\(appraisal)/\(action)",
                        form: [],
                        action: entry,
                        refused: ("\(noAppraisal)/\(action)", [])
                    ),
                    as: &admin
                )
            }
            let appraised = try await harness.database.query("SELECT member_id FROM appraisal_members").map { try $0.decode(UUID.self).lowercased }
            #expect(!appraised.isEmpty)
            func proposals(_ category: String) -> [(String, String)] {
                [("action", "submit")] + appraised.map { ("category_\($0)", category) }
            }
            try await run(
                Step(
                    route: "POST /admin/appraisals/{id}/branches/{code}",
                    path: appraisal + "/branches/b01",
                    form: proposals("competent"),
                    action: "appraisal.proposals_submitted",
                    // Every member 优秀: over the quota.
                    refused: (appraisal + "/branches/b01", proposals("excellent"))
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/appraisals/{id}/branches/{code}/decision",
                    path: appraisal + "/branches/b01/decision",
                    form: [("decision", "approve")],
                    action: "appraisal.approved",
                    // Returned without a comment.
                    refused: (appraisal + "/branches/b01/decision", [("decision", "return")])
                ),
                as: &admin
            )

            // Tokens and accounts.
            try await run(
                Step(
                    route: "POST /admin/tokens",
                    path: "/admin/tokens",
                    form: [("name", "数据平台")],
                    action: "api.token.created",
                    refused: ("/admin/tokens", [("name", " ")])
                ),
                as: &admin
            )
            let token = try await harness.database.query("SELECT id FROM api_tokens").first!.decode(UUID.self).uuidString.lowercased()
            try await run(
                Step(route: "POST /admin/tokens/{id}/revoke", path: "/admin/tokens/\(token)/revoke", form: [], action: "api.token.revoked"),
                as: &admin
            )
            let revokedAgain = try await total()
            _ = try await admin.post("/admin/tokens/\(token)/revoke", form: [])
            #expect(try await total() == revokedAgain)
            try await run(
                Step(
                    route: "POST /admin/accounts",
                    path: "/admin/accounts",
                    form: [("username", "li.evaluator"), ("role", "evaluator")],
                    action: "user.created",
                    refused: ("/admin/accounts", [("username", "li evaluator!"), ("role", "evaluator")])
                ),
                as: &admin
            )
            // One account for each branch without a secretary's: b01 and b02.
            try await run(
                Step(
                    route: "POST /admin/accounts/secretaries",
                    path: "/admin/accounts/secretaries",
                    form: [("branch", "b01"), ("branch", "b02")],
                    action: "user.created",
                    entries: 2,
                    refused: ("/admin/accounts/secretaries", [])
                ),
                as: &admin
            )
            let account = "/admin/accounts/\(deputy.id.lowercased)"
            try await run(
                Step(
                    route: "POST /admin/accounts/{id}/disable",
                    path: account + "/disable",
                    form: [("confirmed", "yes")],
                    action: "user.disabled",
                    refused: ("/admin/accounts/\(chief.id.lowercased)/disable", [])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/accounts/{id}/enable",
                    path: account + "/enable",
                    form: [],
                    action: "user.enabled",
                    refused: ("/admin/accounts/\(UUID().uuidString.lowercased())/enable", [])
                ),
                as: &admin
            )
            try await run(
                Step(
                    route: "POST /admin/accounts/{id}/reset-password",
                    path: account + "/reset-password",
                    form: [("confirmed", "yes")],
                    action: "user.password_reset",
                    refused: ("/admin/accounts/\(chief.id.lowercased)/reset-password", [])
                ),
                as: &admin
            )
            let newPassword = [("current", "the chief's password"), ("new", "a new long password"), ("confirm", "a new long password")]
            try await run(
                Step(
                    route: "POST /admin/password",
                    path: "/admin/password",
                    form: newPassword,
                    action: "password.changed",
                    refused: ("/admin/password", [("current", "wrong"), ("new", "a new long password"), ("confirm", "a new long password")])
                ),
                as: &admin
            )
            try await run(Step(route: "POST /admin/logout", path: "/admin/logout", form: [], action: "logout"), as: &admin)
            // A failed sign-in is recorded by design (it is what throttling and the log read).
            try await run(
                Step(
                    route: "POST /admin/login",
                    path: "/admin/login",
                    form: [("username", "chief"), ("password", "a new long password")],
                    action: "login",
                    refused: ("/admin/login", [("username", "chief"), ("password", "wrong")]),
                    refusalRecorded: true
                ),
                as: &admin
            )

            let posts = Set(harness.routes.routes.filter { $0.method == .post && $0.path.hasPrefix("/admin") }.map(\.description))
            #expect(posts.subtracting(walked).subtracting(Self.exempt.keys).sorted() == [], "admin POSTs the walk does not take")
            #expect(walked.subtracting(posts).sorted() == [], "steps for routes that do not exist")
        }
    }
}
