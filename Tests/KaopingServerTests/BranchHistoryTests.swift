import Foundation
import HTTPTypes
import Logging
import PostgresNIO
import Testing

@testable import KaopingAggregation
@testable import KaopingServer

/// Each branch's record over the years, the committee's qualitative assessments and lists, on
/// the real database and through the pages and the API.
@Suite("A branch's record over the years", .timeLimit(.minutes(2)))
struct BranchHistoryTests {
    static func subject(_ code: String, _ combined: Double?, _ grade: String?, rank: Int?, thinking: Double? = nil) -> SubjectResult {
        var members = GroupResult(
            responses: 8,
            n: 8,
            nTrimmed: 6,
            score: combined,
            standardDeviation: nil,
            confidenceLow: nil,
            confidenceHigh: nil,
            status: combined == nil ? .insufficient : .sufficient,
            weight: 0.3,
            dimensions: [:],
            satisfactionRate: nil,
            straightLinedShare: nil,
            breakdownShown: thinking != nil
        )
        if let thinking { members.dimensions = ["thinking": thinking] }
        return SubjectResult(
            code: code,
            name: code == "b01" ? "办公室党支部" : "财务处党支部",
            parent: nil,
            groups: ["members": members],
            organisationSheet: nil,
            status: combined == nil ? .incomplete : .complete,
            combinedBeforeBonus: combined,
            bonus: 0,
            combined: combined,
            bandGrade: grade,
            gradeAfterVeto: grade,
            grade: grade,
            vetoed: false,
            droppedByQuota: false,
            rank: rank
        )
    }

    /// Three closed years: b01 at the top grade each year, b02 at the lowest grade, then below
    /// quorum; b02 has no round in 2024. The 2025 round's member form differs from 2024's.
    static func threeYears(_ harness: TestHarness) async throws -> [UUID] {
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        let database = harness.database
        try await database.query("INSERT INTO branches (code, name) VALUES ('b01', '办公室党支部'), ('b02', '财务处党支部')")
        let catalog = try FormCatalog(directory: TestDatabaseServer.repositoryRoot + "/forms")
        let rounds = RoundRepository(database: database, forms: catalog, frozenForms: FormRepository(database: database), seal: TestApp.ballotSeal)
        let years: [(Int, [SubjectResult])] = [
            (2024, [subject("b01", 92, "优秀", rank: 1, thinking: 90)]),
            (2025, [subject("b01", 95.5, "优秀", rank: 1, thinking: 94), subject("b02", 55, "较差", rank: 2)]),
            (2026, [subject("b01", 90.25, "优秀", rank: 1, thinking: 91), subject("b02", nil, nil, rank: nil)]),
        ]
        var ids: [UUID] = []
        for (year, subjects) in years {
            let id = try await rounds.create(
                RoundSpec(title: "\(year) 年度支部考评", year: year, closesAt: .now + 86400),
                actor: .commandLine,
                logger: quiet
            )
            try await rounds.open(id, actor: .commandLine, logger: quiet)
            let result = RoundResult(
                methodVersion: "v1",
                configurationHash: "h\(year)",
                subjects: subjects,
                diagnostics: Diagnostics(alpha: [:], lowAgreement: [])
            )
            try await database.query("UPDATE rounds SET status = 'closed', closed_at = now() WHERE id = \(id)")
            try await database.query(
                """
                INSERT INTO result_snapshots (round_id, kind, method_version, config_hash, results)
                VALUES (\(id), 'final', 'v1', 'h', \(try RoundRepository.json(result))::jsonb)
                """
            )
            // As the close does after storing the snapshot.
            let logger = quiet
            try await database.withConnection { connection in
                try await BranchHistoryRepository.record(roundID: id, connection: connection, logger: logger)
            }
            ids.append(id)
        }
        // The 2025 and 2026 rounds' members answered a changed form.
        try await database.query(
            """
            WITH changed AS (
              INSERT INTO form_versions (form_key, version, checksum, definition)
              SELECT form_key, version + 1, 'changed', definition FROM form_versions v
              WHERE v.id = (SELECT form_version_id FROM round_groups WHERE round_id = \(ids[0]) AND rater_group = 'members')
              RETURNING id
            )
            UPDATE round_groups SET form_version_id = (SELECT id FROM changed)
            WHERE round_id IN (\(ids[1]), \(ids[2])) AND rater_group = 'members'
            """
        )
        // Business results of 2025 for b01's one unit.
        let performance = PerformanceRepository(database: database)
        _ = try await performance.importUnits([UnitRow(line: 2, code: "u1", name: "办公室", branchCode: "b01", headcount: 12)], logger: quiet)
        _ = try await performance.importResults(
            year: 2025,
            [PerformanceRow(line: 2, unitCode: "u1", score: 88, grade: nil, indicators: [:])],
            source: "",
            fileName: "2025.csv",
            actor: .commandLine,
            logger: quiet
        )
        return ids
    }

    @Test func aSecretaryReadsTheirOwnBranchsRecordAndNoOther() async throws {
        try await TestApp.run { client, harness in
            let rounds = try await Self.threeYears(harness)
            try await harness.createUser("admin", password: "the committee's record")
            var admin = Browser(client)
            _ = try await admin.signIn("admin", "the committee's record")
            let saved = try await admin.post(
                "/admin/org/branches/b01/assessments",
                form: [("first_year", "2024"), ("last_year", "2026"), ("level", "good"), ("judgement", "党建与业务结合紧密。")]
            )
            #expect(saved.status == .seeOther)
            _ = try await UserRepository(database: harness.database).create(
                username: "secretary-b01",
                displayName: "",
                role: .viewer,
                branchCode: "b01",
                passwordHash: try await TestApp.hasher.hash("b01's secretary password")
            )
            var secretary = Browser(client)
            _ = try await secretary.signIn("secretary-b01", "b01's secretary password")

            // The report the secretary reads links to the record, which they may open.
            let report = try await secretary.get("/admin/rounds/\(rounds[2].uuidString.lowercased())/results/b01")
            #expect(report.status == .ok && report.text.contains("href=\"/admin/org/branches/b01/history\""))
            let record = try await secretary.get("/admin/org/branches/b01/history")
            #expect(record.status == .ok)
            #expect(record.text.contains("<a href=\"/admin/rounds/\(rounds[0].uuidString.lowercased())/results/b01\">2024 年度支部考评</a>"))
            #expect(record.text.contains("<h3>2024—2026 年度 · 好</h3>") && record.text.contains("党建与业务结合紧密。"))
            // Read only: no form that writes an assessment, no way to the branch's admin page.
            #expect(!record.text.contains("action=\"/admin/org/branches/b01/assessments"))
            #expect(!record.text.contains("href=\"/admin/org/branches/b01\""))
            #expect(try await secretary.post("/admin/org/branches/b01/assessments", form: [("judgement", "x")]).status == .forbidden)
            // The administrator's page keeps its forms.
            #expect(try await admin.get("/admin/org/branches/b01/history").text.contains("action=\"/admin/org/branches/b01/assessments\""))

            // Another branch's record is not theirs.
            #expect(try await secretary.get("/admin/org/branches/b02/history").status == .forbidden)
            #expect(try await secretary.get("/admin/org/branches/nope/history").status == .forbidden)
        }
    }

    @Test func yearsTrendFormChangesAndAssessmentsOnTheBranchPage() async throws {
        try await TestApp.run { client, harness in
            let rounds = try await Self.threeYears(harness)
            try await harness.createUser("admin", password: "the committee's record")
            var admin = Browser(client)
            _ = try await admin.post("/admin/login", form: [("username", "admin"), ("password", "the committee's record")])
            #expect(try await admin.get("/admin/org/branches/b01").text.contains("<a href=\"/admin/org/branches/b01/history\">历年考评记录</a>"))

            let page = try await admin.get("/admin/org/branches/b01/history").text
            // Each cell carries its column's heading, its label where a phone shows each year as a card.
            func label(_ key: String) -> String { "data-label=\"\(Language.chinese.text(key))\"" }
            #expect(page.contains("<a href=\"/admin/rounds/\(rounds[0].uuidString.lowercased())/results/b01\">2024 年度支部考评</a>"))
            #expect(
                page.contains(
                    "<td class=\"num\" \(label("col_combined"))><strong>95.50</strong></td><td \(label("col_grade"))>优秀</td><td class=\"num\" \(label("col_rank"))>第 1 / 2 名（前 50.0%）</td><td class=\"num\" \(label("history_col_change"))>+3.50</td>"
                )
            )
            #expect(page.contains("<td class=\"num\" \(label("history_col_change"))>-5.25</td>"))
            // The groups' scores are labelled with their groups.
            #expect(page.contains("<td class=\"num\" \(label("group_members"))>"))
            #expect(page.contains("2025 <span class=\"flag\">表单有变</span>"))
            #expect(!page.contains("2026 <span class=\"flag\">"))
            #expect(page.contains("<td class=\"num\" \(label("col_business_score"))>88.00</td></tr>"))  // 2025's business score
            #expect(page.contains("近三年趋势：平稳（每年 -0.88 分）。"))
            #expect(page.contains("该支部连续三年为最高等次，列为表彰候选。"))
            #expect(page.contains("class=\"chart lines\"") && page.contains("<title>党建综合得分 2025：95.5</title>"))
            #expect(page.contains("尚无定性评价"))

            // An assessment with a problem comes back with what was typed; then it is saved and edited.
            let bad = try await admin.post(
                "/admin/org/branches/b01/assessments",
                form: [("first_year", "2026"), ("last_year", "2024"), ("level", ""), ("judgement", "支部工作扎实")]
            )
            #expect(bad.status == .unprocessableContent)
            #expect(bad.text.contains("截止年度不能早于起始年度") && bad.text.contains("请选择评价等次") && bad.text.contains(">支部工作扎实</textarea>"))
            let saved = try await admin.post(
                "/admin/org/branches/b01/assessments",
                form: [("first_year", "2024"), ("last_year", "2026"), ("level", "good"), ("judgement", "党建与业务结合紧密，连续三年考评优秀。")]
            )
            #expect(saved.status == .seeOther)
            let withAssessment = try await admin.get("/admin/org/branches/b01/history?saved=1").text
            #expect(withAssessment.contains("<h3>2024—2026 年度 · 好</h3>") && withAssessment.contains("党建与业务结合紧密，连续三年考评优秀。"))
            let id = try await harness.database.query("SELECT id FROM branch_assessments").first!.decode(UUID.self)
            let edited = try await admin.post(
                "/admin/org/branches/b01/assessments/\(id.uuidString.lowercased())",
                form: [("first_year", "2024"), ("last_year", "2026"), ("level", "fairlyGood"), ("judgement", "结合较紧密。")]
            )
            #expect(edited.status == .seeOther)
            #expect(try await admin.get("/admin/org/branches/b01/history").text.contains("<h3>2024—2026 年度 · 较好</h3>"))
            let audit = try await harness.database.query(
                "SELECT details->>'before_level', details->>'level' FROM audit_log WHERE action = 'assessment.changed'"
            ).first!.decode((String, String).self)
            #expect(audit == ("good", "fairlyGood"))
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'assessment.created' AND actor_name = 'admin'") == 1)
            // Another branch's assessment cannot be edited through this one.
            let wrong = try await admin.post(
                "/admin/org/branches/b02/assessments/\(id.uuidString.lowercased())",
                form: [("first_year", "2024"), ("last_year", "2026"), ("level", "poor"), ("judgement", "x")]
            )
            #expect(wrong.status == .notFound)

            // The round's report says the trend; its workbook carries the assessment covering its year.
            let report = try await admin.get("/admin/rounds/\(rounds[2].uuidString.lowercased())/results/b01").text
            #expect(report.contains("近三年趋势：平稳（每年 -0.88 分）。 <a class=\"no-print\" href=\"/admin/org/branches/b01/history\">历年考评记录</a>"))
            let workbook = try await admin.get("/admin/rounds/\(rounds[2].uuidString.lowercased())/results.xlsx")
            let sheet = try #require(try XLSXReader.sheets(Array(workbook.body.readableBytesView)).first { $0.name == "长期定性评价" })
            #expect(sheet.rows.count == 2)
            #expect(Array(sheet.rows[1].cells.prefix(7)) == ["b01", "办公室党支部", "2024", "2026", "较好", "结合较紧密。", "admin"])

            // b02: the lowest grade, then below quorum; no round in 2024.
            let b02 = try await admin.get("/admin/org/branches/b02/history").text
            #expect(b02.contains("该支部连续两年为最低等次或未达法定份数，列为整顿候选。"))
            #expect(b02.contains("<td \(label("col_grade"))>份数不足</td>") && !b02.contains("近三年趋势"))

            // The round's lists.
            let watch = try await admin.get("/admin/rounds/\(rounds[2].uuidString.lowercased())/watch").text
            // Each branch with the years and grades that put it on its list.
            #expect(
                watch.contains(
                    "<h2>整顿候选</h2>\n  \n  <ul><li><a href=\"/admin/org/branches/b02/history\">b02 财务处党支部</a><span class=\"muted\">（2025 年度较差，2026 年度份数不足）</span></li></ul>"
                )
            )
            #expect(
                watch.contains(
                    "<li><a href=\"/admin/org/branches/b01/history\">b01 办公室党支部</a><span class=\"muted\">（2024 年度优秀，2025 年度优秀，2026 年度优秀）</span></li>"
                )
            )
            let earlier = try await admin.get("/admin/rounds/\(rounds[1].uuidString.lowercased())/watch").text
            #expect(earlier.components(separatedBy: "<p class=\"muted\">无。</p>").count == 3)

            // The same record through the API.
            let (_, token) = try await harness.issueToken("档案系统")
            let response = try await client.execute(
                uri: "/api/v1/branches/b01/history",
                method: .get,
                headers: [.authorization: "Bearer \(token)"],
                body: nil
            )
            #expect(response.status == .ok)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
            let years = try #require(document["years"] as? [[String: Any]])
            #expect(years.count == 3 && document["watch"] as? String == "commendation" && document["trend"] as? String == "steady")
            #expect(years[1]["change"] as? Double == 3.5 && (years[1]["record"] as? [String: Any])?["businessScore"] as? Double == 88)
            #expect((document["assessments"] as? [[String: Any]])?.first?["level"] as? String == "fairlyGood")
            let missing = try await client.execute(
                uri: "/api/v1/branches/nope/history",
                method: .get,
                headers: [.authorization: "Bearer \(token)"],
                body: nil
            )
            #expect(missing.status == .notFound)
        }
    }
}
