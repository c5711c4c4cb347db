import Foundation
import KaopingAggregation
import Logging
import PostgresNIO
import Testing

@testable import KaopingServer

/// The anonymity threshold (k = 5) in every output: branch b01's members and public are k − 1,
/// b02's are k. Below k an output shows the group's count and mean and nothing finer
/// (docs/scoring.md, "Anonymity threshold").
@Suite("The anonymity threshold in every output", .timeLimit(.minutes(2)))
struct DisclosureTests {
    /// b01: 4 members (dimension 33.33, comments 留言-b01-…) and 4 public (3 satisfied);
    /// b02: 5 members (dimension 44.44, comments 留言-b02-…) and 5 public (2 satisfied).
    static func round(_ harness: TestHarness) async throws -> (round: UUID, rounds: RoundRepository) {
        let database = harness.database
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        try await database.query("INSERT INTO branches (code, name) VALUES ('b01', '办公室党支部'), ('b02', '财务处党支部')")
        try await database.query(
            """
            INSERT INTO members (staff_number, name, branch_id)
            SELECT c || g, '党员', b.id FROM (VALUES ('b01'), ('b02')) v(c) JOIN branches b ON b.code = v.c, generate_series(1, 8) g
            """
        )
        let rounds = try harness.roundRepository()
        let round = try await rounds.create(RoundSpec(title: "门槛", year: 2026, closesAt: .now + 86400), actor: .commandLine, logger: logger)
        try await rounds.open(round, actor: .commandLine, logger: logger)
        for (code, count, dimension) in [("b01", 4, 33.33), ("b02", 5, 44.44)] {
            for index in 1...count {
                let response = try await database.query(
                    """
                    INSERT INTO responses (round_id, branch_id, rater_group, form_version_id, submitted_on, score, dimension_scores)
                    SELECT \(round), b.id, 'members', g.form_version_id, current_date, \(70.0 + Double(index)), ARRAY[\(dimension)]::float8[]
                    FROM branches b, round_groups g WHERE b.code = \(code) AND g.round_id = \(round) AND g.rater_group = 'members'
                    RETURNING id
                    """
                ).first!.decode(UUID.self)
                try await database.query(
                    """
                    INSERT INTO answers (response_id, item_key, option_key, points) VALUES (\(response), 'overall', '4', 75);
                    """
                )
                try await database.query(
                    "INSERT INTO answers (response_id, item_key, text_value) VALUES (\(response), 'works_well', \("留言-\(code)-\(index)"))"
                )
                try await database.query(
                    """
                    INSERT INTO responses (round_id, branch_id, rater_group, form_version_id, submitted_on, score, satisfied)
                    SELECT \(round), b.id, 'public', g.form_version_id, current_date, 80, \(index <= (code == "b01" ? 3 : 2))
                    FROM branches b, round_groups g WHERE b.code = \(code) AND g.round_id = \(round) AND g.rater_group = 'public'
                    """
                )
            }
        }
        return (round, rounds)
    }

    @Test func belowKOnlyTheCountAndMeanLeaveTheServer() async throws {
        try await TestApp.run { client, harness in
            let (round, rounds) = try await Self.round(harness)
            let id = round.uuidString.lowercased()
            try await harness.createUser("admin", password: "threshold admin")
            var admin = Browser(client)
            _ = try await admin.post("/admin/login", form: [("username", "admin"), ("password", "threshold admin")])

            // The JSON API: the group's n and mean, no spread, dimensions or satisfaction below k.
            let (_, token) = try await harness.issueToken("分析")
            let api = try await client.execute(
                uri: "/api/v1/rounds/\(id)/results",
                method: .get,
                headers: [.authorization: "Bearer \(token)"],
                body: nil
            )
            #expect(api.status == .ok)
            try Self.checkJSON(Data(buffer: api.body), path: ["results"])

            // The ranking page and each branch's report.
            let ranking = try await admin.get("/admin/rounds/\(id)/results")
            #expect(ranking.status == .ok)
            #expect(!ranking.text.contains("33.3") && !ranking.text.contains("75.0%"))
            let below = try await admin.get("/admin/rounds/\(id)/results/b01")
            #expect(below.status == .ok)
            #expect(below.text.contains("71.0") || below.text.contains("72.5"))  // the members' mean is shown
            #expect(!below.text.contains("留言-b01") && !below.text.contains("33.3") && !below.text.contains("75.0%"))
            let at = try await admin.get("/admin/rounds/\(id)/results/b02")
            #expect(at.text.contains("留言-b02-1") && at.text.contains("44.4") && at.text.contains("40.0%"))

            // The results CSV: b01's public satisfaction is blank, b02's is there.
            let csv = try await admin.get("/admin/rounds/\(id)/results.csv").text
            let rows = csv.components(separatedBy: "\r\n").map { $0.components(separatedBy: ",") }
            let header = try #require(rows.first)
            let satisfied = try #require(header.firstIndex { $0.contains("满意") })
            #expect(rows.first { $0.count > 1 && $0[1] == "b01" }?[satisfied] == "")
            #expect(rows.first { $0.count > 1 && $0[1] == "b02" }?[satisfied].isEmpty == false)

            // The workbook, every part of it.
            let workbook = try await admin.get("/admin/rounds/\(id)/results.xlsx")
            #expect(workbook.status == .ok)
            let parts = try XLSXReader.sheets(Array(workbook.body.readableBytesView)).flatMap { $0.rows.flatMap(\.cells) }.joined(separator: "\n")
            #expect(!parts.contains("留言-b01") && !parts.contains("33.33"))
            #expect(parts.contains("留言-b02-1") && parts.contains("44.44"))

            // The answers CSV: no row of a group below k; every answer of b02's.
            let answers = try await admin.get("/admin/rounds/\(id)/responses.csv").text
            let answerRows = answers.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }
            #expect(!answerRows.contains { $0.contains(",b01,") })
            #expect(answerRows.filter { $0.contains(",b02,") && $0.contains(",党员评价,") }.count == 10)
            #expect(answerRows.filter { $0.contains(",b02,") && $0.contains(",群众评价,") }.count == 5)

            // The command line: `kaoping results` and `kaoping export answers`.
            let directory = NSTemporaryDirectory() + "kaoping-disclosure-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let kaoping = CommandLineTests.Program(url: harness.url, directory: directory)
            try Self.checkJSON(Data(try await kaoping.run(["results", id]).out.utf8), path: [])
            let exported = try await kaoping.run(["export", "responses", id, "--out", "-"]).out
            #expect(!exported.contains(",b01,") && exported.contains(",党员评价,"))

            // Closed, the stored snapshot keeps everything; what is shown of it still follows k.
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            #expect(try await rounds.close(round, actor: .commandLine, logger: logger))
            #expect(try await harness.count("SELECT count(*)::int FROM result_snapshots WHERE results::text LIKE '%33.33%'") == 1)
            let closed = try await client.execute(
                uri: "/api/v1/rounds/\(id)/results",
                method: .get,
                headers: [.authorization: "Bearer \(token)"],
                body: nil
            )
            try Self.checkJSON(Data(buffer: closed.body), path: ["results"])
            let history = try await client.execute(
                uri: "/api/v1/branches/b01/history",
                method: .get,
                headers: [.authorization: "Bearer \(token)"],
                body: nil
            )
            #expect(history.status == .ok)
            #expect(!String(buffer: history.body).contains("33.33"))
            #expect(try await admin.get("/admin/rounds/\(id)/results/b01").text.contains("留言-b01") == false)
        }
    }

    /// b01's survey groups carry n and the mean but no spread, dimensions or satisfaction;
    /// b02's carry them all.
    static func checkJSON(_ data: Data, path: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        var object = try JSONSerialization.jsonObject(with: data)
        for key in path { object = try #require((object as? [String: Any])?[key], sourceLocation: sourceLocation) }
        let subjects = try #require((object as? [String: Any])?["subjects"] as? [[String: Any]], sourceLocation: sourceLocation)
        func group(_ code: String, _ name: String) throws -> [String: Any] {
            let subject = try #require(subjects.first { $0["code"] as? String == code }, sourceLocation: sourceLocation)
            return try #require((subject["groups"] as? [String: Any])?[name] as? [String: Any], sourceLocation: sourceLocation)
        }
        func present(_ value: Any?) -> Bool { value != nil && !(value is NSNull) }
        let belowMembers = try group("b01", "members")
        #expect(belowMembers["n"] as? Int == 4 && belowMembers["score"] as? Double == 72.5, sourceLocation: sourceLocation)
        #expect(!present(belowMembers["standardDeviation"]) && !present(belowMembers["confidenceLow"]), sourceLocation: sourceLocation)
        #expect((belowMembers["dimensions"] as? [String: Any])?.isEmpty == true, sourceLocation: sourceLocation)
        #expect(!present(try group("b01", "public")["satisfactionRate"]), sourceLocation: sourceLocation)
        let atMembers = try group("b02", "members")
        #expect(
            present(atMembers["standardDeviation"]) && (atMembers["dimensions"] as? [String: Any])?["thinking"] as? Double == 44.44,
            sourceLocation: sourceLocation
        )
        #expect(try group("b02", "public")["satisfactionRate"] as? Double == 0.4, sourceLocation: sourceLocation)
    }
}

extension DisclosureTests {
    /// A round with a threshold of its own (k = 8): b01's members and public are k − 1, the
    /// other branches' k. Every output applies the round's k, not the default 5.
    ///
    /// Members (eligible 8 each; 7 or more scored responses are trimmed by one at each end):
    /// b01 scores 70, 72 … 82 (mean of the kept 76), dimensions 33.33, 4 of 7 straight-lined;
    /// b02 60, 65 … 95 (77.5), dimensions 41–44, 4 of 8 straight-lined; b03 81 … 88 (84.5),
    /// dimensions 52–55; b04 51 … 58 (54.5), dimensions 63–66. Public (quorum 10, so not
    /// counted): b01 7 of which 5 satisfied, b02 8 of which 6. Each branch's sheet loses
    /// nothing: 100. Combined (organisation 0.5, members 0.3, reweighted over 0.8): b01
    /// (50 + 22.8) / 0.8 = 91.00, b02 91.56, b03 94.19, b04 82.94.
    static func roundAtEight(_ harness: TestHarness) async throws -> (round: UUID, rounds: RoundRepository) {
        let database = harness.database
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        try await database.query(
            "INSERT INTO branches (code, name) VALUES ('b01', '办公室党支部'), ('b02', '财务处党支部'), ('b03', '人事处党支部'), ('b04', '机要处党支部')"
        )
        try await database.query(
            """
            INSERT INTO members (staff_number, name, branch_id)
            SELECT b.code || '-' || g, '党员', b.id FROM branches b, generate_series(1, 8) g
            """
        )
        let rounds = try harness.roundRepository()
        let round = try await rounds.create(
            RoundSpec(title: "门槛八", year: 2026, closesAt: .now + 86400, configuration: RoundConfiguration(anonymityThreshold: 8)),
            actor: .commandLine,
            logger: logger
        )
        try await rounds.open(round, actor: .commandLine, logger: logger)
        let members: [(code: String, scores: [Double], dimensions: [Double], straight: Int)] = [
            ("b01", [70, 72, 74, 76, 78, 80, 82], [33.33, 33.33, 33.33, 33.33], 4),
            ("b02", [60, 65, 70, 75, 80, 85, 90, 95], [41, 42, 43, 44], 4),
            ("b03", [81, 82, 83, 84, 85, 86, 87, 88], [52, 53, 54, 55], 0),
            ("b04", [51, 52, 53, 54, 55, 56, 57, 58], [63, 64, 65, 66], 0),
        ]
        for (code, scores, dimensions, straight) in members {
            for (index, score) in scores.enumerated() {
                let response = try await database.query(
                    """
                    INSERT INTO responses (round_id, branch_id, rater_group, form_version_id, submitted_on, score, dimension_scores, straight_lined)
                    SELECT \(round), b.id, 'members', g.form_version_id, current_date, \(score), \(dimensions)::float8[], \(index < straight)
                    FROM branches b, round_groups g WHERE b.code = \(code) AND g.round_id = \(round) AND g.rater_group = 'members'
                    RETURNING id
                    """
                ).first!.decode(UUID.self)
                try await database.query("INSERT INTO answers (response_id, item_key, option_key, points) VALUES (\(response), 'overall', '4', 75)")
                try await database.query(
                    "INSERT INTO answers (response_id, item_key, text_value) VALUES (\(response), 'works_well', \("留言-\(code)-\(index + 1)"))"
                )
                let satisfied = index < (code == "b01" ? 5 : 6)
                try await database.query(
                    """
                    INSERT INTO responses (round_id, branch_id, rater_group, form_version_id, submitted_on, score, satisfied)
                    SELECT \(round), b.id, 'public', g.form_version_id, current_date, 80, \(satisfied)
                    FROM branches b, round_groups g WHERE b.code = \(code) AND g.round_id = \(round) AND g.rater_group = 'public'
                    """
                )
            }
        }
        let evaluator = try await harness.createUser("pingshen", password: "sheets at eight", role: .evaluator)
        try await database.query(
            """
            WITH sheets AS (
              INSERT INTO org_sheets (round_id, branch_id, evaluator_id, form_version_id, status, submitted_at)
              SELECT \(round), rb.branch_id, \(evaluator.id), g.form_version_id, 'submitted', now()
              FROM round_branches rb, round_groups g WHERE rb.round_id = \(round) AND g.round_id = \(round) AND g.rater_group = 'organisation'
              RETURNING id
            )
            INSERT INTO org_sheet_entries (sheet_id, item_key, points_lost) SELECT id, 'study', 0 FROM sheets
            """
        )
        return (round, rounds)
    }

    @Test func theRoundsOwnThresholdHidesAtKMinusOneAndShowsAtK() async throws {
        try await TestApp.run { client, harness in
            let (round, _) = try await Self.roundAtEight(harness)
            let id = round.uuidString.lowercased()
            try await harness.createUser("admin", password: "threshold of eight")
            var admin = Browser(client)
            _ = try await admin.post("/admin/login", form: [("username", "admin"), ("password", "threshold of eight")])

            // The JSON API: below k, n and the mean; no spread, interval, dimensions,
            // satisfaction or straight-lining.
            let (_, token) = try await harness.issueToken("分析")
            let api = try await client.execute(
                uri: "/api/v1/rounds/\(id)/results",
                method: .get,
                headers: [.authorization: "Bearer \(token)"],
                body: nil
            )
            #expect(api.status == .ok)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(buffer: api.body)) as? [String: Any])
            let subjects = try #require((document["results"] as? [String: Any])?["subjects"] as? [[String: Any]])
            func group(_ code: String, _ name: String) throws -> [String: Any] {
                let subject = try #require(subjects.first { $0["code"] as? String == code })
                return try #require((subject["groups"] as? [String: Any])?[name] as? [String: Any])
            }
            func present(_ value: Any?) -> Bool { value != nil && !(value is NSNull) }
            let below = try group("b01", "members")
            #expect(below["n"] as? Int == 7 && below["score"] as? Double == 76)
            for key in ["standardDeviation", "confidenceLow", "confidenceHigh", "straightLinedShare", "satisfactionRate"] {
                #expect(!present(below[key]), "b01 members \(key)")
            }
            #expect((below["dimensions"] as? [String: Any])?.isEmpty == true)
            let belowPublic = try group("b01", "public")
            #expect(belowPublic["n"] as? Int == 7)
            #expect(!present(belowPublic["satisfactionRate"]) && !present(belowPublic["straightLinedShare"]))
            let at = try group("b02", "members")
            #expect(at["n"] as? Int == 8 && at["score"] as? Double == 77.5)
            for key in ["standardDeviation", "confidenceLow", "confidenceHigh"] { #expect(present(at[key]), "b02 members \(key)") }
            #expect(at["straightLinedShare"] as? Double == 0.5)
            #expect(at["dimensions"] as? [String: Double] == ["thinking": 41, "capability": 42, "style": 43, "results": 44])
            let atPublic = try group("b02", "public")
            #expect(atPublic["satisfactionRate"] as? Double == 0.75 && atPublic["straightLinedShare"] as? Double == 0)

            // The branch reports: b01's groups say why they show no detail; b02's show it.
            let belowReport = try await admin.get("/admin/rounds/\(id)/results/b01").text
            #expect(belowReport.contains("答卷数少于匿名阈值") && belowReport.contains("匿名阈值 8"))
            #expect(!belowReport.contains("留言-b01") && !belowReport.contains("33.33") && !belowReport.contains("71.4%"))
            let atReport = try await admin.get("/admin/rounds/\(id)/results/b02").text
            #expect(!atReport.contains("答卷数少于匿名阈值"))
            #expect(atReport.contains("留言-b02-1") && atReport.contains(">41.00</text>") && atReport.contains("75.0%"))

            // The diagnostic page lists straight-lining from k on: b02 (4 of 8), not b01 (4 of 7).
            let diagnostics = try await admin.get("/admin/rounds/\(id)/diagnostics").text
            #expect(
                diagnostics.contains(
                    "<td><a href=\"/admin/rounds/\(id)/results/b02\">b02</a></td><td>财务处党支部</td><td>党员评价</td><td class=\"num\">8</td><td class=\"num\">50%</td>"
                )
            )
            #expect(!diagnostics.contains(">b01</a>"))

            // The answers CSV: nothing of b01's groups; all of b02's.
            let answers = try await admin.get("/admin/rounds/\(id)/responses.csv").text
            let answerRows = answers.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }
            #expect(!answerRows.contains { $0.contains(",b01,") })
            #expect(answerRows.filter { $0.contains(",b02,") && $0.contains(",党员评价,") }.count == 16)
            #expect(answerRows.filter { $0.contains(",b02,") && $0.contains(",群众评价,") }.count == 8)

            // The evaluators' sheets are not anonymous: every branch's, whatever its groups' size.
            let sheets = try await admin.get("/admin/rounds/\(id)/sheets.csv").text
            for code in ["b01", "b02"] {
                #expect(
                    sheets.components(separatedBy: "\r\n").contains {
                        $0.hasPrefix("\(code),") && $0.contains(",pingshen,已提交,") && $0.contains(",study,0.00,")
                    }
                )
            }

            // The workbook: b02's dimensions and comments, nothing finer of b01's.
            let workbook = try await admin.get("/admin/rounds/\(id)/results.xlsx")
            let cells = try XLSXReader.sheets(Array(workbook.body.readableBytesView)).flatMap { $0.rows.flatMap(\.cells) }
            #expect(!cells.contains("33.33") && !cells.contains { $0.contains("留言-b01") })
            #expect(cells.contains("41") && cells.contains { $0.contains("留言-b02-1") })

            // Beside business results: b01 (business 70) is on the scatter and in the integrated
            // sheet with its combined score, but its members' dimensions stay out of the
            // dimension correlations, which rest on b02, b03 and b04. Thinking against business,
            // in ranks: (41, 80), (52, 90), (63, 60) → ρ = −0.50, three pairs, no interval.
            var quiet = Logger(label: "test")
            quiet.logLevel = .critical
            let performance = PerformanceRepository(database: harness.database)
            _ = try await performance.importUnits(
                [("u1", "b01"), ("u2", "b02"), ("u3", "b03"), ("u4", "b04")].enumerated().map { line, unit in
                    UnitRow(line: line + 2, code: unit.0, name: "处室\(line + 1)", branchCode: unit.1, headcount: nil)
                },
                logger: quiet
            )
            _ = try await performance.importResults(
                year: 2026,
                [("u1", 70.0), ("u2", 80), ("u3", 90), ("u4", 60)].enumerated().map { line, result in
                    PerformanceRow(line: line + 2, unitCode: result.0, score: result.1, grade: nil, indicators: [:])
                },
                source: "",
                fileName: "2026.csv",
                actor: .commandLine,
                logger: quiet
            )
            let integration = try await admin.get("/admin/rounds/\(id)/integration").text
            #expect(integration.contains("<a href=\"/admin/rounds/\(id)/results/b01\"><circle"))
            for label in ["思想认识融合", "能力提升融合", "作风建设融合", "实践成效融合"] {
                #expect(
                    integration.contains("<tr><td>\(label)</td><td class=\"num\">-0.50</td><td class=\"num\">–</td><td class=\"num\">3</td></tr>"),
                    "\(label)"
                )
            }
            // 0.8 × 70 + 0.2 × 91 = 74.20.
            let integrated = try await admin.get("/admin/rounds/\(id)/integrated.csv").text.components(separatedBy: "\r\n")
            #expect(integrated.contains { $0.hasPrefix("支部,b01,办公室党支部,b01,办公室党支部,,70.00,") && $0.contains(",91.00,优秀,74.20,一般,") })
        }
    }
}
