import Foundation
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
