import Foundation
import Logging
import Testing

@testable import KaopingServer

@Suite("Demo office", .timeLimit(.minutes(3)))
struct DemoTests {
    @Test func theDemoFillsAnEmptyDatabaseOnce() async throws {
        try await TestApp.run { _, harness in
            let demo = DemoData(services: harness.services, hasher: TestApp.hasher)
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let summary = try #require(try await demo.seedIfEmpty(publicBaseURL: "http://kaoping.test", logger: logger))
            #expect(try await harness.count("SELECT count(*)::int FROM branches") == 12)
            let members = try await harness.count("SELECT count(*)::int FROM members")
            #expect((108...192).contains(members))
            #expect(try await harness.count("SELECT count(*)::int FROM rounds WHERE status = 'open' AND closes_at > now() + interval '6 days'") == 1)
            let answered = try await harness.count("SELECT count(*)::int FROM responses") + harness.count("SELECT count(*)::int FROM ballot_box")
            #expect(answered > 150)
            // Never more member answers than members: the vote check holds.
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM round_branches rb WHERE (SELECT count(*) FROM responses r WHERE r.round_id = rb.round_id AND r.branch_id = rb.branch_id AND r.rater_group = 'members') > rb.eligible_members"
                ) == 0
            )
            // Three earlier years closed, published and signed off, with results frozen beside the
            // business results of their year; the year before this one after an upheld objection
            // whose correction excluded one public answer.
            #expect(try await harness.count("SELECT count(*)::int FROM rounds WHERE status = 'approved'") == 3)
            #expect(try await harness.count("SELECT count(*)::int FROM round_approvals WHERE withdrawn_at IS NULL AND reference LIKE '党委会纪要%'") == 3)
            #expect(try await harness.count("SELECT count(*)::int FROM objections WHERE decision = 'upheld'") == 1)
            #expect(
                try await harness.count("SELECT count(*)::int FROM result_corrections WHERE kind = 'ballot' AND jsonb_array_length(differences) > 0")
                    == 1
            )
            #expect(try await harness.count("SELECT count(*)::int FROM responses WHERE excluded_by IS NOT NULL") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM result_snapshots WHERE kind = 'final'") == 3)
            #expect(try await harness.count("SELECT count(*)::int FROM integrated_sheets") == 3)
            #expect(try await harness.count("SELECT count(DISTINCT year)::int FROM performance_loads") == 4)
            #expect(try await harness.count("SELECT count(*)::int FROM units") > 12)
            // The evaluator's sheets are in: no branch is short of its organisation evaluation.
            #expect(try await harness.count("SELECT count(*)::int FROM org_sheets WHERE status = 'submitted'") == 48)
            #expect(try await harness.count("SELECT count(*)::int FROM branch_assessments") == 3)
            let lists = try await harness.services.branchHistory.watchList(
                upToYear: Calendar(identifier: .gregorian).dateComponents(in: ChinaTime.zone, from: .now).year!,
                codes: Set((1...12).map { "d" + String(format: "%02d", $0) }),
                grades: ["优秀", "良好", "一般", "较差"]
            )
            #expect(lists.contains { $0.code == "d01" && $0.watch == .commendation })
            #expect(lists.contains { $0.code == "d12" && $0.watch == .rectification })
            #expect(summary.memberLink.hasPrefix("http://kaoping.test/s/"))
            #expect(summary.publicLink.hasPrefix("http://kaoping.test/p/"))
            #expect(
                try await TestApp.hasher.verify(
                    summary.adminPassword,
                    against: try await UserRepository(database: harness.database).find(username: "admin")!.passwordHash
                )
            )
            #expect(try await demo.seedIfEmpty(publicBaseURL: "http://kaoping.test", logger: logger) == nil)

            // The earlier years were answered on version 1 of the members' form (一般 50) and
            // keep it; this year's round uses version 2 (一般 70).
            let rows = try await harness.database.query(
                """
                SELECT r.status, v.version, v.definition #>> '{scales,0,options,2,points}'
                FROM rounds r JOIN round_groups g ON g.round_id = r.id JOIN form_versions v ON v.id = g.form_version_id
                WHERE g.rater_group = 'members' ORDER BY r.year
                """
            )
            let found = try rows.map { row in
                let (status, version, fair) = try row.decode((String, Int, String).self)
                return "\(status) v\(version) 一般 \(fair)"
            }
            #expect(found == ["approved v1 一般 50", "approved v1 一般 50", "approved v1 一般 50", "open v2 一般 70"])
        }
    }
}
