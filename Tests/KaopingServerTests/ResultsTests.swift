import Foundation
import HTTPTypes
import KaopingAggregation
import Logging
import PostgresNIO
import Testing

@testable import KaopingServer

extension TestHarness {
    /// The worked example of the scoring method (two branches), stored the way the server
    /// stores answers: an open round, responses (one public ballot still in the box) and
    /// evaluator sheets.
    /// The worked example; one public ballot is left sealed in the box unless `mixed`.
    /// The worked example's business year: units u1 (办公室, 30 staff) and u2 (财务处, 10) of b01
    /// and u3 (业务一处) of b02, scoring 90, 60 and 70 in 2026: b01's business score is 82.50,
    /// b02's 70.00.
    func loadWorkedExamplePerformance() async throws {
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        _ = try await services.performance.importUnits(
            [
                UnitRow(line: 2, code: "u1", name: "办公室", branchCode: "b01", headcount: 30),
                UnitRow(line: 3, code: "u2", name: "财务处", branchCode: "b01", headcount: 10),
                UnitRow(line: 4, code: "u3", name: "业务一处", branchCode: "b02", headcount: nil),
            ],
            logger: quiet
        )
        _ = try await services.performance.importResults(
            year: 2026,
            [
                PerformanceRow(line: 2, unitCode: "u1", score: 90, grade: nil, indicators: [:]),
                PerformanceRow(line: 3, unitCode: "u2", score: 60, grade: nil, indicators: [:]),
                PerformanceRow(line: 4, unitCode: "u3", score: 70, grade: nil, indicators: [:]),
            ],
            source: "",
            fileName: "2026.csv",
            actor: .commandLine,
            logger: quiet
        )
    }

    func workedExampleRound(mixed: Bool = true) async throws -> (round: UUID, rounds: RoundRepository) {
        let database = self.database
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        try await database.query("INSERT INTO branches (code, name) VALUES ('b01', '办公室党支部'), ('b02', '财务处党支部')")
        try await database.query(
            """
            INSERT INTO members (staff_number, name, branch_id)
            SELECT 'a' || g, '党员', (SELECT id FROM branches WHERE code = 'b01') FROM generate_series(1, 10) g
            UNION ALL SELECT 'b' || g, '党员', (SELECT id FROM branches WHERE code = 'b02') FROM generate_series(1, 6) g
            """
        )
        let catalog = try FormCatalog(directory: TestDatabaseServer.repositoryRoot + "/forms")
        let rounds = RoundRepository(database: database, forms: catalog, frozenForms: FormRepository(database: database), seal: TestApp.ballotSeal)
        let round = try await rounds.create(RoundSpec(title: "示例", year: 2026, closesAt: .now + 7 * 86400), actor: .commandLine, logger: logger)
        try await rounds.open(round, actor: .commandLine, logger: logger)
        let evaluator = try await createUser("pingshen", password: "sheets sheets", role: .evaluator)

        func respond(_ branch: String, _ group: String, _ scores: [Double], satisfied: Bool? = nil, inBox: Bool = false) async throws {
            for score in scores {
                let satisfiedJSON = satisfied.map { $0 ? "true" : "false" } ?? "null"
                if inBox {
                    let ballot =
                        "{\"score\":\(score),\"dimensions\":{\"thinking\":\(score)},\"straightLined\":false,\"satisfied\":\(satisfiedJSON),\"answers\":[]}"
                    // Sealed as JSON, as the first version of sealed ballots did: the mixer still reads it.
                    let sealed = ByteBuffer(bytes: try TestApp.ballotSeal.seal(Array(ballot.utf8), roundID: round, group: group))
                    try await database.query(
                        """
                        INSERT INTO ballot_box (round_id, branch_id, rater_group, form_version_id, submitted_on, sealed)
                        SELECT \(round), b.id, \(group), g.form_version_id, current_date, \(sealed)
                        FROM branches b, round_groups g WHERE b.code = \(branch) AND g.round_id = \(round) AND g.rater_group = \(group)
                        """
                    )
                } else {
                    try await database.query(
                        """
                        INSERT INTO responses (round_id, branch_id, rater_group, form_version_id, submitted_on, score, dimension_scores, straight_lined, satisfied)
                        SELECT \(round), b.id, \(group), g.form_version_id, current_date, \(score), ARRAY[\(score)]::float8[],
                               \(score == 100), \(satisfied)
                        FROM branches b, round_groups g WHERE b.code = \(branch) AND g.round_id = \(round) AND g.rater_group = \(group)
                        """
                    )
                }
            }
        }
        try await respond("b01", "members", [100, 90, 85, 80, 80, 75, 70, 20])
        try await respond("b01", "public", Array(repeating: 75, count: 8), satisfied: true)
        try await respond("b01", "public", Array(repeating: 75, count: 3), satisfied: false)
        try await respond("b01", "public", [75], satisfied: false, inBox: true)  // sealed, waiting for the mixer
        try await respond("b02", "members", [90, 95])
        try await respond("b02", "public", Array(repeating: 90, count: 10))

        func sheet(_ branch: String, lost: [String: Double], earned: [String: Double], failed: [String]) async throws {
            let id = try await database.query(
                """
                INSERT INTO org_sheets (round_id, branch_id, evaluator_id, form_version_id, status, submitted_at)
                SELECT \(round), b.id, \(evaluator.id), g.form_version_id, 'submitted', now()
                FROM branches b, round_groups g WHERE b.code = \(branch) AND g.round_id = \(round) AND g.rater_group = 'organisation'
                RETURNING id
                """
            ).first!.decode(UUID.self)
            for (item, points) in lost {
                try await database.query("INSERT INTO org_sheet_entries (sheet_id, item_key, points_lost) VALUES (\(id), \(item), \(points))")
            }
            for (item, points) in earned {
                try await database.query("INSERT INTO org_sheet_entries (sheet_id, item_key, points_earned) VALUES (\(id), \(item), \(points))")
            }
            for item in ["org_life_held", "no_violations", "dues_collected"] {
                try await database.query(
                    "INSERT INTO org_sheet_entries (sheet_id, item_key, passed) VALUES (\(id), \(item), \(!failed.contains(item)))"
                )
            }
        }
        try await sheet(
            "b01",
            lost: ["org_life": 4, "integration": 6],
            earned: ["awards": 3, "innovation": 5, "integration_practice": 1],
            failed: []
        )
        try await sheet("b02", lost: ["study": 5], earned: [:], failed: ["no_violations"])
        if mixed { try await mixBallots(round: round) }
        return (round, rounds)
    }
}

@Suite("Results from the database", .timeLimit(.minutes(2)))
struct ResultsTests {
    /// The worked example of the scoring method, stored the way the server stores answers.
    @Test func theWorkedExampleFromTheTablesAndFrozenAtCloseExactlyOnce() async throws {
        try await TestApp.run { _, harness in
            let database = harness.database
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let (round, rounds) = try await harness.workedExampleRound(mixed: false)
            let results = harness.services.resultsRepository
            // A ballot waiting in the box counts from its mix on: results move by whole batches.
            let waiting = try #require(try await results.compute(roundID: round, logger: logger))
            #expect(waiting.subjects.first { $0.code == "b01" }?.groups["public"]?.responses == 11)
            #expect(try await harness.mixBallots(round: round) == 1)
            let live = try #require(try await results.compute(roundID: round, logger: logger))
            #expect(live.methodVersion == "v1")
            #expect(live.configurationHash.count == 64)
            let a = try #require(live.subjects.first { $0.code == "b01" })
            #expect(a.organisationSheet?.baseScore == 90)
            #expect(a.bonus == 7)  // innovation capped at 3
            #expect(a.groups["members"]?.score == 80)
            #expect(a.groups["members"]?.dimensions["thinking"] == 80)
            #expect(a.groups["public"]?.responses == 12)
            #expect(a.groups["public"]?.satisfactionRate == 8.0 / 12.0)
            #expect(a.combined == 91)
            #expect(a.grade == "优秀")
            let b = try #require(live.subjects.first { $0.code == "b02" })
            #expect(b.groups["members"]?.status == .insufficient)
            #expect(Statistics.rounded2(try #require(b.combined)) == 93.57)
            #expect(b.grade == "一般")
            #expect(b.organisationSheet?.failedBaselines == ["no_violations"])
            #expect(live.subjects.map(\.code) == ["b02", "b01"])

            // Closing freezes the same figures, once.
            #expect(try await rounds.close(round, actor: .commandLine, logger: logger))
            let stored = try await database.query(
                "SELECT results::text, method_version, config_hash FROM result_snapshots WHERE round_id = \(round) AND kind = 'final'"
            )
            #expect(stored.count == 1)
            let (json, version, hash) = try stored[0].decode((String, String, String).self)
            #expect(version == "v1")
            #expect(hash == live.configurationHash)
            let frozen = try JSONDecoder().decode(RoundResult.self, from: Data(json.utf8))
            #expect(frozen == live)
            // Running the method again on the closed round gives the same bytes.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let again = try #require(try await results.compute(roundID: round, logger: logger))
            let once = try encoder.encode(again)
            let twice = try encoder.encode(try #require(try await results.compute(roundID: round, logger: logger)))
            #expect(once == twice)
            #expect(again == live)
        }
    }
}

@Suite("Results in the admin area", .timeLimit(.minutes(2)))
struct ResultsPageTests {
    /// The database tallies a branch's responses into exactly what the library makes of the same
    /// responses: the method then cannot tell where its input came from.
    @Test func theDatabaseTalliesBitForBitAsTheLibraryDoes() async throws {
        try await TestApp.run { _, harness in
            let database = harness.database
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let (round, _) = try await harness.workedExampleRound()
            // Scores no sum of doubles gets exact (thirds, tenths), unscored dimensions, an
            // unscored response, satisfaction and straight-lining, in b01's members.
            var added: [ResponseInput] = []
            for index in 0..<40 {
                let score: Double? = index == 7 ? nil : Double(index * 37 % 101) / 3 + 0.1
                let dimensions: [Double?] = [score.map { $0 / 2 }, index % 3 == 0 ? nil : 100.0 / 7 * Double(index % 7), 44.44, nil]
                let straight = index % 5 == 0
                let satisfied: Bool? = index % 4 == 0 ? nil : index % 4 == 1
                added.append(ResponseInput(score: score, dimensions: dimensions, straightLined: straight, satisfied: satisfied))
                try await database.query(
                    """
                    INSERT INTO responses (round_id, branch_id, rater_group, form_version_id, submitted_on, score, dimension_scores, straight_lined, satisfied)
                    SELECT \(round), b.id, 'members', g.form_version_id, current_date, \(score), \(dimensions.map { $0 ?? .nan })::float8[],
                           \(straight), \(satisfied)
                    FROM branches b, round_groups g WHERE b.code = 'b01' AND g.round_id = \(round) AND g.rater_group = 'members'
                    """
                )
            }
            try await database.query("UPDATE responses SET dimension_scores = array_replace(dimension_scores, 'NaN', NULL)")
            // The worked example's own eight member responses of b01 (thinking = score; 100 straight-lined).
            let stored = [100.0, 90, 85, 80, 80, 75, 70, 20].map { ResponseInput(score: $0, dimensions: [$0], straightLined: $0 == 100) } + added
            // Both the tallies kept as the responses changed and the responses read afresh.
            for drop in [0, 1, 2, 3] {
                for kept in [true, false] {
                    let query = TallyQuery(roundID: round, group: .members, dimensions: 4, drop: drop, fromKeptTallies: kept)
                    var tallies: [ResponseTally] = []
                    for row in try await database.query(query.sql) { tallies.append(try query.decode(row).tally) }
                    let b01 = try #require(tallies.first { $0.responses == 48 })
                    var expected = ResponseTally(stored.shuffled(), extremes: drop)
                    // The library tallies the dimensions a response has; the database every one of the form's.
                    while expected.dimensions.count < 4 { expected.dimensions.append(ScoreTally([], extremes: drop, withSpread: false)) }
                    #expect(b01 == expected, "drop \(drop), kept \(kept)")
                }
            }
        }
    }

    @Test func rankingReportAndDiagnosticsAndABranchSecretarySeesOnlyTheirBranch() async throws {
        try await TestApp.run { client, harness in
            let (round, _) = try await harness.workedExampleRound()
            let id = round.uuidString.lowercased()
            // Answers behind b01's member responses: a distribution and comments to show.
            try await harness.database.query(
                """
                INSERT INTO answers (response_id, item_key, option_key, points)
                SELECT r.id, 'thinking_one_job', CASE WHEN r.score >= 80 THEN '5' ELSE '3' END, 0
                FROM responses r JOIN branches b ON b.id = r.branch_id WHERE b.code = 'b01' AND r.rater_group = 'members'
                """
            )
            try await harness.database.query(
                """
                INSERT INTO answers (response_id, item_key, text_value)
                SELECT r.id, 'works_well', '学习<b>结合</b>业务' FROM responses r JOIN branches b ON b.id = r.branch_id
                WHERE b.code = 'b01' AND r.rater_group = 'members' AND r.score = 100
                UNION ALL
                SELECT r.id, 'works_well', '不该出现的意见' FROM responses r JOIN branches b ON b.id = r.branch_id
                WHERE b.code = 'b02' AND r.rater_group = 'members'
                """
            )
            try await harness.createUser("admin", password: "results for the committee")
            var admin = Browser(client)
            _ = try await admin.post("/admin/login", form: [("username", "admin"), ("password", "results for the committee")])
            // The answers download: questions and answers in words, the codes beside them.
            let answerLines = try await admin.get("/admin/rounds/\(id)/responses.csv").text.components(separatedBy: "\r\n")
            #expect(
                answerLines.contains {
                    $0.contains(",b01,") && $0.contains(",党员评价,") && $0.contains(",支部班子把抓党建和抓业务作为一项工作统筹谋划、统一部署,很好,")
                        && $0.hasSuffix(",thinking_one_job,5")
                }
            )
            #expect(answerLines.contains { $0.contains(",学习<b>结合</b>业务,,works_well,") })

            let ranking = try await admin.get("/admin/rounds/\(id)/results")
            #expect(ranking.status == .ok)
            let table = ranking.text
            #expect(table.contains("轮次尚未结束：以下为按目前已收到答卷计算的临时结果"))
            #expect(table.contains("<td data-label=\"名次\">1</td><td data-label=\"支部编码\"><a href=\"/admin/rounds/\(id)/results/b02\">b02</a></td>"))
            #expect(table.contains("<strong>93.57</strong>"))
            #expect(table.contains("<strong>91.00</strong>"))
            #expect(table.contains("<strong>一般</strong> <span class=\"muted small\">（优秀）</span>"))
            #expect(table.contains("<span class=\"flag\">否决</span>"))
            #expect(table.contains("80.00 (8)"))
            #expect(table.contains("92.50 (2) <span class=\"flag\">不足</span>"))  // reported, not counted
            // b02's combined score rests on two groups only, and the page says which and why.
            #expect(table.contains("<span class=\"flag\" title=\"仅依据组织评价、群众评价\">部分主体</span>"))
            #expect(table.contains("<dl class=\"legend small\">") && table.contains("其权重按比例分给计入的主体"))
            #expect(table.contains("没有综合得分、等次和名次"))
            let byCode = try await admin.get("/admin/rounds/\(id)/results?sort=code").text
            #expect(byCode.range(of: ">b01<")!.lowerBound < byCode.range(of: ">b02<")!.lowerBound)

            let report = try await admin.get("/admin/rounds/\(id)/results/b01")
            #expect(report.status == .ok)
            let page = report.text
            #expect(page.contains("<strong class=\"big\">91.00</strong>"))
            #expect(page.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\""))
            #expect(page.contains("思想认识融合"))  // a dimension bar
            #expect(page.contains("学习&lt;b&gt;结合&lt;/b&gt;业务"))  // the comment, escaped
            // Five of eight chose 很好 (scores 100, 90, 85, 80, 80), three 一般.
            #expect(page.contains("<td>很好</td><td class=\"num\">5</td><td class=\"num\">63%</td>"))
            #expect(page.contains("<td>一般</td><td class=\"num\">3</td><td class=\"num\">38%</td>"))
            #expect(page.contains("计分方法 v1"))
            // The summary for the meeting: the scores and how they were made, not the distributions.
            #expect(page.contains("href=\"/admin/rounds/\(id)/results/b01?view=summary\""))
            let summary = try await admin.get("/admin/rounds/\(id)/results/b01?view=summary").text
            #expect(summary.contains("<strong class=\"big\">91.00</strong>") && summary.contains("计算所用权重"))
            #expect(!summary.contains("<td>很好</td>") && !summary.contains("学习&lt;b&gt;结合") && summary.contains("data-print"))
            // b02 has 2 member answers, under the threshold of 5: no comments, a notice.
            let small = try await admin.get("/admin/rounds/\(id)/results/b02").text
            #expect(small.contains("答卷数少于匿名阈值"))
            #expect(!small.contains("不该出现的意见"))
            #expect(small.contains("未达底线要求："))
            // The weights actually used, and the sum that gives the combined score.
            #expect(small.contains("计算所用权重</strong>：组织评价 71.4%、群众评价 28.6%（党员评价未计入"))
            #expect(small.contains("<code>71.4% × 95.00 + 28.6% × 90.00 = 93.57</code>"))
            #expect(page.contains("组织评价 50%、党员评价 30%、群众评价 20%"))
            #expect(page.contains("= 84.00；加分 7.00，综合得分 91.00</code>"))

            let diagnostics = try await admin.get("/admin/rounds/\(id)/diagnostics")
            #expect(diagnostics.status == .ok)
            #expect(diagnostics.text.contains("评价一致性（Krippendorff α）"))
            #expect(diagnostics.text.contains("<td>群众评价</td><td class=\"num\">1.000</td>"))

            // A branch secretary: their branch's report, nothing else.
            let hash = try await TestApp.hasher.hash("secretary of b01")
            _ = try await UserRepository(database: harness.database).create(
                username: "shuji",
                displayName: "",
                role: .viewer,
                branchCode: "b01",
                passwordHash: hash
            )
            var secretary = Browser(client)
            _ = try await secretary.post("/admin/login", form: [("username", "shuji"), ("password", "secretary of b01")])
            let home = try await secretary.get("/admin")
            #expect(home.text.contains("<a href=\"/admin/rounds/\(id)/results/b01\">示例</a>"))
            let own = try await secretary.get("/admin/rounds/\(id)/results/b01")
            #expect(own.status == .ok)
            #expect(!own.text.contains("返回考评结果"))
            #expect(try await secretary.get("/admin/rounds/\(id)/results/b02").status == .forbidden)
            #expect(try await secretary.get("/admin/rounds/\(id)/results").status == .forbidden)
            #expect(try await secretary.get("/admin/rounds/\(id)/diagnostics").status == .forbidden)
            #expect(try await admin.get("/admin/rounds/\(id)/results/b99").status == .notFound)
        }
    }

    /// The live results are kept a few seconds for the next look: shown with the time they were
    /// computed while kept, and dropped when an evaluator submits a sheet, so that the next look
    /// includes it.
    @Test func liveResultsAreReusedWithTheirOwnTimeUntilASheetIsSubmitted() async throws {
        try await TestApp.run { client, harness in
            let (round, _) = try await harness.workedExampleRound()
            let id = round.uuidString.lowercased()
            let (_, token) = try await harness.issueToken("考评看板")
            try await harness.createUser("admin", password: "live results admin")
            try await harness.createUser("zhang", password: "a second evaluator", role: .evaluator)
            var admin = Browser(client)
            _ = try await admin.post("/admin/login", form: [("username", "admin"), ("password", "live results admin")])
            #expect(try await admin.post("/admin/rounds/\(id)/evaluators", form: [("username", "zhang"), ("branches", "b01")]).status == .seeOther)

            func results() async throws -> (computedAt: String, evaluators: Int?) {
                let (status, body) = try await getJSON(client, "/api/v1/rounds/\(id)/results", token: token)
                #expect(status == .ok)
                let document = try #require(body as? [String: Any])
                let subjects = try #require((document["results"] as? [String: Any])?["subjects"] as? [[String: Any]])
                let b01 = try #require(subjects.first { $0["code"] as? String == "b01" })
                let organisation = (b01["groups"] as? [String: Any])?["organisation"] as? [String: Any]
                return (try #require(document["computedAt"] as? String), organisation?["n"] as? Int)
            }
            let first = try await results()
            #expect(first.evaluators == 1)
            // Over a second later (the time is given to the second), still the same results.
            try await Task.sleep(for: .milliseconds(1100))
            let again = try await results()
            #expect(again.computedAt == first.computedAt)

            var zhang = Browser(client)
            _ = try await zhang.post("/admin/login", form: [("username", "zhang"), ("password", "a second evaluator")])
            let submitted = try await zhang.post("/admin/sheets/\(id)/b01", form: fullSheet() + [("_action", "submit")])
            #expect(submitted.location == "/admin/sheets?saved=submit")
            let after = try await results()
            #expect(after.evaluators == 2)
            #expect(after.computedAt != first.computedAt)
        }
    }
}

@Suite("Results downloads", .timeLimit(.minutes(2)))
struct ResultsDownloadTests {
    @Test func resultsAndAnswersAsCSVForExcel() async throws {
        try await TestApp.run { client, harness in
            let (round, _) = try await harness.workedExampleRound()
            let id = round.uuidString.lowercased()
            try await harness.database.query("UPDATE branches SET name = '=HYPERLINK(\"http://x\")办公室' WHERE code = 'b01'")
            try await harness.createUser("admin", password: "downloads for excel")
            var admin = Browser(client)
            _ = try await admin.post("/admin/login", form: [("username", "admin"), ("password", "downloads for excel")])

            let csv = try await admin.get("/admin/rounds/\(id)/results.csv")
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(csv.headers[.contentDisposition]?.contains("provisional.csv") == true)
            let bytes = Array(csv.body.readableBytesView)
            #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF])
            let lines = csv.text.dropFirst().components(separatedBy: "\r\n")
            #expect(lines[0].hasPrefix("名次,支部编码,支部名称,上级组织,综合得分"))
            #expect(lines[1].hasPrefix("1,b02,财务处党支部,,93.57,93.57,0.00,95.00,1,计入,92.50,2,份数不足,90.00,10,计入,"))
            #expect(lines[1].contains(",优秀,一般,是,支部党员未发生严重违纪违法问题,no_violations,,完整,v1,"))
            #expect(lines[2].hasPrefix("2,b01,\"'=HYPERLINK(\"\"http://x\"\")办公室\",,91.00,84.00,7.00,"))  // no formula
            #expect(lines.count == 4 && lines[3].isEmpty)  // CRLF after the last row
            let english = try await admin.get("/admin/rounds/\(id)/results.csv?lang=en")
            #expect(english.text.dropFirst().hasPrefix("Rank,Branch code,Branch,Organisation,Combined"))

            let workbook = try await admin.get("/admin/rounds/\(id)/results.xlsx")
            #expect(workbook.status == .ok)
            #expect(workbook.headers[.contentType] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            let zip = Array(workbook.body.readableBytesView)
            #expect(Array(zip.prefix(4)) == [0x50, 0x4B, 0x03, 0x04])  // a zip container, as .xlsx is
            #expect(zip.count > 5_000)
            #expect(workbook.headers[.contentLength] == String(zip.count))
            // The temporary file is gone once sent; other tests' rounds may be writing theirs.
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())
                .filter { $0.hasPrefix("kaoping-results-\(id)-") }
            #expect(leftovers.isEmpty)

            let sheets = try await admin.get("/admin/rounds/\(id)/sheets.csv")
            #expect(sheets.status == .ok)
            let sheetLines = sheets.text.dropFirst().components(separatedBy: "\r\n")
            #expect(sheetLines[0].hasPrefix("支部编码,支部名称,评审人,状态,提交时间（北京时间）,项目,项目代码,扣分,加分,底线是否达标"))
            #expect(
                sheetLines.contains {
                    $0.hasPrefix("b01,\"'=HYPERLINK") && $0.contains(",pingshen,已提交,")
                        && $0.contains(",融合成效：对照年度业务目标，党建工作推动业务工作的实际成效,integration,6.00,,,")
                }
            )
            #expect(
                sheetLines.contains { $0.hasPrefix("b02,财务处党支部,pingshen,已提交,") && $0.contains(",支部党员未发生严重违纪违法问题,no_violations,,,否,") }
            )

            let answers = try await admin.get("/admin/rounds/\(id)/responses.csv")
            #expect(answers.status == .ok)
            let answerLines = answers.text.dropFirst().components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(answerLines[0] == "答卷编号,支部编码,支部名称,评价主体,日期,答卷得分,题目,回答,分值,题目代码,选项代码")
            #expect(answerLines.count == 1 + 30)  // every stored response but b02's two members, below k
            // A date, no time.
            #expect(answerLines.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false)[4].count == 10 })
            // Named as the round is, with an ASCII name for clients that cannot take it.
            #expect(answers.headers[.contentDisposition]?.contains("filename=\"responses-") == true)
            #expect(answers.headers[.contentDisposition]?.contains("filename*=UTF-8''") == true)
            #expect(!answers.text.contains("pingshen"))
        }
    }
}

extension ResultsTests {
    /// Party building beside business results: nothing to show until the year's performance
    /// results are in, then the scatter, the coefficients with their caution, the quadrants and
    /// the branches whose ranks differ, each linked to its report.
    @Test func partyBuildingBesideBusinessResults() async throws {
        try await TestApp.run { client, harness in
            let (round, _) = try await harness.workedExampleRound()
            let id = round.uuidString.lowercased()
            try await harness.createUser("admin", password: "results for the committee")
            var admin = Browser(client)
            _ = try await admin.post("/admin/login", form: [("username", "admin"), ("password", "results for the committee")])
            let results = try await admin.get("/admin/rounds/\(id)/results").text
            #expect(results.contains("<a href=\"/admin/rounds/\(id)/integration\">党建与业务</a>"))

            #expect(!(try await admin.get("/admin/rounds/\(id)/results/b01").text.contains("与业务对照")))
            let empty = try await admin.get("/admin/rounds/\(id)/integration")
            #expect(empty.status == .ok)
            #expect(empty.text.contains("还没有导入 2026 年度的绩效结果"))
            #expect(!empty.text.contains("<svg"))

            var quiet = Logger(label: "test")
            quiet.logLevel = .critical
            try await harness.loadWorkedExamplePerformance()
            // b01: business 82.5 (weighted), party 91.00; b02: business 70, party 93.57.
            let page = try await admin.get("/admin/rounds/\(id)/integration").text
            #expect(page.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart scatter\""))
            #expect(page.contains("<a href=\"/admin/rounds/\(id)/results/b01\"><circle"))
            #expect(page.contains("斯皮尔曼等级相关 ρ <strong>-1.00</strong></td><td class=\"num\">–</td><td class=\"num\">2</td>"))
            #expect(page.contains("提示：只有 2 个支部同时有党建和业务得分，少于 10 个"))
            #expect(page.contains("虚线为中位数：业务 76.25，党建 92.29"))
            #expect(page.contains("<li>重业务轻党建：1</li>"))
            #expect(page.contains("<li>党建悬浮：1</li>"))
            #expect(page.contains("<li>融合共进：0</li>"))
            // Each cell carries its column's heading, its label where a phone shows each branch as a card.
            func label(_ key: String) -> String { "data-label=\"\(Language.chinese.text(key))\"" }
            #expect(
                page.contains(
                    "<td \(label("org_col_code"))><a href=\"/admin/rounds/\(id)/results/b01\">b01</a></td><td \(label("org_col_name"))>办公室党支部</td><td class=\"num\" \(label("integration_col_party_rank"))>2</td><td class=\"num\" \(label("integration_col_business_rank"))>1</td><td class=\"num\" \(label("integration_col_gap"))>+1</td><td \(label("integration_col_quadrant"))>重业务轻党建</td>"
                )
            )
            let english = try await admin.get("/admin/rounds/\(id)/integration?lang=en").text
            #expect(english.contains("Business over party building"))
            // The branch's report says where it stands.
            let report = try await admin.get("/admin/rounds/\(id)/results/b01?lang=zh").text
            #expect(report.contains("与业务对照（2026 年度绩效）：业务得分 82.50，位于“重业务轻党建”象限；党建排名第 2，业务排名第 1，差距 +1。"))
        }
    }
}

extension ResultsTests {
    /// The sheet the performance office asks for: computed while the round is open, frozen at
    /// close with the year's newest results, kept when a later version arrives until someone
    /// adopts it (audited), and the same figures on the page, in the CSV, in the workbook and
    /// through the API; the stored sheet is what its two inputs give, byte for byte.
    @Test func theIntegratedSheetFromOpenToFrozenAndAdopted() async throws {
        try await TestApp.run { client, harness in
            var quiet = Logger(label: "test")
            quiet.logLevel = .critical
            let (round, rounds) = try await harness.workedExampleRound()
            let id = round.uuidString.lowercased()
            try await harness.createUser("admin", password: "results for the committee")
            var admin = Browser(client)
            _ = try await admin.post("/admin/login", form: [("username", "admin"), ("password", "results for the committee")])
            let (_, token) = try await harness.issueToken("绩效系统")
            func api() async throws -> (HTTPResponse.Status, [String: Any]) {
                let response = try await client.execute(
                    uri: "/api/v1/rounds/\(id)/integration",
                    method: .get,
                    headers: [.authorization: "Bearer \(token)"],
                    body: nil
                )
                return (response.status, (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
            }

            #expect(try await admin.get("/admin/rounds/\(id)/integrated").text.contains("2026 年度尚未导入业务绩效结果"))
            #expect(try await api().0 == .notFound)
            #expect(try await admin.get("/admin/rounds/\(id)/integrated.csv").status == .notFound)

            let performance = PerformanceRepository(database: harness.database)
            _ = try await performance.importUnits(
                [
                    UnitRow(line: 2, code: "u1", name: "办公室", branchCode: "b01", headcount: 30),
                    UnitRow(line: 3, code: "u2", name: "财务处", branchCode: "b01", headcount: 10),
                    UnitRow(line: 4, code: "u3", name: "业务一处", branchCode: "b02", headcount: nil),
                ],
                logger: quiet
            )
            func load(_ u1: Double) async throws {
                _ = try await performance.importResults(
                    year: 2026,
                    [
                        PerformanceRow(line: 2, unitCode: "u1", score: u1, grade: nil, indicators: [:]),
                        PerformanceRow(line: 3, unitCode: "u2", score: 60, grade: nil, indicators: [:]),
                        PerformanceRow(line: 4, unitCode: "u3", score: 70, grade: "良好", indicators: [:]),
                    ],
                    source: "绩效办",
                    fileName: "2026.csv",
                    actor: .commandLine,
                    logger: quiet
                )
            }
            try await load(90)

            // Open: provisional. b01 business 82.50 (weighted), party 91.00 → 0.8 × 82.5 + 0.2 × 91 = 84.20.
            let open = try await admin.get("/admin/rounds/\(id)/integrated").text
            #expect(open.contains("本轮尚未结束，数据为临时结果"))
            #expect(open.contains("读取 2026 年度绩效结果第 1 版，党建占综合得分的比重为 0.20"))
            // Each cell carries its column's heading, its label where a phone shows each branch as a card.
            func label(_ key: String) -> String { "data-label=\"\(Language.chinese.text(key))\"" }
            #expect(open.contains("<td class=\"num\" \(label("col_business_score"))>82.50</td>"))
            #expect(
                open.contains(
                    "<td class=\"num\" \(label("col_party_score"))>91.00</td><td \(label("col_party_grade"))>优秀</td><td class=\"num\" \(label("col_integrated_score"))><strong>84.20</strong></td><td \(label("col_integrated_grade"))>良好</td>"
                )
            )
            // b02 failed a baseline item: its units' staff are barred from awards.
            #expect(open.contains("<td \(label("col_code"))>u3</td><td \(label("col_name"))>业务一处</td>"))
            #expect(open.components(separatedBy: "<strong class=\"flag\">是</strong>").count == 3)  // b02 and u3
            #expect(try await api().1["provisional"] as? Bool == true)
            // An open round's sheet follows the newest version by itself: nothing to adopt.
            #expect(try await admin.post("/admin/rounds/\(id)/integrated", form: []).status == .notFound)
            #expect(try await harness.count("SELECT count(*)::int FROM integrated_sheets WHERE round_id = '\(id)'") == 0)

            // Closing freezes it with version 1.
            #expect(try await rounds.close(round, actor: .commandLine, logger: quiet))
            // The warming service computes the closed round's diagnostic, in the server's own
            // results service, where the pages find it.
            let results = harness.services.results
            try await results.warm(roundID: round, logger: quiet)
            let closed = try #require(try await harness.services.resultsRepository.current(roundID: round, logger: quiet))
            #expect(!closed.provisional)
            let key = ResultsService.DiagnosticKey(round: round, computedAt: closed.computedAt, performanceVersion: 1)
            #expect(results.diagnostics.value(for: key)?.diagnostic?.branches.isEmpty == false)
            #expect(try await harness.count("SELECT count(*)::int FROM integrated_sheets WHERE round_id = '\(id)' AND performance_version = 1") == 1)
            let frozen = try await admin.get("/admin/rounds/\(id)/integrated").text
            #expect(frozen.contains("本轮已结束，以上数据随本轮固定"))
            let (status, document) = try await api()
            #expect(status == .ok && document["provisional"] as? Bool == false)
            let integration = try #require(document["integration"] as? [String: Any])
            #expect(integration["performanceVersion"] as? Int == 1 && integration["partyWeight"] as? Double == 0.2)
            let apiUnits = try #require(integration["units"] as? [[String: Any]])
            #expect(apiUnits.map { $0["code"] as? String } == ["u1", "u2", "u3"])
            #expect((apiUnits[0]["integratedScore"] as? Double).map { abs($0 - 90.2) < 1e-9 } == true)
            #expect(apiUnits[2]["awardsBarred"] as? Bool == true && apiUnits[2]["businessGrade"] as? String == "良好")

            // A second version of the year: the frozen sheet stays until it is adopted.
            try await load(50)
            let kept = try await admin.get("/admin/rounds/\(id)/integrated").text
            #expect(kept.contains("<strong>90.20</strong>"))
            #expect(kept.contains("2026 年度绩效结果已有更新的第 2 版"))
            let adopted = try await admin.post("/admin/rounds/\(id)/integrated", form: [])
            #expect(adopted.status == .seeOther)
            let after = try await admin.get(try #require(adopted.headers[.location])).text
            #expect(after.contains("已采用新版本绩效结果重新固定") && after.contains("<strong>58.20</strong>") && !after.contains("更新的第"))
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'integration.frozen' AND actor_name = 'admin'") == 1)

            // The stored sheet is its two inputs, byte for byte.
            let stored = try await harness.database.query("SELECT sheet::text FROM integrated_sheets WHERE round_id = \(round)").first!
                .decode(String.self)
            let final = try await harness.database.query("SELECT results::text FROM result_snapshots WHERE round_id = \(round) AND kind = 'final'")
                .first!.decode(String.self)
            let units = try #require(try await performance.unitResults(year: 2026, version: 2, logger: quiet))
            let recomputed = IntegratedSheet.make(
                result: try JSONDecoder().decode(RoundResult.self, from: Data(final.utf8)),
                units: units.units,
                performanceYear: 2026,
                performanceVersion: units.version,
                settings: .standard,
                bands: RoundConfiguration.defaultBands
            )
            #expect(
                try RoundRepository.json(recomputed) == RoundRepository.json(try JSONDecoder().decode(IntegratedSheet.self, from: Data(stored.utf8)))
            )

            // The same figures in the CSV and in the workbook's own sheet.
            let csv = try await admin.get("/admin/rounds/\(id)/integrated.csv").text
            let lines = csv.components(separatedBy: "\r\n")
            #expect(
                lines[0]
                    == "\u{FEFF}层级,编码,名称,支部编码,支部名称,人数,业务绩效得分,业务绩效等次（绩效考评原等次）,业务绩效等次（按本轮等次线）,党建综合得分,党建等次（本轮评定）,综合得分,综合等次（按本轮等次线）,综合排名,不得评先评优,未达底线项目,未达底线项目代码,绩效年度,绩效版本,党建比重"
            )
            // u1's business 50 is 较差 by the round's bands; the performance office gave no grade.
            #expect(lines.contains("单位,u1,办公室,b01,办公室党支部,30,50.00,,较差,91.00,优秀,58.20,较差,3,,,,2026,2,20.0%"))
            // u3's own grade 良好 as imported, and its 70 by the round's bands 一般, as its branch's 70.
            #expect(
                lines.contains {
                    $0.hasPrefix("单位,u3,业务一处,b02,财务处党支部,,70.00,良好,一般,93.57,")
                        && $0.contains(",是,支部党员未发生严重违纪违法问题,no_violations,2026,2,20.0%")
                }
            )
            #expect(
                lines.contains {
                    $0.hasPrefix("支部,b02,财务处党支部,b02,财务处党支部,,70.00,,一般,93.57,")
                        && $0.contains(",是,支部党员未发生严重违纪违法问题,no_violations,2026,2,20.0%")
                }
            )
            let workbook = try await admin.get("/admin/rounds/\(id)/results.xlsx")
            let sheets = try XLSXReader.sheets(Array(workbook.body.readableBytesView))
            let integrated = try #require(sheets.first { $0.name == "党建与业务综合" })
            #expect(integrated.rows.count == 6)
            #expect(integrated.rows[1].cells.prefix(7) == ["单位", "u1", "办公室", "b01", "办公室党支部", "30", "50"])
            #expect(integrated.rows[1].cells[8] == "较差")  // by the round's bands, beside the office's own (none)
            #expect(integrated.rows[1].cells[11] == "58.2")
            #expect(integrated.rows[1].cells.last == "0.2")  // the party-building share: a number, shown as 20.0%
        }
    }
}

extension ResultsTests {
    /// Each dimension score belongs to its dimension, from the form the respondent fills in,
    /// through the sealed ballot and the mixer's array in the form's order, to the results read
    /// back by key. The answers make every dimension's mean different, so a score landing on
    /// another dimension's key (the array reversed when written or when read) shows.
    @Test func everyDimensionScoreStaysWithItsDimensionFromFormToResults() async throws {
        try await TestApp.run { client, harness in
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            try await harness.database.query("INSERT INTO branches (code, name) VALUES ('d01', '维度党支部')")
            try await harness.database.query(
                "INSERT INTO members (staff_number, name, branch_id) SELECT 'd' || g, '党员', (SELECT id FROM branches WHERE code = 'd01') FROM generate_series(1, 5) g"
            )
            let rounds = try harness.roundRepository()
            let round = try await rounds.create(RoundSpec(title: "维度", year: 2026, closesAt: .now + 86400), actor: .commandLine, logger: logger)
            try await rounds.open(round, actor: .commandLine, logger: logger)
            let invitations = InvitationRepository(database: harness.database, tokens: InvitationTokens(secret: TestApp.invitationSecret))
            _ = try await TestApp.handouts(harness.database).issueInvitations(round: round, actor: .commandLine, logger: logger)
            let links = try await invitations.links(roundID: round).map { "/s/\($0.token)" }
            #expect(links.count == 5)

            // The member form's dimensions in its order: thinking (4 items), capability (4),
            // style (5), results (4). Member i gives every item of a dimension the same option.
            // Points (version 2 of the form): 5 → 100, 4 → 85, 3 → 70, 2 → 55, 1 → 40.
            let memberOptions: [String: [String]] = [
                "thinking": ["5", "5", "5", "5", "4"],  // 100, 100, 100, 100, 85: mean 97
                "capability": ["4", "4", "4", "3", "3"],  // 85, 85, 85, 70, 70: mean 79
                "style": ["3", "3", "2", "2", "2"],  // 70, 70, 55, 55, 55: mean 61
                "results": ["1", "1", "1", "2", "2"],  // 40, 40, 40, 55, 55: mean 46
            ]
            let catalog = try FormCatalog(directory: TestDatabaseServer.repositoryRoot + "/forms")
            let memberForm = try #require(catalog.form("member-integration"))
            for (index, link) in links.enumerated() {
                var browser = Browser(client)
                let page = try await browser.get(link)
                var fields: [(String, String)] = [("q.overall", "3"), ("_key", try #require(page.hidden("_key")))]
                for item in memberForm.items where item.isScored {
                    guard let dimension = item.dimension else { continue }
                    fields.append(("q.\(item.key)", try #require(memberOptions[dimension])[index]))
                }
                let thanks = try await browser.post(link, form: fields)
                #expect(thanks.status == .ok && thanks.text.contains("感谢您的评价"))
            }
            // The public form's dimensions in its order: service (3 items), style (3), results
            // (2; its second item, overall, is the satisfaction question). Two of them share a
            // key with the member form's at another position.
            let publicOptions: [String: String] = ["service": "satisfied", "style": "fairly", "results": "dissatisfied"]  // 100, 75, 55
            let publicForm = try #require(catalog.form("public-satisfaction"))
            let publicLink = try await harness.database.query("SELECT public_code FROM round_branches WHERE round_id = \(round)").first!
                .decode(String.self)
            for _ in 0..<5 {
                var browser = Browser(client)
                let page = try await browser.get("/p/\(publicLink)")
                var fields: [(String, String)] = [("_key", try #require(page.hidden("_key")))]
                for item in publicForm.items where item.isScored {
                    let dimension = try #require(item.dimension)
                    fields.append(("q.\(item.key)", try #require(publicOptions[dimension])))
                }
                let thanks = try await browser.post("/p/\(publicLink)", form: fields)
                #expect(thanks.status == .ok)
            }
            // The server's mixer may have taken a batch already: what is left goes now.
            try await harness.mixBallots(round: round)
            #expect(try await harness.count("SELECT count(*)::int FROM responses") == 10)

            // The JSON API, by key.
            let (_, token) = try await harness.issueToken("维度")
            let id = round.uuidString.lowercased()
            let api = try await client.execute(
                uri: "/api/v1/rounds/\(id)/results",
                method: .get,
                headers: [.authorization: "Bearer \(token)"],
                body: nil
            )
            let document = try #require(try JSONSerialization.jsonObject(with: Data(buffer: api.body)) as? [String: Any])
            let subjects = try #require((document["results"] as? [String: Any])?["subjects"] as? [[String: Any]])
            let groups = try #require(subjects.first { $0["code"] as? String == "d01" }?["groups"] as? [String: Any])
            let members = try #require((groups["members"] as? [String: Any])?["dimensions"] as? [String: Double])
            #expect(members == ["thinking": 97, "capability": 79, "style": 61, "results": 46])
            let publicDimensions = try #require((groups["public"] as? [String: Any])?["dimensions"] as? [String: Double])
            #expect(publicDimensions == ["service": 100, "style": 75, "results": 55])

            // The branch report's bars, by label.
            try await harness.createUser("admin", password: "dimensions by name")
            var admin = Browser(client)
            _ = try await admin.post("/admin/login", form: [("username", "admin"), ("password", "dimensions by name")])
            let report = try await admin.get("/admin/rounds/\(id)/results/d01").text
            func bar(_ label: String) throws -> String? {
                let pattern = try Regex(">\(label)</text><rect [^>]*/><text [^>]*>([0-9.]+)</text>")
                return try pattern.firstMatch(in: report).flatMap { $0.output[1].substring.map(String.init) }
            }
            #expect(try bar("思想认识融合") == "97.00")
            #expect(try bar("能力提升融合") == "79.00")
            #expect(try bar("作风建设融合") == "61.00")
            #expect(try bar("实践成效融合") == "46.00")
        }
    }
}
