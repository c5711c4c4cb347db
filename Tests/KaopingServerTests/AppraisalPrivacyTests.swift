import Foundation
import Logging
import PostgresNIO
import Testing

@testable import KaopingServer

/// Reads the database the way its owner, a backup or a copy of the write-ahead log could, after
/// a branch's members wrote their self-assessments and voted in the members' appraisal
/// (docs/appraisal.md, "Why nobody can tell how anyone voted"): the same probe as for branch
/// ballots (`PrivacyProbeTests`).
@Suite("What the database files tell of an appraisal", .timeLimit(.minutes(3)))
struct AppraisalPrivacyTests {
    @Test func noVoteLiesBesideItsLinkOrItsSelfAssessment() async throws {
        try await TestApp.run(configureEnvironment: { $0.schedulerInterval = .milliseconds(200) }) { client, harness in
            let database = harness.database
            let slot = "probe_" + UUID().uuidString.prefix(8).lowercased()
            let start = try await database.query("SELECT lsn::text FROM pg_create_physical_replication_slot(\(slot), true)").first!.decode(
                String.self
            )
            try await AppraisalRoundTests.branch(harness, code: "p01", members: 12)
            let services = harness.services
            let id = try await services.appraisals.create(
                AppraisalSpec(title: "评议", year: 2026, branches: ["p01"]),
                actor: .commandLine,
                logger: TestApp.logger
            )
            try await services.appraisals.open(id, actor: .commandLine, logger: TestApp.logger)
            _ = try await services.appraisals.issueLinks(id, actor: .commandLine, logger: TestApp.logger)
            let links = try await AppraisalRoundTests.links(harness, id)
            let ids = try await AppraisalRoundTests.members(harness, code: "p01")
            // Each member writes a self-assessment nobody else could, then votes: 不合格 on the
            // member after them, 基本合格 on the rest. The probe looks for the category keys.
            let tag = "probe-" + UUID().uuidString.prefix(8).lowercased()
            let staff = ids.keys.sorted()
            for (index, number) in staff.enumerated() {
                var browser = Browser(client)
                let link = try #require(links[number])
                let page = try await browser.get(link + "/self-assessment")
                #expect(page.status == .ok)
                #expect(try await browser.post(link + "/self-assessment", form: [("text", "\(tag)-\(index)")]).status == .seeOther)
                let next = staff[(index + 1) % staff.count]
                let reply = try await AppraisalRoundTests.vote(&browser, link, ids: ids) { $0 == next ? "incompetent" : "basic" }
                #expect(reply.status == .seeOther)
            }
            // Twelve ballots wait while the scheduler looks five times a second: nothing is counted
            // before the vote closes, so no count ever holds part of it.
            try await Task.sleep(for: .milliseconds(1500))
            #expect(try await harness.count("SELECT count(*)::int FROM appraisal_ballot_box") == 12)
            #expect(try await harness.count("SELECT count(*)::int FROM appraisal_votes") == 0)
            try await services.appraisals.close(id, actor: .commandLine, logger: TestApp.logger)
            // Every count was written by one transaction, the close's.
            #expect(try await harness.count("SELECT count(DISTINCT xmin::text)::int FROM appraisal_votes") == 1)
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM appraisal_votes WHERE xmin::text = (SELECT xmin::text FROM appraisal_rounds WHERE id = '\(id)')"
                ) == (try await harness.count("SELECT count(*)::int FROM appraisal_votes"))
            )
            #expect(try await harness.count("SELECT count(*)::int FROM appraisal_ballot_box") == 0)
            #expect(try await harness.count("SELECT sum(votes)::int FROM appraisal_votes WHERE category = 'incompetent'") == 12)
            #expect(try await harness.count("SELECT sum(votes)::int FROM appraisal_votes WHERE category = 'basic'") == 12 * 10)

            try await database.query("CHECKPOINT")
            let end = try await database.query("SELECT pg_current_wal_flush_lsn()::text").first!.decode(String.self)
            let dataDirectory = try await database.query("SELECT current_setting('data_directory')").first!.decode(String.self)
            let (segmentSize, pageSize) = try await database.query(
                "SELECT setting::bigint, current_setting('wal_block_size')::bigint FROM pg_settings WHERE name = 'wal_segment_size'"
            ).first!.decode((Int, Int).self)
            let databaseOID = try await harness.count("SELECT oid::int FROM pg_database WHERE datname = current_database()")
            func relation(_ table: String) async throws -> String {
                "/\(databaseOID)/\(try await harness.count("SELECT pg_relation_filenode('\(table)')::int"))"
            }
            let invitations = try await relation("appraisal_invitations")
            let box = try await relation("appraisal_ballot_box")
            let votes = try await relation("appraisal_votes")
            let texts = try await relation("appraisal_self_assessments")
            var log = try await WriteAheadLog.read(
                dataDirectory: dataDirectory,
                databaseOID: databaseOID,
                from: start,
                to: end,
                segmentSize: UInt64(segmentSize),
                pageSize: UInt64(pageSize)
            )
            func transactions(touching table: String) -> Set<UInt64> {
                Set(log.records.filter { $0.transaction != 0 && $0.relations.contains { $0.hasSuffix(table) } }.map(\.transaction))
            }
            // Issuing the links touched the invitations too: the burning ones are those that
            // also dropped a ballot into the box.
            let burning = transactions(touching: invitations).intersection(transactions(touching: box))
            let counting = transactions(touching: votes)
            let writing = transactions(touching: texts)
            #expect(burning.count == 12, "each vote burned its link and dropped its ballot in one transaction")
            #expect(counting.count == 1 && counting.isDisjoint(with: burning), "the counts are written by the close alone")
            #expect(writing.count == 12 && writing.isDisjoint(with: burning) && writing.isDisjoint(with: counting))

            // No record of a burning transaction holds a vote in plain: the category keys appear
            // where the mixer writes its counts, never beside a link. Nor a self-assessment.
            var plainBesideALink = 0
            var plainInTheCounts = 0
            for record in log.records where burning.contains(record.transaction) || counting.contains(record.transaction) {
                let bytes = try log.bytes(of: record)
                let plain = ["incompetent", "basic"].contains { bytes.range(of: Data($0.utf8)) != nil }
                if burning.contains(record.transaction) {
                    if plain || bytes.range(of: Data(tag.utf8)) != nil { plainBesideALink += 1 }
                } else if plain {
                    plainInTheCounts += 1
                }
            }
            #expect(plainBesideALink == 0)
            #expect(plainInTheCounts >= 1, "the search finds the votes where the close writes them in plain")

            // The tables: only counts, written by no transaction that touched a link or a self-assessment.
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM appraisal_votes WHERE xmin::text IN (SELECT xmin::text FROM appraisal_invitations UNION SELECT xmin::text FROM appraisal_self_assessments)"
                ) == 0
            )
            let columns = try await database.query(
                "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'appraisal_votes' ORDER BY ordinal_position"
            ).map { try $0.decode(String.self) }
            #expect(columns == ["round_id", "member_id", "voter_group", "category", "votes"])
            // The box's file holds no vote in plain, even in its dead rows.
            let path = try await database.query("SELECT pg_relation_filepath('appraisal_ballot_box')").first!.decode(String.self)
            let file = try #require(FileManager.default.contents(atPath: dataDirectory + "/" + path))
            #expect(file.range(of: Data("incompetent".utf8)) == nil && file.range(of: Data("basic".utf8)) == nil)
            try await database.query("SELECT pg_drop_replication_slot(\(slot))")
        }
    }
}
