import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KaopingAggregation
import Logging
import Testing

@testable import KaopingServer

/// The members' appraisal driven over HTTP as its people use it: the office creates and opens a
/// round and hands out links, members write self-assessments and vote on a phone, the vote
/// closes, the branch's secretary proposes categories under the checks, an administrator
/// approves, and each member reads their own result.
extension Browser {
    /// Uploads a list of representatives on an appraisal round's page.
    mutating func uploadRepresentatives(_ page: String, _ csv: String) async throws -> Reply {
        let token = try await currentCSRFToken()
        let boundary = "----kaoping\(UUID().uuidString.prefix(8))"
        let body = multipartBody([("_csrf", Array(token.utf8), nil), ("file", Array(csv.utf8), "representatives.csv")], boundary: boundary)
        return try await send(
            page + "/representatives",
            method: .post,
            headers: [.contentType: "multipart/form-data; boundary=\(boundary)"],
            body: body
        )
    }
}

@Suite("Members' appraisal", .timeLimit(.minutes(3)))
struct AppraisalRoundTests {
    /// A branch with `count` active members, staff numbers `<code>-01`…, names `<name>01`….
    static func branch(_ harness: TestHarness, code: String, members count: Int, group: (Int) -> String? = { _ in nil }) async throws {
        let branch = try await harness.database.query("INSERT INTO branches (code, name) VALUES (\(code), \(code + "党支部")) RETURNING id").first!
            .decode(UUID.self)
        for index in 1...count {
            let staff = "\(code)-\(String(format: "%02d", index))"
            try await harness.database.query(
                "INSERT INTO members (staff_number, name, branch_id, party_group) VALUES (\(staff), \("党员\(code)\(String(format: "%02d", index))"), \(branch), \(group(index)))"
            )
        }
    }

    /// A viewer (branch secretary) account of the branch.
    static func secretary(_ harness: TestHarness, of code: String) async throws {
        let hash = try await TestApp.hasher.hash("secretary password")
        _ = try await UserRepository(database: harness.database).create(
            username: "sec-\(code)",
            displayName: "",
            role: .viewer,
            branchCode: code,
            passwordHash: hash
        )
    }

    /// Every live link of the round, by the member's staff number (representatives by name).
    static func links(_ harness: TestHarness, _ round: UUID) async throws -> [String: String] {
        var links: [String: String] = [:]
        for link in try await harness.services.appraisals.repository.links(round) {
            links[link.isRepresentative ? link.name : link.staffNumber] = "/a/\(link.token)"
        }
        return links
    }

    /// The member ids of a branch, by staff number.
    static func members(_ harness: TestHarness, code: String) async throws -> [String: UUID] {
        var ids: [String: UUID] = [:]
        for row in try await harness.database.query(
            "SELECT m.staff_number, m.id FROM members m JOIN branches b ON b.id = m.branch_id WHERE b.code = \(code)"
        ) {
            let (staff, id) = try row.decode((String, UUID).self)
            ids[staff] = id
        }
        return ids
    }

    /// Votes through a link as a phone does: opens the ballot page, chooses for every row by
    /// the rule given (by the row's member's staff number), sends it.
    static func vote(_ browser: inout Browser, _ link: String, ids: [String: UUID], choose: (String) -> String?) async throws -> Reply {
        let page = try await browser.get(link + "/ballot")
        #expect(page.status == .ok)
        let key = try #require(page.hidden("_key"))
        var form: [(String, String)] = [("_key", key)]
        for (staff, id) in ids.sorted(by: { $0.key < $1.key }) where page.text.contains("name=\"m_\(id.lowercased)\"") {
            if let choice = choose(staff) { form.append(("m_\(id.lowercased)", choice)) }
        }
        return try await browser.post(link + "/ballot", form: form)
    }

    @Test func aBranchVotesProposesUnderTheChecksAndEachMemberReadsTheirOwnResult() async throws {
        try await TestApp.run { client, harness in
            // Ten members in b01 (one will leave while the round runs), three in b02.
            try await Self.branch(harness, code: "b01", members: 10)
            try await Self.branch(harness, code: "b02", members: 3)
            try await harness.createUser("chief", password: "the chief's password")
            try await Self.secretary(harness, of: "b01")
            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")

            // The office creates the round on its page: k = 3, the standard categories.
            let bad = try await admin.post("/admin/appraisals/new", form: [("title", "2026 年度民主评议党员"), ("year", "2026"), ("quota", "1/0")])
            #expect(bad.status == .unprocessableContent)
            #expect(bad.text.contains("1/0") && bad.text.contains("2026 年度民主评议党员"))
            let created = try await admin.post(
                "/admin/appraisals/new",
                form: [("title", "2026 年度民主评议党员"), ("year", "2026"), ("quota", "1/3"), ("threshold", "3"), ("branches", "b01 b02")]
            )
            #expect(created.status == .seeOther)
            let roundPath = try #require(created.location)
            let round = try #require(UUID(uuidString: String(roundPath.split(separator: "/").last!)))
            #expect(try await admin.post(roundPath + "/open", form: []).status == .seeOther)
            let issued = try await admin.post(roundPath + "/links", form: [])
            #expect(issued.location == roundPath + "?issued=13")
            #expect(try await admin.get(try #require(issued.location)).text.contains("已生成 13 个测评链接"))
            let links = try await Self.links(harness, round)
            let b01 = try await Self.members(harness, code: "b01")

            // b01-10 leaves the office: its link dies and it leaves every roster.
            try await harness.database.query("UPDATE members SET active = false WHERE staff_number = 'b01-10'")
            var leaver = Browser(client)
            #expect(try await leaver.get(try #require(links["b01-10"])).status == .notFound)

            // b01-01 writes a self-assessment; the roster lists the eight others, not b01-01.
            var first = Browser(client)
            let start = try await first.get(try #require(links["b01-01"]))
            #expect(start.status == .ok && start.text.contains("党员b0101") && start.text.contains("个人自评"))
            #expect(start.headers[.cacheControl] == "no-store")
            let empty = try await first.post(links["b01-01"]! + "/self-assessment", form: [("text", "  ")])
            #expect(empty.status == .unprocessableContent)
            let saved = try await first.post(links["b01-01"]! + "/self-assessment", form: [("text", "一年来认真履行党员义务。")])
            #expect(saved.location == links["b01-01"]! + "?done=self")
            let ballot = try await first.get(links["b01-01"]! + "/ballot")
            let rows = ballot.text.components(separatedBy: "<fieldset class=\"roster-row").count - 1
            #expect(rows == 8)
            #expect(!ballot.text.contains("党员b0101<") && !ballot.text.contains("党员b0110") && ballot.text.contains("党员b0102"))

            // A ballot with a row missing comes back with the choices kept and the row marked.
            let key = try #require(ballot.hidden("_key"))
            var partial: [(String, String)] = [("_key", key)]
            for staff in ["b01-02", "b01-03", "b01-04", "b01-05", "b01-06", "b01-07", "b01-08"] {
                partial.append(("m_\(b01[staff]!.lowercased)", "competent"))
            }
            let incomplete = try await first.post(links["b01-01"]! + "/ballot", form: partial)
            #expect(incomplete.status == .unprocessableContent)
            #expect(incomplete.text.contains("还有 1 名党员没有选择等次"))
            #expect(incomplete.text.components(separatedBy: "value=\"competent\" checked").count - 1 == 7)
            #expect(incomplete.hidden("_key") == key)
            // Choosing for someone off the roster (the voter themself) is no ballot.
            let ownRow = try await first.post(
                links["b01-01"]! + "/ballot",
                form: partial + [("m_\(b01["b01-09"]!.lowercased)", "competent"), ("m_\(b01["b01-01"]!.lowercased)", "excellent")]
            )
            #expect(ownRow.status == .badRequest)
            // Complete, sent twice (a double click): cast once.
            let whole = partial + [("m_\(b01["b01-09"]!.lowercased)", "basic")]
            #expect(try await first.post(links["b01-01"]! + "/ballot", form: whole).status == .seeOther)
            #expect(try await first.post(links["b01-01"]! + "/ballot", form: whole).status == .seeOther)
            #expect(try await harness.count("SELECT count(*)::int FROM appraisal_ballot_box") == 1)
            #expect(try await first.get(links["b01-01"]! + "/ballot").text.contains("已经提交过测评票"))

            // The other eight vote. The votes are lopsided on purpose, each member's different:
            // b01-02 gets 优秀 from all but b01-01; b01-03 a tie of 优秀 and 合格 (4–4 among the
            // eight voters other than itself: ties go to 合格); b01-09 mostly 不合格.
            for voter in 2...9 {
                let staff = "b01-0\(voter)"
                var browser = Browser(client)
                let reply = try await Self.vote(&browser, try #require(links[staff]), ids: b01) { subject in
                    switch subject {
                    case "b01-02": "excellent"
                    case "b01-03": voter <= 6 ? "excellent" : "competent"
                    case "b01-09": voter == 2 ? "abstain" : "incompetent"
                    default: "competent"
                    }
                }
                #expect(reply.status == .seeOther, "\(staff)")
            }

            // b02's three vote; each member there gets two votes, below k = 3.
            let b02 = try await Self.members(harness, code: "b02")
            for staff in ["b02-01", "b02-02", "b02-03"] {
                var browser = Browser(client)
                #expect(try await Self.vote(&browser, try #require(links[staff]), ids: b02) { _ in "excellent" }.status == .seeOther)
            }

            // The secretary cannot propose while the vote is open; the administrator closes it.
            #expect(try await admin.post(roundPath + "/close", form: []).status == .seeOther)
            #expect(try await harness.count("SELECT count(*)::int FROM appraisal_ballot_box") == 0)
            // The counts: b01-02 has 7 votes 优秀 (b01-01 chose 合格); b01-03 4 and 4; b01-09 six
            // 不合格, b01-01's 基本合格 and one not able to judge.
            func votes(_ staff: String, _ category: String) async throws -> Int {
                try await harness.count(
                    "SELECT coalesce(sum(votes), 0)::int FROM appraisal_votes v JOIN members m ON m.id = v.member_id WHERE m.staff_number = '\(staff)' AND category = '\(category)'"
                )
            }
            #expect(try await votes("b01-02", "excellent") == 7)
            #expect(try await votes("b01-03", "excellent") == 4)
            #expect(try await votes("b01-03", "competent") == 4)
            #expect(try await votes("b01-09", "incompetent") == 6)
            #expect(try await votes("b01-09", "abstain") == 1)
            #expect(try await votes("b01-09", "basic") == 1)
            #expect(try await votes("b01-10", "competent") == 0)

            // The secretary of b01 sees b01's tallies and self-assessments, not b02's.
            var secretary = Browser(client)
            _ = try await secretary.signIn("sec-b01", "secretary password")
            let book = try await secretary.get(roundPath + "/branches/b01")
            #expect(book.status == .ok)
            #expect(book.text.contains("一年来认真履行党员义务。"))
            #expect(book.text.contains("本支部参评党员 9 名，“优秀”最多 3 名"))
            // The tie shows 合格 as most voted for b01-03.
            let row03 = try #require(book.text.range(of: "党员b0103"))
            let suggested03 = try #require(book.text[row03.upperBound...].range(of: "得票最多的等次"))
            #expect(book.text[suggested03.upperBound...].prefix(40).contains("合格") && !book.text[suggested03.upperBound...].prefix(40).contains("优秀"))
            #expect(try await secretary.get(roundPath + "/branches/b02").status == .forbidden)
            #expect(try await secretary.post(roundPath + "/branches/b02", form: [("action", "save")]).status == .forbidden)
            #expect(try await secretary.get(roundPath).status == .forbidden)

            // Proposals: a fourth 优秀 among nine is refused, nothing stored or sent.
            func form(
                _ categories: [String: String],
                notes: [String: String] = [:],
                explanations: [String: String] = [:],
                action: String
            ) -> [(String, String)] {
                var fields: [(String, String)] = [("action", action)]
                for (staff, id) in b01 where staff != "b01-10" {
                    fields.append(("category_\(id.lowercased)", categories[staff] ?? "competent"))
                    fields.append(("note_\(id.lowercased)", notes[staff] ?? ""))
                    fields.append(("explanation_\(id.lowercased)", explanations[staff] ?? ""))
                }
                return fields
            }
            let four = ["b01-02": "excellent", "b01-03": "excellent", "b01-04": "excellent", "b01-05": "excellent"]
            let overQuota = try await secretary.post(roundPath + "/branches/b01", form: form(four, action: "submit"))
            #expect(overQuota.status == .unprocessableContent)
            #expect(overQuota.text.contains("“优秀”最多 3 名，现在拟定了 4 名"))
            #expect(try await harness.count("SELECT count(*)::int FROM appraisal_proposals") == 0)
            #expect(try await harness.count("SELECT count(*)::int FROM appraisal_branches WHERE review <> 'pending'") == 0)

            // Three 优秀; b01-09 不合格 without a reason is refused; with one, accepted (the vote
            // agrees). b01-04 优秀 has no 优秀 votes: flagged, explanation required.
            let three = ["b01-02": "excellent", "b01-03": "excellent", "b01-04": "excellent", "b01-09": "incompetent"]
            let noReason = try await secretary.post(roundPath + "/branches/b01", form: form(three, action: "submit"))
            #expect(noReason.status == .unprocessableContent)
            #expect(noReason.text.contains("须写明理由"))
            #expect(noReason.text.contains("拟定等次与测评结果差距较大"))
            #expect(noReason.text.contains("拟评“优秀”，但“优秀”票只占 0%"))
            let reasons = ["b01-09": "全年无故不参加组织生活"]
            #expect(try await secretary.post(roundPath + "/branches/b01", form: form(three, notes: reasons, action: "save")).status == .seeOther)
            #expect(try await harness.count("SELECT count(*)::int FROM appraisal_proposals") == 9)
            let submitted = try await secretary.post(
                roundPath + "/branches/b01",
                form: form(three, notes: reasons.merging(["b01-02": "表现突出"]) { $1 }, explanations: ["b01-04": "年内获省级表彰"], action: "submit")
            )
            #expect(submitted.status == .seeOther, "\(submitted.text.firstMatch(of: /error-summary[\s\S]{0,600}/).map { String($0.0) } ?? "")")
            #expect(try await harness.count("SELECT count(*)::int FROM appraisal_branches WHERE review = 'submitted'") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM appraisal_proposals WHERE flags = '{top_without_half}'") == 1)
            // The secretary cannot approve their own branch.
            #expect(try await secretary.post(roundPath + "/branches/b01/decision", form: [("decision", "approve")]).status == .forbidden)

            // Before approval the member's link shows no result.
            var second = Browser(client)
            #expect(!(try await second.get(links["b01-02"]!).text.contains("评定结果")))
            // The administrator sees the flags and the explanation, returns without a comment
            // (refused), then approves.
            let review = try await admin.get(roundPath + "/branches/b01")
            #expect(review.text.contains("年内获省级表彰") && review.text.contains("拟评优秀但优秀票不足一半"))
            #expect(try await admin.post(roundPath + "/branches/b01/decision", form: [("decision", "return")]).status == .unprocessableContent)
            #expect(try await admin.post(roundPath + "/branches/b01/decision", form: [("decision", "approve")]).location?.contains("decided") == true)

            // Each member reads their own category and note, and nothing of anyone else's.
            let own = try await second.get(links["b01-02"]!)
            #expect(own.text.contains("评定结果") && own.text.contains("优秀") && own.text.contains("表现突出"))
            var ninthBrowser = Browser(client)
            let ninth = try await ninthBrowser.get(links["b01-09"]!)
            #expect(ninth.text.contains("不合格") && ninth.text.contains("全年无故不参加组织生活") && !ninth.text.contains("表现突出"))
            // b02 is not approved: its members read nothing yet.
            var otherBranch = Browser(client)
            #expect(!(try await otherBranch.get(links["b02-01"]!).text.contains("评定结果")))

            // The party committee's workbook: every member of both branches with the tally and
            // the category; b01's summary counts 3 优秀, 5 合格, 1 不合格 and the leaver apart.
            let workbook = try await admin.get(roundPath + "/results.xlsx")
            #expect(workbook.status == .ok && workbook.headers[.contentDisposition]?.contains("appraisal-workbook.xlsx") == true)
            let sheets = try XLSXReader.sheets(Array(buffer: workbook.body))
            #expect(sheets.map(\.name) == ["支部汇总", "党员等次"])
            let summary = sheets[0].rows.map(\.cells)
            #expect(summary[0] == ["支部编码", "支部名称", "参评党员", "优秀", "合格", "基本合格", "不合格", "未评定", "组织评定"])
            #expect(summary[1] == ["b01", "b01党支部", "9", "3", "5", "0", "1", "0", "党委已审定"])
            #expect(summary[2] == ["b02", "b02党支部", "3", "0", "0", "0", "0", "3", "待组织评定"])
            let memberRows = sheets[1].rows.map(\.cells)
            #expect(memberRows.count == 1 + 10 + 3)
            let header = memberRows[0]
            func cell(_ staff: String, _ column: String) throws -> String {
                let row = try #require(memberRows.first { $0.count > 2 && $0[2] == staff })
                let index = try #require(header.firstIndex(of: column))
                return index < row.count ? row[index] : ""
            }
            let expected: [(String, String, String)] = [
                ("b01-02", "优秀", "7"), ("b01-02", "合格", "1"), ("b01-02", "拟定等次", "优秀"), ("b01-03", "得票最多", "合格"),
                ("b01-04", "提示", "拟评优秀但优秀票不足一半"), ("b01-09", "不合格", "6"), ("b01-09", "无法评价", "1"),
                ("b01-09", "支部意见", "全年无故不参加组织生活"), ("b01-10", "状态", "中途离开"),
                // b02's members had two votes each, below k = 3: counted, not shown.
                ("b02-01", "有效票数", "2"), ("b02-01", "优秀", ""), ("b02-01", "得票最多", "票数少于匿名阈值，不显示"),
            ]
            for (staff, column, value) in expected {
                #expect(try cell(staff, column) == value, "\(staff) \(column)")
            }
            let csv = try await admin.get(roundPath + "/members.csv")
            #expect(csv.text.hasPrefix("\u{FEFF}支部编码,支部名称,工号,姓名,党小组,状态,有效票数,优秀,合格,基本合格,不合格,无法评价,得票最多"))
            #expect(try await admin.get(roundPath + "/summary.csv").text.contains("b01,b01党支部,9,3,5,0,1,0,党委已审定"))
            #expect(try await secretary.get(roundPath + "/results.xlsx").status == .forbidden)

            // The API gives the same to a token given the appraisals scope, and to no other.
            let (_, reading) = try await harness.issueToken("人事系统", scope: .read)
            let (_, appraising) = try await harness.issueToken("党员管理系统", scope: .appraisals)
            let api = "/api/v1/appraisals/\(round.lowercased)/results"
            let refused = try await client.execute(uri: api, method: .get, headers: [.authorization: "Bearer \(reading)"], body: nil)
            #expect(refused.status == .forbidden && String(buffer: refused.body).contains("民主评议"))
            let answered = try await client.execute(uri: api, method: .get, headers: [.authorization: "Bearer \(appraising)"], body: nil)
            #expect(answered.status == .ok)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(buffer: answered.body)) as? [String: Any])
            let apiBranches = try #require(document["branches"] as? [[String: Any]])
            #expect(apiBranches.map { $0["code"] as? String } == ["b01", "b02"])
            #expect(apiBranches[0]["review"] as? String == "approved")
            #expect(apiBranches[0]["counts"] as? [String: Int] == ["excellent": 3, "competent": 5, "basic": 0, "incompetent": 1])
            let apiMembers = try #require(apiBranches[0]["members"] as? [[String: Any]])
            let apiSecond = try #require(apiMembers.first { $0["staffNumber"] as? String == "b01-02" })
            let secondVotes = try #require(apiSecond["votes"] as? [String: Any])
            #expect(apiSecond["category"] as? String == "excellent" && secondVotes["cast"] as? Int == 8)
            #expect((secondVotes["byCategory"] as? [String: Int])?["excellent"] == 7)
            let small = try #require((apiBranches[1]["members"] as? [[String: Any]])?.first)
            let smallVotes = try #require(small["votes"] as? [String: Any])
            #expect(smallVotes["withheld"] as? Bool == true && smallVotes["byCategory"] == nil && smallVotes["cast"] as? Int == 2)

            // The branch's record over the years counts its members per category, never who;
            // b02, not approved, has no line.
            let record = try await secretary.get("/admin/org/branches/b01/history")
            #expect(record.text.contains("2026 年度民主评议党员</td><td>优秀 3 名；合格 5 名；基本合格 0 名；不合格 1 名"))
            #expect(!record.text.contains("党员b0102"))
            #expect(!(try await admin.get("/admin/org/branches/b02/history").text.contains("各等次人数")))

            // Audit: the office's steps, none of a member's.
            let actions = try await harness.database.query("SELECT action FROM audit_log WHERE action LIKE 'appraisal.%' ORDER BY id").map {
                try $0.decode(String.self)
            }
            #expect(
                actions == [
                    "appraisal.created", "appraisal.opened", "appraisal.links_issued", "appraisal.closed", "appraisal.proposals_saved",
                    "appraisal.proposals_submitted", "appraisal.approved",
                ]
            )
        }
    }

    @Test func aSmallBranchHasOneExcellentPlaceAndTalliesBelowKStayHidden() async throws {
        try await TestApp.run { client, harness in
            try await Self.branch(harness, code: "s01", members: 3)
            try await harness.createUser("chief", password: "the chief's password")
            let services = harness.services
            let id = try await services.appraisals.create(
                AppraisalSpec(title: "评议", year: 2026, branches: ["s01"], settings: .init(anonymityThreshold: 3)),
                actor: .commandLine,
                logger: TestApp.logger
            )
            try await services.appraisals.open(id, actor: .commandLine, logger: TestApp.logger)
            _ = try await services.appraisals.issueLinks(id, actor: .commandLine, logger: TestApp.logger)
            let links = try await Self.links(harness, id)
            let ids = try await Self.members(harness, code: "s01")
            for staff in ["s01-01", "s01-02", "s01-03"] {
                var browser = Browser(client)
                #expect(try await Self.vote(&browser, links[staff]!, ids: ids) { _ in "excellent" }.status == .seeOther)
            }
            try await services.appraisals.close(id, actor: .commandLine, logger: TestApp.logger)
            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")
            let page = try await admin.get("/admin/appraisals/\(id.lowercased)/branches/s01")
            // Two votes each, below k = 3: no counts, no most voted.
            #expect(page.text.components(separatedBy: "收到的票数少于匿名阈值").count - 1 == 3)
            #expect(!page.text.contains("得票最多的等次"))
            func form(_ excellent: Int) -> [(String, String)] {
                [("action", "submit")]
                    + ids.sorted { $0.key < $1.key }.enumerated().map { index, member in
                        ("category_\(member.value.lowercased)", index < excellent ? "excellent" : "competent")
                    }
            }
            let two = try await admin.post("/admin/appraisals/\(id.lowercased)/branches/s01", form: form(2))
            #expect(two.status == .unprocessableContent && two.text.contains("“优秀”最多 1 名，现在拟定了 2 名"))
            // One is within the quota, and with the vote hidden nothing is flagged.
            #expect(try await admin.post("/admin/appraisals/\(id.lowercased)/branches/s01", form: form(1)).status == .seeOther)
            #expect(try await harness.count("SELECT count(*)::int FROM appraisal_proposals WHERE flags <> '{}'") == 0)
        }
    }

    @Test func aRepresentativeVotesButHasNoSelfAssessmentAndTheSplitNeedsKInEachGroup() async throws {
        try await TestApp.run { client, harness in
            let services = harness.services
            var (id, admin, page) = try await Self.roundWithRepresentatives(client, harness, code: "r01")
            // The list comes as a file through the round's page: a bad row refuses it whole.
            let bad = try await admin.uploadRepresentatives(page, "支部编码,姓名\nr01,群众代表1\nr99,群众代表2\n")
            #expect(bad.status == .unprocessableContent && bad.text.contains("第 3 行"))
            #expect(try await harness.count("SELECT count(*)::int FROM appraisal_representatives") == 0)
            let added = try await admin.uploadRepresentatives(page, "支部编码,姓名,手机\nr01,群众代表1,13800000001\nr01,群众代表2,\n")
            #expect(added.location == page + "?added=2&listed=2")
            // The same list again adds nobody.
            #expect(try await admin.uploadRepresentatives(page, "支部编码,姓名\nr01,群众代表1\n").location == page + "?added=0&listed=1")
            try await services.appraisals.open(id, actor: .commandLine, logger: TestApp.logger)
            #expect(try await services.appraisals.issueLinks(id, actor: .commandLine, logger: TestApp.logger) == 6)
            let links = try await Self.links(harness, id)
            let ids = try await Self.members(harness, code: "r01")
            var representative = Browser(client)
            let start = try await representative.get(links["群众代表1"]!)
            #expect(start.status == .ok && !start.text.contains("填写自评"))
            #expect(try await representative.get(links["群众代表1"]! + "/self-assessment").status == .notFound)
            #expect(try await representative.post(links["群众代表1"]! + "/self-assessment", form: [("text", "x")]).status == .notFound)
            // The representative's roster is the branch's four members.
            let ballot = try await representative.get(links["群众代表1"]! + "/ballot")
            #expect(ballot.text.components(separatedBy: "<fieldset class=\"roster-row").count - 1 == 4)
            for name in ["群众代表1", "群众代表2", "r01-01", "r01-02", "r01-03", "r01-04"] {
                var browser = Browser(client)
                #expect(try await Self.vote(&browser, links[name]!, ids: ids) { _ in "competent" }.status == .seeOther)
            }
            try await services.appraisals.close(id, actor: .commandLine, logger: TestApp.logger)
            let round = try #require(try await services.appraisals.repository.round(id))
            let tallies = try await services.appraisals.repository.tallies(id, settings: round.settings)
            // Each member: 3 members' votes and 2 representatives': shown (5 ≥ 3), split not (2 < 3).
            for member in ids.values {
                let tally = try #require(tallies[member])
                #expect(tally.cast(by: .members) == 3 && tally.cast(by: .representatives) == 2)
                #expect(tally.isShown(threshold: 3) && !tally.isSplitShown(threshold: 3))
            }
            #expect(try await harness.count("SELECT count(*)::int FROM appraisal_self_assessments") == 0)
            // Nowhere is the split told: the page has the all-voters line alone, the file's
            // group columns are empty, the API has no byGroup.
            let book = try await admin.get(page + "/branches/r01")
            #expect(Self.tallyLines(book.text, staff: "r01-01") == ["全部": [0, 5, 0, 0, 0]])
            let csv = try await admin.get(page + "/members.csv").text
            #expect(csv.contains("不合格,无法评价,党员·优秀,党员·合格,党员·基本合格,党员·不合格,党员·无法评价,群众代表·优秀,"))
            #expect(csv.contains(",5,0,5,0,0,0" + String(repeating: ",", count: 11) + "合格,"))
            let votes = try await Self.apiVotes(client, harness, round: id, staff: "r01-01")
            #expect(votes["byCategory"] as? [String: Int] == ["excellent": 0, "competent": 5, "basic": 0, "incompetent": 0, "abstain": 0])
            #expect(votes["byGroup"] == nil)
        }
    }

    /// A branch of four members in a round where representatives vote (k = 3), and an
    /// administrator signed in on the round's page.
    static func roundWithRepresentatives(
        _ client: any TestClientProtocol,
        _ harness: TestHarness,
        code: String
    ) async throws -> (id: UUID, admin: Browser, page: String) {
        try await branch(harness, code: code, members: 4)
        let id = try await harness.services.appraisals.create(
            AppraisalSpec(title: "评议", year: 2026, branches: [code], settings: .init(representativesVote: true, anonymityThreshold: 3)),
            actor: .commandLine,
            logger: TestApp.logger
        )
        try await harness.createUser("chief", password: "the chief's password")
        var admin = Browser(client)
        _ = try await admin.signIn("chief", "the chief's password")
        return (id, admin, "/admin/appraisals/\(id.lowercased)")
    }

    /// The lines of a member's tally table on the committee page: the voters' label and the
    /// counts per category, then not able to judge.
    static func tallyLines(_ html: String, staff: String) -> [String: [Int]] {
        guard let start = html.range(of: "id=\"m-\(staff)\"") else { return [:] }
        let fieldset = html[start.upperBound...]
        let end = fieldset.range(of: "</fieldset>")?.lowerBound ?? fieldset.endIndex
        var lines: [String: [Int]] = [:]
        for line in fieldset[..<end].components(separatedBy: "<tr><th scope=\"row\">").dropFirst() {
            let label = String(line.prefix { $0 != "<" })
            let cells = line.components(separatedBy: "<td class=\"num\">").dropFirst()
            lines[label] = cells.compactMap { Int($0.prefix { $0.isNumber }) }
        }
        return lines
    }

    /// A member's `votes` object from the results API, read with a token given the appraisals scope.
    static func apiVotes(_ client: any TestClientProtocol, _ harness: TestHarness, round: UUID, staff: String) async throws -> [String: Any] {
        let (_, token) = try await harness.issueToken("党员管理系统 \(UUID().uuidString.prefix(6))", scope: .appraisals)
        let answer = try await client.execute(
            uri: "/api/v1/appraisals/\(round.lowercased)/results",
            method: .get,
            headers: [.authorization: "Bearer \(token)"],
            body: nil
        )
        let document = try #require(try JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any])
        let branches = try #require(document["branches"] as? [[String: Any]])
        let members = branches.flatMap { $0["members"] as? [[String: Any]] ?? [] }
        let member = try #require(members.first { $0["staffNumber"] as? String == staff })
        return try #require(member["votes"] as? [String: Any])
    }

    @Test func withKRepresentativesEachGroupsVotesAreToldApartAndWithOneFewerTheyAreNot() async throws {
        try await TestApp.run { client, harness in
            let services = harness.services
            var (id, admin, page) = try await Self.roundWithRepresentatives(client, harness, code: "r02")
            let list = "支部编码,姓名\nr02,代表甲\nr02,代表乙\nr02,代表丙\n"
            #expect(try await admin.uploadRepresentatives(page, list).location == page + "?added=3&listed=3")
            try await services.appraisals.open(id, actor: .commandLine, logger: TestApp.logger)
            _ = try await services.appraisals.issueLinks(id, actor: .commandLine, logger: TestApp.logger)
            let links = try await Self.links(harness, id)
            let ids = try await Self.members(harness, code: "r02")
            // Members find everyone 合格; the representatives 优秀, except that 代表丙 cannot
            // judge r02-01 and finds r02-03 不合格. So r02-01 has two representatives' votes
            // (k − 1) and r02-02 three (k).
            for staff in ["r02-01", "r02-02", "r02-03", "r02-04"] {
                var browser = Browser(client)
                #expect(try await Self.vote(&browser, links[staff]!, ids: ids) { _ in "competent" }.status == .seeOther)
            }
            for name in ["代表甲", "代表乙"] {
                var browser = Browser(client)
                #expect(try await Self.vote(&browser, links[name]!, ids: ids) { _ in "excellent" }.status == .seeOther)
            }
            var third = Browser(client)
            let thirdVote = try await Self.vote(&third, links["代表丙"]!, ids: ids) { staff in
                switch staff {
                case "r02-01": AppraisalSettings.abstain
                case "r02-03": "incompetent"
                default: "excellent"
                }
            }
            #expect(thirdVote.status == .seeOther)
            try await services.appraisals.close(id, actor: .commandLine, logger: TestApp.logger)

            // The committee's page: a line per group where both reached k.
            let book = try await admin.get(page + "/branches/r02")
            #expect(
                Self.tallyLines(book.text, staff: "r02-02") == [
                    "全部": [3, 3, 0, 0, 0], "党员": [0, 3, 0, 0, 0], "群众代表": [3, 0, 0, 0, 0],
                ]
            )
            #expect(
                Self.tallyLines(book.text, staff: "r02-03") == [
                    "全部": [2, 3, 0, 1, 0], "党员": [0, 3, 0, 0, 0], "群众代表": [2, 0, 0, 1, 0],
                ]
            )
            #expect(Self.tallyLines(book.text, staff: "r02-01") == ["全部": [2, 3, 0, 0, 1]])

            // The file: the group columns filled for r02-02, empty for r02-01.
            let csv = try await admin.get(page + "/members.csv").text
            let rows = csv.components(separatedBy: "\r\n")
            let second = try #require(rows.first { $0.hasPrefix("r02,r02党支部,r02-02,") })
            #expect(second.contains(",6,3,3,0,0,0,0,3,0,0,0,3,0,0,0,0,合格,"))
            let first = try #require(rows.first { $0.hasPrefix("r02,r02党支部,r02-01,") })
            #expect(first.contains(",5,2,3,0,0,1" + String(repeating: ",", count: 11) + "合格,"))

            // The API: byGroup for r02-02, by key; none for r02-01.
            let votes = try await Self.apiVotes(client, harness, round: id, staff: "r02-02")
            let byGroup = try #require(votes["byGroup"] as? [String: [String: Int]])
            #expect(byGroup["members"] == ["excellent": 0, "competent": 3, "basic": 0, "incompetent": 0, "abstain": 0])
            #expect(byGroup["representatives"] == ["excellent": 3, "competent": 0, "basic": 0, "incompetent": 0, "abstain": 0])
            #expect(try await Self.apiVotes(client, harness, round: id, staff: "r02-01")["byGroup"] == nil)
        }
    }

    @Test func aLargeBranchVotesWithinItsPartyGroupsImportedWithTheMembers() async throws {
        try await TestApp.run { client, harness in
            try await harness.database.query("INSERT INTO branches (code, name) VALUES ('g01', '机关大党支部')")
            let list = "工号,姓名,支部编码,党小组\ng-1,甲,g01,第一党小组\ng-2,乙,g01,第一党小组\ng-3,丙,g01,第一党小组\ng-4,丁,g01,第二党小组\ng-5,戊,g01,第二党小组\n"
            let members = OrganisationCSV.members(Array(list.utf8), knownBranches: ["g01"])
            #expect(members.problems.isEmpty && members.ignoredColumns.isEmpty)
            _ = try await harness.services.organisation.importMembers(members.rows, logger: TestApp.logger)
            // A later list without the column keeps the groups; one with a blank cell clears it.
            let again = OrganisationCSV.members(Array("工号,姓名,支部编码\ng-1,甲,g01\n".utf8), knownBranches: ["g01"])
            _ = try await harness.services.organisation.importMembers(again.rows, logger: TestApp.logger)
            #expect(try await harness.count("SELECT count(*)::int FROM members WHERE party_group = '第一党小组'") == 3)
            let services = harness.services
            let id = try await services.appraisals.create(
                AppraisalSpec(title: "评议", year: 2026, branches: ["g01"], settings: .init(anonymityThreshold: 3, byPartyGroup: true)),
                actor: .commandLine,
                logger: TestApp.logger
            )
            try await services.appraisals.open(id, actor: .commandLine, logger: TestApp.logger)
            _ = try await services.appraisals.issueLinks(id, actor: .commandLine, logger: TestApp.logger)
            let links = try await Self.links(harness, id)
            var first = Browser(client)
            let ballot = try await first.get(links["g-1"]! + "/ballot")
            // Group one's two others, not group two's.
            #expect(ballot.text.components(separatedBy: "<fieldset class=\"roster-row").count - 1 == 2)
            #expect(ballot.text.contains(">乙<") && ballot.text.contains(">丙<") && !ballot.text.contains(">丁<"))
            var fourth = Browser(client)
            let other = try await fourth.get(links["g-4"]! + "/ballot")
            #expect(other.text.components(separatedBy: "<fieldset class=\"roster-row").count - 1 == 1 && other.text.contains(">戊<"))
            let cleared = OrganisationCSV.members(Array("工号,姓名,支部编码,党小组\ng-1,甲,g01,\n".utf8), knownBranches: ["g01"])
            _ = try await harness.services.organisation.importMembers(cleared.rows, logger: TestApp.logger)
            #expect(try await harness.count("SELECT count(*)::int FROM members WHERE party_group = '第一党小组'") == 2)
        }
    }

    @Test func theSchedulerOpensAndClosesTheVoteOnTimeOnceAndReturnedProposalsGoBackToTheCommittee() async throws {
        try await TestApp.run(configureEnvironment: { $0.schedulerInterval = .milliseconds(200) }) { client, harness in
            try await Self.branch(harness, code: "t01", members: 4)
            try await harness.createUser("chief", password: "the chief's password")
            let services = harness.services
            // Opens in a second, closes two seconds later, without anyone's hand.
            let id = try await services.appraisals.create(
                AppraisalSpec(
                    title: "评议",
                    year: 2026,
                    opensAt: .now + 1,
                    closesAt: .now + 3,
                    branches: ["t01"],
                    settings: .init(anonymityThreshold: 3)
                ),
                actor: .commandLine,
                logger: TestApp.logger
            )
            func status() async throws -> String {
                try await harness.database.query("SELECT status FROM appraisal_rounds WHERE id = \(id)").first!.decode(String.self)
            }
            #expect(try await status() == "scheduled")
            let deadline = ContinuousClock.now + .seconds(20)
            while try await status() != "closed" && ContinuousClock.now < deadline {
                if try await status() == "open", try await harness.count("SELECT count(*)::int FROM appraisal_invitations") == 0 {
                    _ = try await services.appraisals.issueLinks(id, actor: .commandLine, logger: TestApp.logger)
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try await status() == "closed")
            #expect(try await harness.count("SELECT count(*)::int FROM appraisal_members WHERE round_id = '\(id)'") == 4)
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM audit_log WHERE action IN ('appraisal.opened', 'appraisal.closed') AND actor_name = 'scheduler'"
                ) == 2
            )
            // A link after the close says so and takes no ballot.
            let links = try await Self.links(harness, id)
            var member = Browser(client)
            let late = try await member.get(links["t01-01"]! + "/ballot")
            #expect(late.status == .forbidden && late.text.contains("民主测评已结束"))

            // The committee submits; the party committee returns it with a comment, which the
            // committee reads; changed and submitted again, it is approved.
            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")
            let ids = try await Self.members(harness, code: "t01")
            let page = "/admin/appraisals/\(id.lowercased)/branches/t01"
            func proposals(_ excellent: String) -> [(String, String)] {
                [("action", "submit")] + ids.map { ("category_\($0.value.lowercased)", $0.key == excellent ? "excellent" : "competent") }
            }
            #expect(try await admin.post(page, form: proposals("t01-01")).status == .seeOther)
            #expect(try await admin.post(page + "/decision", form: [("decision", "return"), ("comment", "请复核 t01-01 的表现")]).status == .seeOther)
            let returned = try await admin.get(page)
            #expect(returned.text.contains("已退回修改") && returned.text.contains("请复核 t01-01 的表现"))
            // Approving what is not submitted is refused.
            #expect(try await admin.post(page + "/decision", form: [("decision", "approve")]).location?.contains("state=returned") == true)
            #expect(try await admin.post(page, form: proposals("t01-02")).status == .seeOther)
            #expect(try await admin.post(page + "/decision", form: [("decision", "approve")]).location?.contains("decided") == true)
            // Approved proposals cannot be changed.
            #expect(try await admin.post(page, form: proposals("t01-03")).location?.contains("state=approved") == true)
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM appraisal_proposals p JOIN members m ON m.id = p.member_id WHERE p.category = 'excellent' AND m.staff_number = 't01-02'"
                ) == 1
            )
        }
    }

    @Test func theQuotaCountsTheMembersStillInTheBranch() async throws {
        try await TestApp.run { client, harness in
            // Ten members: three 优秀 places. Nine with one leaving: eight, two places.
            try await Self.branch(harness, code: "q10", members: 10)
            try await Self.branch(harness, code: "q09", members: 9)
            try await harness.createUser("chief", password: "the chief's password")
            let services = harness.services
            let id = try await services.appraisals.create(
                AppraisalSpec(title: "评议", year: 2026, branches: ["q10", "q09"]),
                actor: .commandLine,
                logger: TestApp.logger
            )
            try await services.appraisals.open(id, actor: .commandLine, logger: TestApp.logger)
            try await harness.database.query("UPDATE members SET active = false WHERE staff_number = 'q09-09'")
            try await services.appraisals.close(id, actor: .commandLine, logger: TestApp.logger)
            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")
            func submit(_ code: String, excellent: Int) async throws -> Reply {
                let ids = try await Self.members(harness, code: code).filter { $0.key != "q09-09" }.sorted { $0.key < $1.key }
                let form =
                    [("action", "submit")]
                    + ids.enumerated().map { index, member in ("category_\(member.value.lowercased)", index < excellent ? "excellent" : "competent") }
                return try await admin.post("/admin/appraisals/\(id.lowercased)/branches/\(code)", form: form)
            }
            let four = try await submit("q10", excellent: 4)
            #expect(four.status == .unprocessableContent && four.text.contains("“优秀”最多 3 名，现在拟定了 4 名"))
            #expect(try await submit("q10", excellent: 3).status == .seeOther)
            let three = try await submit("q09", excellent: 3)
            #expect(three.status == .unprocessableContent && three.text.contains("“优秀”最多 2 名，现在拟定了 3 名"))
            #expect(three.text.contains("本支部参评党员 8 名"))
            #expect(try await submit("q09", excellent: 2).status == .seeOther)
            // The request log never holds a link's secret.
            #expect(LoggedPath.redacting("/a/AbCdEfGhIjKlMnOpQrStUv/ballot") == "/a/…/ballot")
        }
    }
}
