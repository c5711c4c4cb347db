import Foundation
import KaopingAggregation
import Logging
import PostgresNIO
import Testing

@testable import KaopingServer

/// The tallies kept of the responses (`response_tallies`): the results read them, and they must
/// be what the responses add up to through everything that changes the responses.
@Suite("Tallies kept as responses change", .timeLimit(.minutes(2)))
struct TallyTests {
    static func bytes(_ result: RoundResult?) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(try #require(result))
    }

    /// The results from the kept tallies, and from every response, as bytes.
    static func bothWays(_ harness: TestHarness, _ round: UUID) async throws -> (kept: Data, responses: Data) {
        let results = harness.services.resultsRepository
        return (
            try bytes(try await results.compute(roundID: round, logger: TestApp.logger)),
            try bytes(try await results.compute(roundID: round, readingResponses: true, logger: TestApp.logger))
        )
    }

    @Test func theResultsFromTheKeptTalliesAreTheBytesOfTheResponsesThroughAMixAnExclusionAndADeletion() async throws {
        try await TestApp.run { _, harness in
            let (round, _) = try await harness.workedExampleRound(mixed: false)
            var (kept, responses) = try await Self.bothWays(harness, round)
            #expect(kept == responses)
            // The worked example's b01 members: eight answers, the highest and lowest dropped.
            let before = try JSONDecoder().decode(RoundResult.self, from: kept)
            #expect(before.subjects.first { $0.code == "b01" }?.groups["members"]?.score == 80)
            #expect(before.subjects.first { $0.code == "b01" }?.groups["public"]?.responses == 11)

            // The waiting public ballot, mixed: the tally moves in the mix's transaction.
            #expect(try await harness.mixBallots(round: round) == 1)
            (kept, responses) = try await Self.bothWays(harness, round)
            #expect(kept == responses)
            #expect(try JSONDecoder().decode(RoundResult.self, from: kept).subjects.first { $0.code == "b01" }?.groups["public"]?.responses == 12)

            // b01's lowest member answer (20) excluded by a correction: the next lowest (70) is
            // now the one trimming drops, which only a tally that keeps more than one extreme
            // can tell.
            try await harness.database.query(
                """
                WITH correction AS (
                  INSERT INTO result_corrections (round_id, kind, branch_id, reason)
                  SELECT \(round), 'ballot', id, '重复提交' FROM branches WHERE code = 'b01' RETURNING id, branch_id)
                UPDATE responses r SET excluded_by = c.id FROM correction c
                WHERE r.round_id = \(round) AND r.branch_id = c.branch_id AND r.rater_group = 'members' AND r.score = 20
                """
            )
            (kept, responses) = try await Self.bothWays(harness, round)
            #expect(kept == responses)
            let excluded = try JSONDecoder().decode(RoundResult.self, from: kept).subjects.first { $0.code == "b01" }?.groups["members"]
            #expect(excluded?.responses == 7)
            // 100, 90, 85, 80, 80, 75, 70 without 100 and 70: 82.
            #expect(excluded?.score == 82)

            // b02's public answers deleted: its tally goes with them.
            try await harness.database.query(
                "DELETE FROM responses WHERE round_id = \(round) AND rater_group = 'public' AND branch_id = (SELECT id FROM branches WHERE code = 'b02')"
            )
            (kept, responses) = try await Self.bothWays(harness, round)
            #expect(kept == responses)
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM response_tallies t JOIN branches b ON b.id = t.branch_id WHERE b.code = 'b02' AND t.rater_group = 'public'"
                ) == 0
            )
            #expect(try await harness.services.tallies.verify(roundID: round, logger: TestApp.logger)?.differences == [])
        }
    }

    @Test func aTallyThatDiffersFromItsResponsesIsFoundByBranchAndMadeAgainWithAnAuditEntry() async throws {
        try await TestApp.run { _, harness in
            let (round, _) = try await harness.workedExampleRound()
            let clean = try #require(try await harness.services.tallies.verify(roundID: round, logger: TestApp.logger))
            // b01 and b02, members and public.
            #expect(clean.compared == 4)
            #expect(clean.differences.isEmpty)

            // One sum off by a single step, as a bug or a hand edit would leave it.
            try await harness.database.query(
                """
                UPDATE response_tallies SET score_sum = score_sum + 1
                WHERE round_id = \(round) AND rater_group = 'public' AND branch_id = (SELECT id FROM branches WHERE code = 'b02')
                """
            )
            let check = try #require(try await harness.services.tallies.verify(roundID: round, logger: TestApp.logger))
            #expect(check.differences.map { "\($0.branchCode)/\($0.group)" } == ["b02/public"])
            #expect(check.differences.first?.kept?.scores.sum == (check.differences.first?.fromResponses?.scores.sum ?? 0) + 1)

            // b01's sheet's kept points lost for its first deduction changed by hand, not its entry.
            #expect(clean.sheetsCompared == 2 && clean.sheetDifferences.isEmpty)
            try await harness.database.query(
                """
                UPDATE org_sheets SET points_lost[1] = points_lost[1] + 0.5
                WHERE round_id = \(round) AND branch_id = (SELECT id FROM branches WHERE code = 'b01')
                """
            )
            let sheets = try #require(try await harness.services.tallies.verify(roundID: round, logger: TestApp.logger))
            #expect(sheets.sheetDifferences == [.init(branchCode: "b01", evaluator: "pingshen")])

            #expect(try await harness.services.rounds.rebuildTallies(round, actor: .commandLine, logger: TestApp.logger) == 4)
            let rebuilt = try #require(try await harness.services.tallies.verify(roundID: round, logger: TestApp.logger))
            #expect(rebuilt.differences == [] && rebuilt.sheetDifferences == [])
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'round.tallies_rebuilt'") == 1)
            #expect(try await harness.services.tallies.verify(roundID: UUID(), logger: TestApp.logger) == nil)
        }
    }

    @Test func aMixAddsItsOwnBallotsToTheKeptTalliesExactlyAsTheResponsesMakeThem() async throws {
        try await TestApp.run { _, harness in
            let (round, _) = try await harness.workedExampleRound(mixed: false)
            let database = harness.database
            func box(_ branch: String, _ group: String, _ score: Double?, _ dimensions: [String: Double], satisfied: Bool? = nil) async throws {
                let scored = dimensions.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
                let ballot =
                    "{\"score\":\(score.map { "\($0)" } ?? "null"),\"dimensions\":{\(scored)},\"straightLined\":false,"
                    + "\"satisfied\":\(satisfied.map { "\($0)" } ?? "null"),\"answers\":[]}"
                let sealed = ByteBuffer(bytes: try TestApp.ballotSeal.seal(Array(ballot.utf8), roundID: round, group: group))
                try await database.query(
                    """
                    INSERT INTO ballot_box (round_id, branch_id, rater_group, form_version_id, submitted_on, sealed)
                    SELECT \(round), b.id, \(group), g.form_version_id, current_date, \(sealed)
                    FROM branches b, round_groups g WHERE b.code = \(branch) AND g.round_id = \(round) AND g.rater_group = \(group)
                    """
                )
            }
            /// Every kept tally of the round, a line each, as PostgreSQL writes the row.
            func keptRows() async throws -> [String] {
                try await database.query(
                    """
                    SELECT b.code || ' ' || t::text FROM response_tallies t JOIN branches b ON b.id = t.branch_id
                    WHERE t.round_id = \(round) ORDER BY b.code, t.rater_group
                    """
                ).map { try $0.decode(String.self) }
            }
            func kept(_ branch: String, _ group: String, _ columns: String) async throws -> String {
                try await database.query(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT (\(columns))::text FROM response_tallies t JOIN branches b ON b.id = t.branch_id
                            WHERE t.round_id = $1 AND b.code = $2 AND t.rater_group = $3
                            """,
                        binds: {
                            var binds = PostgresBindings()
                            binds.append(round)
                            binds.append(branch)
                            binds.append(group)
                            return binds
                        }()
                    )
                ).first!.decode(String.self)
            }

            // b02's public answers deleted (its tally goes), so that the mix writes a tally anew;
            // b01's members get a new lowest and a second 100, with every dimension scored.
            try await database.query(
                "DELETE FROM responses WHERE round_id = \(round) AND rater_group = 'public' AND branch_id = (SELECT id FROM branches WHERE code = 'b02')"
            )
            try await box("b01", "members", 10, ["thinking": 12, "style": 40, "capability": 55.5, "results": 99])
            try await box("b01", "members", 100, ["thinking": 100, "style": 3, "capability": 60, "results": 70])
            try await box("b01", "members", 95, ["thinking": 90, "results": 1])
            try await box("b02", "public", 60, ["service": 60, "style": 65, "results": 55], satisfied: false)
            try await box("b02", "public", 95.5, ["service": 95, "style": 90], satisfied: true)
            try await box("b02", "public", nil, [:])
            #expect(try await harness.mixBallots(round: round) == 7)

            // Worked out by hand: b01's members were 100, 90, 85, 80, 80, 75, 70, 20 (each
            // scoring one dimension, thinking, as much); counted once (not by both the mix and
            // the trigger), with the extremes of both sides.
            #expect(
                try await kept("b01", "members", "responses, score_count, score_lowest, score_highest") == "(11,11,\"{10,20,70}\",\"{100,100,95}\")"
            )
            #expect(try await kept("b01", "members", "dimension_count") == "{11,2,2,3}")
            #expect(try await kept("b01", "public", "responses, satisfied, satisfaction_answered") == "(12,8,12)")
            #expect(
                try await kept("b02", "public", "responses, score_count, satisfied, satisfaction_answered, score_lowest, dimension_count")
                    == "(3,2,1,2,\"{60,95.5}\",\"{2,2,1}\")"
            )

            // Every column of every tally as the responses make them: made again from the
            // responses, not one byte moves.
            let mixed = try await keptRows()
            #expect(mixed.count == 4)
            let rebuilt = try await database.transaction(logger: TestApp.logger) { connection in
                try await TallyRepository.rebuild(roundID: round, on: connection, logger: TestApp.logger)
            }
            #expect(rebuilt == 4)
            #expect(try await keptRows() == mixed)

            // A second mix onto the tallies the first one wrote, and the results both ways.
            try await box("b02", "public", 0, ["service": 0, "style": 0, "results": 0], satisfied: false)
            try await box("b01", "members", 85, ["thinking": 85])
            #expect(try await harness.mixBallots(round: round) == 2)
            #expect(try await kept("b02", "public", "score_lowest, score_highest") == "(\"{0,60,95.5}\",\"{95.5,60,0}\")")
            let twice = try await keptRows()
            _ = try await database.transaction(logger: TestApp.logger) { connection in
                try await TallyRepository.rebuild(roundID: round, on: connection, logger: TestApp.logger)
            }
            #expect(try await keptRows() == twice)
            let (keptBytes, responseBytes) = try await Self.bothWays(harness, round)
            #expect(keptBytes == responseBytes)
        }
    }

    @Test func aTallyAnotherTransactionInsertsWhileTheMixAddsItsOwnIsMadeFromEveryResponse() async throws {
        try await TestApp.run { _, harness in
            let (round, _) = try await harness.workedExampleRound()
            let database = harness.database
            // b02's public answers deleted, so b02/public has no tally; one public ballot waits.
            try await database.query(
                "DELETE FROM responses WHERE round_id = \(round) AND rater_group = 'public' AND branch_id = (SELECT id FROM branches WHERE code = 'b02')"
            )
            let ballot = "{\"score\":40,\"dimensions\":{\"service\":40},\"straightLined\":false,\"satisfied\":false,\"answers\":[]}"
            let sealed = ByteBuffer(bytes: try TestApp.ballotSeal.seal(Array(ballot.utf8), roundID: round, group: "public"))
            try await database.query(
                """
                INSERT INTO ballot_box (round_id, branch_id, rater_group, form_version_id, submitted_on, sealed)
                SELECT \(round), b.id, 'public', g.form_version_id, current_date, \(sealed)
                FROM branches b, round_groups g WHERE b.code = 'b02' AND g.round_id = \(round) AND g.rater_group = 'public'
                """
            )
            // Another transaction answers for b02's public too (its trigger makes the tally) and
            // stays open: the mix finds no tally to lock, and its insert of one waits on it.
            let (inserted, insertedSignal) = AsyncStream<Void>.makeStream()
            let (release, releaseSignal) = AsyncStream<Void>.makeStream()
            let other = Task {
                try await database.transaction(logger: TestApp.logger) { connection in
                    try await connection.execute(
                        """
                        INSERT INTO responses (round_id, branch_id, rater_group, form_version_id, submitted_on, score, dimension_scores, straight_lined, satisfied)
                        SELECT \(round), b.id, 'public', g.form_version_id, current_date, 90, ARRAY[90]::float8[], false, true
                        FROM branches b, round_groups g WHERE b.code = 'b02' AND g.round_id = \(round) AND g.rater_group = 'public'
                        """,
                        logger: TestApp.logger
                    )
                    insertedSignal.yield()
                    for await _ in release { break }
                }
            }
            for await _ in inserted { break }
            let mixing = Task { try await harness.mixBallots(round: round) }
            var waited = false
            for _ in 0..<200 where !waited {
                waited =
                    try await harness.count(
                        "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    ) > 0
                if !waited { try await Task.sleep(for: .milliseconds(25)) }
            }
            #expect(waited)
            releaseSignal.yield()
            try await other.value
            #expect(try await mixing.value == 1)

            // Both answers counted once: 90 and 40, the whole tally as the responses make it.
            let row = try await database.query(
                """
                SELECT (t.responses, t.score_lowest, t.score_highest)::text FROM response_tallies t JOIN branches b ON b.id = t.branch_id
                WHERE t.round_id = \(round) AND b.code = 'b02' AND t.rater_group = 'public'
                """
            ).first!.decode(String.self)
            #expect(row == "(2,\"{40,90}\",\"{90,40}\")")
            let check = try #require(try await harness.services.tallies.verify(roundID: round, logger: TestApp.logger))
            #expect(check.differences.isEmpty)
        }
    }
}
