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

            #expect(try await harness.services.rounds.rebuildTallies(round, actor: .commandLine, logger: TestApp.logger) == 4)
            #expect(try await harness.services.tallies.verify(roundID: round, logger: TestApp.logger)?.differences == [])
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'round.tallies_rebuilt'") == 1)
            #expect(try await harness.services.tallies.verify(roundID: UUID(), logger: TestApp.logger) == nil)
        }
    }
}
