import Crypto
import Foundation
import HummingbirdTesting
import Logging
import Testing

@testable import KaopingServer

/// From closing to final: the publicity period (公示) set, started and ended by the scheduler,
/// the public page, objections with receipts and their handling, the sign-off with its hashes,
/// and reopening.
@Suite("Publicity and sign-off", .timeLimit(.minutes(3)))
struct PublicityTests {
    static func quiet() -> Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    /// Four branches answered, then closed, figures worked out by hand (weights members 0.3,
    /// public 0.2, no sheets, renormalised over 0.5):
    /// - b01: 6 members at 96, 12 public at 94 → (28.8 + 18.8) / 0.5 = 95.20, 优秀.
    /// - b02: 4 members at 93 (below k = 5: no breakdown), 12 public at 91 → 92.20, 优秀.
    /// - b03: 6 members at 72, 12 public at 70 → 71.20, 一般.
    /// - b04: 2 members, 5 public: both below their quorum, no grade.
    /// b01's members also left a comment, which no public page may show.
    static func closedRound(_ harness: TestHarness) async throws -> UUID {
        let database = harness.database
        try await database.query(
            "INSERT INTO branches (code, name) VALUES ('b01', '办公室党支部'), ('b02', '财务处党支部'), ('b03', '后勤党支部'), ('b04', '信息中心党支部')"
        )
        try await database.query(
            """
            INSERT INTO members (staff_number, name, branch_id)
            SELECT b.code || '-' || g, '党员' || g, b.id FROM branches b, generate_series(1, 6) g
            WHERE g <= CASE b.code WHEN 'b02' THEN 4 ELSE 6 END
            """
        )
        let logger = quiet()
        let rounds = try harness.roundRepository()
        let id = try await rounds.create(
            RoundSpec(title: "2026 年度支部考评", year: 2026, closesAt: .now + 86400, branches: ["b01", "b02", "b03", "b04"]),
            actor: .commandLine,
            logger: logger
        )
        try await rounds.open(id, actor: .commandLine, logger: logger)
        try await database.query(
            """
            INSERT INTO responses (round_id, branch_id, rater_group, form_version_id, submitted_on, score, satisfied)
            SELECT \(id), b.id, g.rater_group, g.form_version_id, current_date, v.score, CASE WHEN g.rater_group = 'public' THEN true END
            FROM (VALUES ('b01', 'members', 6, 96.0), ('b01', 'public', 12, 94.0), ('b02', 'members', 4, 93.0), ('b02', 'public', 12, 91.0),
                         ('b03', 'members', 6, 72.0), ('b03', 'public', 12, 70.0), ('b04', 'members', 2, 88.0), ('b04', 'public', 5, 88.0))
                 AS v(code, rater_group, n, score)
            JOIN branches b ON b.code = v.code
            JOIN round_groups g ON g.round_id = \(id) AND g.rater_group = v.rater_group
            CROSS JOIN LATERAL generate_series(1, v.n)
            """
        )
        try await database.query(
            """
            INSERT INTO answers (response_id, item_key, text_value)
            SELECT r.id, 'comment', '这条意见只给党委看' FROM responses r JOIN branches b ON b.id = r.branch_id
            WHERE b.code = 'b01' AND r.rater_group = 'members' LIMIT 1
            """
        )
        _ = try await rounds.close(id, actor: .commandLine, logger: logger)
        return id
    }

    static func admin(_ client: any TestClientProtocol, _ harness: TestHarness) async throws -> Browser {
        try await harness.createUser("chief", password: "the chief's password")
        var admin = Browser(client)
        _ = try await admin.signIn("chief", "the chief's password")
        return admin
    }

    static func key(_ harness: TestHarness, _ id: UUID) async throws -> String {
        try await harness.database.query("SELECT publicity_key FROM rounds WHERE id = \(id)").first!.decode(String.self)
    }

    static func inSeconds(_ seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date.now + seconds)
    }

    static func objection(_ branch: String, _ body: String, key: String, name: String = "", phone: String = "") -> [(String, String)] {
        [("branch", branch), ("body", body), ("name", name), ("phone", phone), ("_key", key)]
    }

    /// The published list's table, without the objection form's list of every branch.
    static func table(_ html: String) -> String? {
        guard let start = html.range(of: "<table"), let end = html.range(of: "</table>", range: start.upperBound..<html.endIndex) else { return nil }
        return String(html[start.lowerBound..<end.upperBound])
    }

    static func newKey() -> String { RespondentController.newSubmissionKey() }

    /// A page as a new visitor's browser gets it.
    static func fresh(_ client: any TestClientProtocol) -> Fresh { Fresh(client: client) }

    struct Fresh {
        let client: any TestClientProtocol
        func get(_ path: String) async throws -> Reply {
            var browser = Browser(client)
            return try await browser.get(path)
        }
    }

    @Test func aRoundGoesFromClosedThroughPublicityToSignOffAndBack() async throws {
        try await TestApp.run(configureEnvironment: { $0.schedulerInterval = .milliseconds(200) }) { client, harness in
            let id = try await Self.closedRound(harness)
            var admin = try await Self.admin(client, harness)
            let path = "/admin/rounds/\(id.lowercased)/publicity"

            // Closed, not yet published; the round page leads here.
            #expect(try await admin.get("/admin/rounds/\(id.lowercased)").text.contains("href=\"\(path)\""))
            let before = try await admin.get(path)
            #expect(before.text.contains("已结束答题，尚未公示"))
            #expect(try await admin.get("/admin/rounds/\(id.lowercased)/approve").status == .conflict)

            // An end before the start is refused and nothing is set.
            let backwards = try await admin.post(path, form: [("starts", Self.inSeconds(3600)), ("ends", Self.inSeconds(60)), ("shows", "top")])
            #expect(backwards.status == .unprocessableContent)
            #expect(backwards.text.contains("公示结束时间必须晚于开始时间"))
            #expect(try await harness.count("SELECT count(*)::int FROM rounds WHERE publicity_starts_at IS NOT NULL") == 0)

            // Started now, ending in an hour.
            let set = try await admin.post(path, form: [("starts", ""), ("ends", Self.inSeconds(3600)), ("shows", "top")])
            #expect(set.status == .seeOther)
            #expect(try await harness.database.query("SELECT status FROM rounds WHERE id = \(id)").first!.decode(String.self) == "publicity")
            #expect(
                try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'round.publicity_set' AND details ->> 'started' = 'now'")
                    == 1
            )
            let key = try await Self.key(harness, id)
            #expect(key.count == 32)

            // The public page lists the top grade's branches, b01 and b02, and no one else.
            var phone = Browser(client)
            let page = try await phone.get("/g/\(key)")
            #expect(page.status == .ok)
            #expect(page.text.contains("拟评为“优秀”等次的党支部名单"))
            #expect(page.text.contains("办公室党支部") && page.text.contains("财务处党支部"))
            let table = try #require(Self.table(page.text))
            #expect(table.contains("办公室党支部") && table.contains("财务处党支部"))
            #expect(!table.contains("后勤党支部") && !table.contains("信息中心党支部") && !page.text.contains("95.20"))

            // An objection without text comes back with what was typed and the problem marked.
            let formKey = try #require(page.hidden("_key"))
            let empty = try await phone.post("/g/\(key)", form: Self.objection("b02", "  ", key: formKey, name: "王某"))
            #expect(empty.status == .unprocessableContent)
            #expect(empty.text.contains("请填写异议内容") && empty.text.contains("value=\"王某\""))
            #expect(empty.text.contains("<option value=\"b02\" selected>"))
            #expect(try await harness.count("SELECT count(*)::int FROM objections") == 0)

            // Filed: a receipt, and a link that shows it back, escaped.
            let body = "财务处支部<script>alert(1)</script>的群众评价里有重复提交"
            let filed = try await phone.post("/g/\(key)", form: Self.objection("b02", body, key: formKey))
            #expect(filed.status == .seeOther)
            let statusLink = try #require(filed.location)
            #expect(statusLink.hasPrefix("/o/") && statusLink.hasSuffix("?filed=1"))
            let receipt = try await harness.database.query("SELECT receipt FROM objections").first!.decode(String.self)
            #expect(receipt.range(of: #"^2026-[2-9A-HJKMNP-Z]{6}$"#, options: .regularExpression) != nil)
            let shown = try await phone.get(statusLink)
            #expect(shown.text.contains(receipt) && shown.text.contains("已受理，待核实"))
            #expect(shown.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !shown.text.contains("<script>alert(1)"))
            // The status link's secret is not in the database, only its hash.
            let secret = String(statusLink.dropFirst(3).prefix { $0 != "?" })
            #expect(try await harness.count("SELECT count(*)::int FROM objections WHERE status_key_hash = '\(secret)'") == 0)

            // The same form sent again (its answer lost on the way) stores nothing more and leads
            // to the same status link.
            let again = try await phone.post("/g/\(key)", form: Self.objection("b02", body, key: formKey))
            #expect(again.status == .seeOther && again.location == statusLink)
            #expect(try await harness.count("SELECT count(*)::int FROM objections") == 1)

            // Downloads say they are for public comment, and so does the branch's record.
            let draft = try await admin.get("/admin/rounds/\(id.lowercased)/results.csv")
            #expect((draft.headers[.contentDisposition]?.removingPercentEncoding ?? "").contains("公示稿"))
            let record = "/admin/org/branches/b02/history"
            #expect(try await admin.get(record).text.contains("<span class=\"small\">公示稿</span>"))

            // Sign-off waits for the end of the publicity.
            let early = try await admin.post(
                "/admin/rounds/\(id.lowercased)/approve",
                form: [("reference", "纪要〔2026〕9号"), ("meeting", "2026-12-20")]
            )
            #expect(early.status == .unprocessableContent && early.text.contains("公示期尚未结束"))

            // Its end comes; the scheduler stamps it, once.
            try await harness.database.query("UPDATE rounds SET publicity_ends_at = now() WHERE id = \(id)")
            var ended = false
            for _ in 0..<60 where !ended {
                try await Task.sleep(for: .milliseconds(200))
                ended = try await harness.count("SELECT count(*)::int FROM rounds WHERE publicity_ended_at IS NOT NULL") == 1
            }
            #expect(ended)
            try await Task.sleep(for: .milliseconds(600))
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'round.publicity_ended'") == 1)
            try await Task.sleep(for: .seconds(3))  // the page cache looks again
            let over = try await Self.fresh(client).get("/g/\(key)")
            #expect(over.text.contains("公示期已结束") && !over.text.contains("name=\"body\""))
            var late = Browser(client)
            _ = try await late.get("/g/\(key)")
            #expect(try await late.post("/g/\(key)", form: Self.objection("b01", "晚了", key: Self.newKey())).status == .conflict)
            #expect(try await harness.count("SELECT count(*)::int FROM objections") == 1)

            // The sign-off page lists the open objection and asks before signing over it.
            let ask = try await admin.get("/admin/rounds/\(id.lowercased)/approve")
            #expect(ask.status == .ok && ask.text.contains(receipt) && ask.text.contains("name=\"confirm_open\""))
            let unconfirmed = try await admin.post(
                "/admin/rounds/\(id.lowercased)/approve",
                form: [("reference", "纪要〔2026〕9号"), ("meeting", "2026-12-20")]
            )
            #expect(unconfirmed.status == .unprocessableContent && unconfirmed.text.contains("还有 1 件异议未作结论：\(receipt)"))
            let noReference = try await admin.post(
                "/admin/rounds/\(id.lowercased)/approve",
                form: [("reference", " "), ("meeting", "2026-12-20"), ("confirm_open", "yes")]
            )
            #expect(noReference.status == .unprocessableContent)
            #expect(try await harness.count("SELECT count(*)::int FROM round_approvals") == 0)
            let approved = try await admin.post(
                "/admin/rounds/\(id.lowercased)/approve",
                form: [("reference", "纪要〔2026〕9号"), ("meeting", "2026-12-20"), ("confirm_open", "yes")]
            )
            #expect(approved.status == .seeOther)
            #expect(try await harness.database.query("SELECT status FROM rounds WHERE id = \(id)").first!.decode(String.self) == "approved")

            // The hash is the snapshot's stored text's SHA-256, worked out here independently.
            let snapshot = try await harness.database.query("SELECT results::text FROM result_snapshots WHERE round_id = \(id) AND kind = 'final'")
                .first!.decode(String.self)
            let expected = SHA256.hash(data: Data(snapshot.utf8)).map { String(format: "%02x", $0) }.joined()
            let (hash, open, meeting) = try await harness.database.query(
                "SELECT results_hash, open_objections, meeting_on::text FROM round_approvals WHERE round_id = \(id)"
            ).first!.decode((String, Int, String).self)
            #expect(hash == expected && open == 1 && meeting == "2026-12-20")
            let signed = try await admin.get(path)
            #expect(signed.text.contains("纪要〔2026〕9号") && signed.text.contains(expected))
            try await Task.sleep(for: .seconds(3))  // the page cache looks again
            #expect(try await Self.fresh(client).get("/g/\(key)").text.contains("已经党委审定（纪要〔2026〕9号）"))
            // The workbook is marked 定稿 with the reference, in its name and in a sheet of its own.
            let workbook = try await admin.get("/admin/rounds/\(id.lowercased)/results.xlsx")
            let name = workbook.headers[.contentDisposition]?.removingPercentEncoding ?? ""
            #expect(name.contains("定稿-纪要〔2026〕9号.xlsx"), "\(name)")
            let statusSheet = try #require(try XLSXReader.sheets(Array(workbook.body.readableBytesView)).first { $0.name == "状态" })
            let cells = statusSheet.rows.flatMap(\.cells)
            #expect(cells.contains("纪要〔2026〕9号") && cells.contains("定稿") && cells.contains(expected))
            // The branch's record names the sign-off beside the year.
            let signedRecord = try await admin.get(record).text
            #expect(signedRecord.contains("定稿（纪要〔2026〕9号）") && !signedRecord.contains(">公示稿<"))
            let (_, token) = try await harness.issueToken("组织部数据平台")
            let (_, history) = try await getJSON(client, "/api/v1/branches/b02/history", token: token)
            let year = try #require(((history as? [String: Any])?["years"] as? [[String: Any]])?.last)
            #expect(year["stage"] as? String == "approved" && year["approvalReference"] as? String == "纪要〔2026〕9号")

            // Reopening needs a reason; with one, the sign-off is withdrawn and kept.
            let noReason = try await admin.post(
                "/admin/rounds/\(id.lowercased)/reopen-publicity",
                form: [("ends", Self.inSeconds(3600)), ("reason", "")]
            )
            #expect(noReason.status == .unprocessableContent)
            let reopened = try await admin.post(
                "/admin/rounds/\(id.lowercased)/reopen-publicity",
                form: [("ends", Self.inSeconds(3600)), ("reason", "异议 \(receipt) 需要重新核实")]
            )
            #expect(reopened.status == .seeOther)
            let (status, endedAt) = try await harness.database.query("SELECT status, publicity_ended_at FROM rounds WHERE id = \(id)").first!
                .decode((String, Date?).self)
            #expect(status == "publicity" && endedAt == nil)
            #expect(
                try await harness.count("SELECT count(*)::int FROM round_approvals WHERE withdrawn_at IS NOT NULL AND withdrawn_reason LIKE '异议%'")
                    == 1
            )
            #expect(try await admin.get(path).text.contains("已撤回的定稿"))
            let reopenedRecord = try await admin.get(record).text
            #expect(reopenedRecord.contains(">公示稿<") && !reopenedRecord.contains("定稿（纪要〔2026〕9号）"))
        }
    }

    @Test func thePublicPageNeverShowsWhatTheThresholdHides() async throws {
        try await TestApp.run { client, harness in
            let id = try await Self.closedRound(harness)
            _ = try await harness.services.publicity.publicise(id, shows: .scores, actor: .commandLine, logger: Self.quiet())
            let key = try await Self.key(harness, id)
            let page = try await Self.fresh(client).get("/g/\(key)")
            #expect(page.status == .ok)
            // b01 and b03 with their combined scores; b02's score from 4 members is withheld.
            #expect(page.text.contains("95.20") && page.text.contains("71.20"))
            #expect(!page.text.contains("92.20") && page.text.contains("不公开"))
            // b04 has no grade; no group score, no comment.
            #expect(page.text.contains("信息中心党支部") && page.text.contains("评价人数不足，暂不评定"))
            for hidden in ["96.00", "94.00", "93.00", "91.00", "这条意见只给党委看"] {
                #expect(!page.text.contains(hidden), "\(hidden)")
            }
            // Grades by band, top first: b01 and b02 (优秀) before b03 (一般), before b04.
            let order = ["办公室党支部", "财务处党支部", "后勤党支部", "信息中心党支部"].map { page.text.range(of: $0)!.lowerBound }
            #expect(order == order.sorted())
            // In English too.
            var english = Browser(client)
            english.acceptLanguage = "en"
            let inEnglish = try await english.get("/g/\(key)")
            #expect(inEnglish.text.contains("Proposed grade and combined score of each branch"))
            // A wrong key, and a key of a round not yet started, are nothing.
            #expect(try await Self.fresh(client).get("/g/0123456789abcdef0123456789abcdef").status == .notFound)
        }
    }

    @Test func aScheduledPublicityStartsOnceWhateverTheNumberOfInstances() async throws {
        try await TestApp.run { client, harness in
            let id = try await Self.closedRound(harness)
            let publicity = harness.services.publicity
            let scheduled = try await publicity.publicise(
                id,
                startsAt: .now + 3600,
                endsAt: .now + 7200,
                shows: .grades,
                actor: .commandLine,
                logger: Self.quiet()
            )
            #expect(scheduled.stage == .scheduled)
            #expect(try await Self.fresh(client).get("/g/\(scheduled.key!)").status == .notFound)
            try await harness.database.query("UPDATE rounds SET publicity_starts_at = now() - interval '1 second' WHERE id = \(id)")
            // Eight schedulers at once, as eight instances would run them (the test server's own
            // scheduler may be a ninth, and get there first).
            let started = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 { group.addTask { try await publicity.runDue(logger: Self.quiet()).started.count } }
                return try await group.reduce(0, +)
            }
            #expect(started <= 1)
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'round.publicity_started'") == 1)
            #expect(try await publicity.state(id)?.stage == .running)
        }
    }

    @Test func aSecretaryObjectsFromTheBranchReportAndReadsTheAnswerThere() async throws {
        try await TestApp.run { client, harness in
            let id = try await Self.closedRound(harness)
            let hash = try await TestApp.hasher.hash("a secretary's password")
            let users = UserRepository(database: harness.database)
            _ = try await users.create(username: "sec.b01", displayName: "", role: .viewer, branchCode: "b01", passwordHash: hash)
            _ = try await users.create(username: "sec.b02", displayName: "", role: .viewer, branchCode: "b02", passwordHash: hash)
            var secretary = Browser(client)
            _ = try await secretary.signIn("sec.b01", "a secretary's password")
            let report = "/admin/rounds/\(id.lowercased)/results/b01"
            // Closed and not yet published: the report says its figures are proposed, and takes no objection.
            let proposed = try await secretary.get(report)
            #expect(proposed.text.contains("拟定稿：轮次已结束，结果尚未公示") && !proposed.text.contains("/objections\""))
            let published = try await harness.services.publicity.publicise(id, shows: .top, actor: .commandLine, logger: Self.quiet())
            let page = try await secretary.get(report)
            #expect(page.status == .ok && page.text.contains("action=\"\(report)/objections\""))
            let period = "公示稿：公示期 \(ChinaTime.format(try #require(published.startsAt))) 至 \(ChinaTime.format(try #require(published.endsAt)))"
            #expect(page.text.contains(period), "\(period)")
            let filed = try await secretary.post(
                report + "/objections",
                form: [("body", "本支部组织评价漏计加分"), ("_key", try #require(page.hidden("_key")))]
            )
            #expect(filed.status == .seeOther)
            let receipt = try await harness.database.query("SELECT receipt FROM objections").first!.decode(String.self)
            #expect(filed.location == report + "?objection=" + receipt.replacingOccurrences(of: "-", with: "%2D"))
            // Filed under the secretary's account, not anonymous.
            #expect(
                try await harness.count("SELECT count(*)::int FROM objections o JOIN users u ON u.id = o.filed_by WHERE u.username = 'sec.b01'") == 1
            )
            let objection = try await harness.database.query("SELECT id FROM objections").first!.decode(UUID.self)
            try await harness.services.objections.reply(objection, text: "已核实，加分已计入。", actor: .commandLine, logger: Self.quiet())
            let after = try await secretary.get(report)
            #expect(after.text.contains(receipt) && after.text.contains("已核实，加分已计入。"))
            // Another branch's secretary can neither object for b01 nor read its report.
            var other = Browser(client)
            _ = try await other.signIn("sec.b02", "a secretary's password")
            #expect(try await other.post(report + "/objections", form: [("body", "代为提出")]).status == .forbidden)
            #expect(try await harness.count("SELECT count(*)::int FROM objections") == 1)

            // Signed off, the secretary's report is the results notice (通报) with the meeting's reference.
            try await harness.database.query("UPDATE rounds SET publicity_ended_at = now() WHERE id = \(id)")
            let ended = try await secretary.get(report)
            #expect(ended.text.contains("公示稿：公示期已于") && ended.text.contains("结束，待党委审定"))
            try await harness.services.publicity.approve(
                id,
                reference: "纪要〔2026〕7号",
                meetingOn: "2026-12-21",
                confirmingOpenObjections: true,
                actor: .commandLine,
                logger: Self.quiet()
            )
            let notice = try await secretary.get(report)
            #expect(notice.text.contains("定稿（结果通报）：经党委审定，纪要〔2026〕7号，2026-12-21 会议。"))
            #expect(!notice.text.contains("公示稿"))
        }
    }
}
