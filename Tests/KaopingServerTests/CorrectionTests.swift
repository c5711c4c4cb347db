import Foundation
import HummingbirdTesting
import Logging
import Testing

@testable import KaopingServer

/// Corrections during publicity: each recomputes the results through the same method, so that
/// a corrected round's results are byte for byte those of a round that had the corrected inputs
/// from the start; the replaced snapshot is kept, and the difference list says what changed.
@Suite("Corrections to results", .timeLimit(.minutes(3)))
struct CorrectionTests {
    static func quiet() -> Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    /// A closed round of b01 with 6 members at 96, 12 public at 94 and `spam` public answers at
    /// 20, and chief's organisation sheet on b01 losing `lost` points on org_life.
    static func round(_ harness: TestHarness, title: String, spam: Int, lost: Double) async throws -> UUID {
        let database = harness.database
        let logger = quiet()
        let rounds = try harness.roundRepository()
        let id = try await rounds.create(
            RoundSpec(title: title, year: 2026, closesAt: .now + 86400, branches: ["b01"]),
            actor: .commandLine,
            logger: logger
        )
        try await rounds.open(id, actor: .commandLine, logger: logger)
        try await database.query(
            """
            INSERT INTO responses (round_id, branch_id, rater_group, form_version_id, submitted_on, score, satisfied)
            SELECT \(id), b.id, g.rater_group, g.form_version_id, current_date, v.score, CASE WHEN g.rater_group = 'public' THEN v.score > 60 END
            FROM (VALUES ('members', 6, 96.0), ('public', 12, 94.0), ('public', \(spam), 20.0)) AS v(rater_group, n, score)
            JOIN branches b ON b.code = 'b01'
            JOIN round_groups g ON g.round_id = \(id) AND g.rater_group = v.rater_group
            CROSS JOIN LATERAL generate_series(1, v.n)
            """
        )
        try await database.query(
            """
            WITH sheet AS (
              INSERT INTO org_sheets (round_id, branch_id, evaluator_id, form_version_id, status, submitted_at)
              SELECT \(id), b.id, u.id, g.form_version_id, 'submitted', now()
              FROM branches b, users u, round_groups g
              WHERE b.code = 'b01' AND u.username = 'chief' AND g.round_id = \(id) AND g.rater_group = 'organisation'
              RETURNING id)
            INSERT INTO org_sheet_entries (sheet_id, item_key, points_lost) SELECT id, 'org_life', \(lost) FROM sheet
            """
        )
        _ = try await rounds.close(id, actor: .commandLine, logger: logger)
        return id
    }

    static func snapshot(_ harness: TestHarness, _ id: UUID) async throws -> String {
        try await harness.database.query("SELECT results::text FROM result_snapshots WHERE round_id = \(id) AND kind = 'final'").first!.decode(
            String.self
        )
    }

    @Test func aCorrectedRoundHasTheResultsOfOneThatWasRightFromTheStart() async throws {
        try await TestApp.run { client, harness in
            try await harness.database.query("INSERT INTO branches (code, name) VALUES ('b01', '办公室党支部')")
            try await harness.database.query(
                "INSERT INTO members (staff_number, name, branch_id) SELECT 'm' || g, '党员' || g, id FROM branches, generate_series(1, 6) g"
            )
            try await harness.createUser("chief", password: "the chief's password")
            // Two public answers of 20 were one person's; one sheet lost 2 points on org_life by mistake.
            let wrong = try await Self.round(harness, title: "2026 年度考评", spam: 2, lost: 2)
            let right = try await Self.round(harness, title: "2026 年度考评（对照）", spam: 1, lost: 0)
            _ = try await harness.services.publicity.publicise(wrong, shows: .scores, actor: .commandLine, logger: Self.quiet())
            let original = try await Self.snapshot(harness, wrong)
            #expect(original != (try await Self.snapshot(harness, right)))

            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")
            let path = "/admin/rounds/\(wrong.lowercased)"
            // One spam answer found invalid, by its anonymous id (the lowest-scored of b01's public ones).
            let spam = try await harness.database.query(
                "SELECT id FROM responses WHERE round_id = \(wrong) AND rater_group = 'public' AND score = 20 ORDER BY id LIMIT 1"
            ).first!.decode(UUID.self)
            let noReason = try await admin.post(path + "/corrections", form: [("kind", "ballot"), ("response", spam.lowercased), ("reason", " ")])
            #expect(noReason.status == .unprocessableContent)
            let excluded = try await admin.post(
                path + "/corrections",
                form: [("kind", "ballot"), ("response", spam.lowercased), ("reason", "同一人重复提交的无效答卷")]
            )
            #expect(excluded.status == .seeOther)
            // Public, by hand: before, 14 answers trimmed one from each end leave 11 × 94 + 20 over
            // 12 = 87.83; after, 13 answers leave 11 × 94 = 94.00. Combined (0.5 organisation
            // unchanged) moves accordingly; the page lists both.
            let page = try await admin.get(path + "/publicity")
            #expect(page.text.contains("认定无效票") && page.text.contains("群众评价得分"))
            #expect(page.text.contains("87.83") && page.text.contains("94.00"))
            // Excluding it again is refused and changes nothing.
            let again = try await admin.post(path + "/corrections", form: [("kind", "ballot"), ("response", spam.lowercased), ("reason", "再次")])
            #expect(again.status == .unprocessableContent)
            #expect(try await harness.count("SELECT count(*)::int FROM result_corrections") == 1)

            // The sheet amended: org_life lost 2 → 0 (25 is the item's maximum: 26 is refused).
            let tooMuch = try await admin.post(
                path + "/corrections",
                form: [("kind", "sheet"), ("branch", "b01"), ("evaluator", "chief"), ("item", "org_life"), ("value", "26"), ("reason", "录入错误")]
            )
            #expect(tooMuch.status == .unprocessableContent && tooMuch.text.contains("0 到 25"))
            let amended = try await admin.post(
                path + "/corrections",
                form: [
                    ("kind", "sheet"), ("branch", "b01"), ("evaluator", "chief"), ("item", "org_life"), ("value", "0"), ("reason", "评分人录入错误，经核对应不扣分"),
                ]
            )
            #expect(amended.status == .seeOther)
            let details = try await harness.database.query(
                "SELECT details ->> 'before', details ->> 'after' FROM result_corrections WHERE kind = 'sheet'"
            )
            .first!.decode((String, String).self)
            #expect(details.0.contains("lost=2.0") && details.1 == "lost=0.0")

            // Byte for byte the results of the round that had it right from the start.
            #expect(try await Self.snapshot(harness, wrong) == (try await Self.snapshot(harness, right)))
            // Nothing deleted: the two snapshots replaced are kept, the first as it was stored.
            #expect(try await harness.count("SELECT count(*)::int FROM result_snapshots WHERE round_id = '\(wrong)' AND kind = 'superseded'") == 2)
            let first = try await harness.database.query(
                "SELECT results::text FROM result_snapshots WHERE round_id = \(wrong) AND kind = 'superseded' ORDER BY computed_at LIMIT 1"
            ).first!.decode(String.self)
            #expect(first == original)
            #expect(try await harness.count("SELECT count(*)::int FROM responses WHERE round_id = '\(wrong)'") == 20)
            // The branch's year follows the corrected results.
            let year = try await harness.database.query(
                "SELECT (subject ->> 'combined')::float8 FROM branch_years WHERE round_id = \(wrong) AND branch_code = 'b01'"
            ).first!.decode(Double.self)
            let rightYear = try await harness.database.query(
                "SELECT (subject ->> 'combined')::float8 FROM branch_years WHERE round_id = \(right) AND branch_code = 'b01'"
            ).first!.decode(Double.self)
            #expect(year == rightYear)
            // The record over the years says which figures were corrected, and when.
            let record = try await admin.get("/admin/org/branches/b01/history")
            let today = String(ChinaTime.format(.now).prefix(10))
            #expect(record.text.contains("已更正（\(today)）：") && record.text.contains("群众评价得分 87.83 → 94.00"))
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'round.corrected'") == 2)
        }
    }

    @Test func theCommitteeDecidesAGradeWithItsReasonAndSignedResultsStayAsTheyAre() async throws {
        try await TestApp.run { client, harness in
            let id = try await PublicityTests.closedRound(harness)
            _ = try await harness.services.publicity.publicise(id, shows: .grades, actor: .commandLine, logger: Self.quiet())
            let filed = try await harness.services.objections.file(
                ObjectionDraft(branchCode: "b03", body: "后勤支部全年工作突出，等次偏低", submissionKey: RespondentController.newSubmissionKey()),
                round: id,
                filer: nil,
                logger: Self.quiet()
            )
            var admin = try await PublicityTests.admin(client, harness)
            let path = "/admin/rounds/\(id.lowercased)"
            let unknown = try await admin.post(
                path + "/corrections",
                form: [("kind", "grade"), ("branch", "b03"), ("grade", "特优"), ("reason", "党委会决定")]
            )
            #expect(unknown.status == .unprocessableContent)
            // A receipt of no objection of this round is named back, and nothing is corrected.
            let wrongReceipt = try await admin.post(
                path + "/corrections",
                form: [("kind", "grade"), ("branch", "b03"), ("grade", "良好"), ("reason", "党委会研究决定"), ("objection", "2026-ZZZZZZ")]
            )
            #expect(wrongReceipt.status == .unprocessableContent)
            #expect(wrongReceipt.text.contains("本轮次没有受理编号为“2026-ZZZZZZ”的异议"))
            #expect(try await harness.count("SELECT count(*)::int FROM result_corrections") == 0)
            let decided = try await admin.post(
                path + "/corrections",
                form: [("kind", "grade"), ("branch", "b03"), ("grade", "良好"), ("reason", "党委会研究决定"), ("objection", filed.receipt.lowercased())]
            )
            #expect(decided.status == .seeOther)
            let subject = try await harness.database.query(
                """
                SELECT y ->> 'grade', y -> 'decision' ->> 'methodGrade', y -> 'decision' ->> 'reason'
                FROM result_snapshots s, jsonb_array_elements(s.results -> 'subjects') y
                WHERE s.round_id = \(id) AND s.kind = 'final' AND y ->> 'code' = 'b03'
                """
            ).first!.decode((String, String, String).self)
            #expect(subject == ("良好", "一般", "党委会研究决定"))
            #expect(try await harness.count("SELECT count(*)::int FROM result_corrections c JOIN objections o ON o.id = c.objection_id") == 1)
            // The public page shows the decided grade once it looks again.
            try await Task.sleep(for: .seconds(3))
            let key = try await PublicityTests.key(harness, id)
            let table = try #require(PublicityTests.table(try await PublicityTests.fresh(client).get("/g/\(key)").text))
            let b03 = try #require(table.range(of: "后勤党支部"))
            #expect(table[b03.upperBound...].prefix(40).contains("良好"))

            // Signed off, the results take no correction.
            try await harness.database.query("UPDATE rounds SET publicity_ended_at = now() WHERE id = \(id)")
            try await harness.services.publicity.approve(
                id,
                reference: "纪要〔2026〕9号",
                meetingOn: "2026-12-20",
                confirmingOpenObjections: true,
                actor: .commandLine,
                logger: Self.quiet()
            )
            let refused = try await admin.post(
                path + "/corrections",
                form: [("kind", "grade"), ("branch", "b01"), ("grade", "良好"), ("reason", "再议")]
            )
            #expect(refused.status == .conflict)
            #expect(try await harness.count("SELECT count(*)::int FROM result_corrections") == 1)
        }
    }
}
