import Foundation
import KaopingAggregation
import Logging
import PostgresNIO
import Testing

@testable import KaopingServer

@Suite("Results from the database", .timeLimit(.minutes(2)))
struct ResultsTests {
    /// The worked example of the scoring method, stored the way the server stores answers.
    @Test func theWorkedExampleFromTheTablesAndFrozenAtCloseExactlyOnce() async throws {
        try await TestApp.run { _, harness in
            let database = harness.database
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
            let rounds = RoundRepository(database: database, forms: catalog, audit: PostgresAuditLog(database: database))
            let round = try await rounds.create(RoundSpec(title: "示例", year: 2026), actor: .commandLine, logger: logger)
            try await rounds.open(round, actor: .commandLine, logger: logger)
            let evaluator = try await harness.createUser("pingshen", password: "sheets sheets", role: .evaluator)

            func respond(_ branch: String, _ group: String, _ scores: [Double], satisfied: Bool? = nil, inBox: Bool = false) async throws {
                for score in scores {
                    let satisfiedJSON = satisfied.map { $0 ? "true" : "false" } ?? "null"
                    if inBox {
                        try await database.query(
                            """
                            INSERT INTO ballot_box (round_id, branch_id, rater_group, form_version_id, submitted_on, ballot)
                            SELECT \(round), b.id, \(group), g.form_version_id, current_date,
                                   jsonb_build_object('score', \(score)::float8, 'dimensions', jsonb_build_object('thinking', \(score)::float8),
                                                      'straightLined', false, 'satisfied', \(satisfiedJSON)::jsonb, 'answers', '[]'::jsonb)
                            FROM branches b, round_groups g WHERE b.code = \(branch) AND g.round_id = \(round) AND g.rater_group = \(group)
                            """
                        )
                    } else {
                        try await database.query(
                            """
                            INSERT INTO responses (round_id, branch_id, rater_group, form_version_id, submitted_on, score, dimension_scores, straight_lined, satisfied)
                            SELECT \(round), b.id, \(group), g.form_version_id, current_date, \(score), jsonb_build_object('thinking', \(score)::float8),
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
            try await respond("b01", "public", [75], satisfied: false, inBox: true)  // not mixed yet: still counts
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
                for (item, points) in lost { try await database.query("INSERT INTO org_sheet_entries (sheet_id, item_key, points_lost) VALUES (\(id), \(item), \(points))") }
                for (item, points) in earned { try await database.query("INSERT INTO org_sheet_entries (sheet_id, item_key, points_earned) VALUES (\(id), \(item), \(points))") }
                for item in ["org_life_held", "no_violations", "dues_collected"] {
                    try await database.query("INSERT INTO org_sheet_entries (sheet_id, item_key, passed) VALUES (\(id), \(item), \(!failed.contains(item)))")
                }
            }
            try await sheet("b01", lost: ["org_life": 4, "integration": 6], earned: ["awards": 3, "innovation": 5, "integration_practice": 1], failed: [])
            try await sheet("b02", lost: ["study": 5], earned: [:], failed: ["no_violations"])

            let results = ResultsRepository(database: database, forms: PostgresFormRepository(database: database))
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

            // Closing mixes the last ballot in and freezes the same figures, once.
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
