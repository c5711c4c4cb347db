import Foundation
import Logging
import PostgresNIO
import Testing

@testable import KaopingServer

/// Reads the database the way its owner, a backup or a copy of the write-ahead log could, after
/// a round answered through invitation links (docs/privacy.md, "Tested").
@Suite("What the database files tell", .timeLimit(.minutes(3)))
struct PrivacyProbeTests {
    @Test func noBallotLiesBesideItsInvitationInTablesFilesOrTheWriteAheadLog() async throws {
        // The server's own mixer runs, looking five times a second, so that it has looked
        // several times while fewer than k ballots wait.
        try await TestApp.run(configureEnvironment: { $0.schedulerInterval = .milliseconds(200) }) { client, harness in
            let database = harness.database
            // A replication slot keeps the cluster from recycling this test's log while other
            // tests checkpoint; it goes when the test ends.
            let slot = "probe_" + UUID().uuidString.prefix(8).lowercased()
            let start = try await database.query("SELECT lsn::text FROM pg_create_physical_replication_slot(\(slot), true)").first!.decode(
                String.self
            )
            let (round, tokens) = try await harness.roundWithInvitations(members: 12)
            // Every member writes a comment nobody else could: the probe looks for these bytes.
            let tag = "probe-" + UUID().uuidString.prefix(8).lowercased()
            let comments = tokens.indices.map { "\(tag)-\(String(format: "%02d", $0))" }
            func answer(_ index: Int) async throws {
                var browser = Browser(client)
                let key = try #require(try await browser.get("/s/\(tokens[index])").hidden("_key"))
                let thanks = try await browser.post("/s/\(tokens[index])", form: try memberAnswers(comment: comments[index]) + [("_key", key)])
                #expect(thanks.status == .ok)
            }
            func responseBatches() async throws -> [Int] {
                try await database.query("SELECT count(*)::int FROM responses GROUP BY xmin::text ORDER BY 1").map { try $0.decode(Int.self) }
            }

            // k - 1 = 4 ballots wait while the mixer looks (about seven times in 1.5 s): none moves.
            for index in 0..<4 { try await answer(index) }
            try await Task.sleep(for: .milliseconds(1500))
            #expect(try await harness.count("SELECT count(*)::int FROM responses") == 0)
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 4)

            // The fifth makes k: the five move together, in one transaction, under one batch's
            // shared id prefix (the first eight bytes: the schema records no time of a response).
            try await answer(4)
            let deadline = ContinuousClock.now + .seconds(15)
            while try await harness.count("SELECT count(*)::int FROM responses") == 0 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try await harness.count("SELECT count(*)::int FROM responses") == 5)
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 0)
            #expect(try await responseBatches() == [5])
            #expect(try await harness.count("SELECT count(DISTINCT left(id::text, 18))::int FROM responses") == 1)

            // The other seven wait for the pace (30 s) or the close.
            for index in 5..<12 { try await answer(index) }
            // What waits in the box is sealed.
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box WHERE ballot IS NOT NULL") == 0)
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box WHERE position(convert_to('\(tag)', 'UTF8') in sealed) > 0") == 0)

            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let rounds = try harness.roundRepository()
            #expect(try await rounds.close(round, actor: .commandLine, logger: logger))
            #expect(try await harness.count("SELECT count(*)::int FROM responses") == 12)

            // Everything written so far, on disk: tables and log.
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
            let invitations = try await relation("invitations")
            let ballotBox = try await relation("ballot_box")

            // 1. The write-ahead log. The transactions that burned an invitation also dropped the
            // ballot into the box (the probe sees those inserts), and no byte of any of their
            // records holds an answer. The mixer's transactions do hold the answers, as plain
            // responses: the same search finds them there.
            // Only this test's database: other tests write to the same log meanwhile.
            var log = try await WriteAheadLog.read(
                dataDirectory: dataDirectory,
                databaseOID: databaseOID,
                from: start,
                to: end,
                segmentSize: UInt64(segmentSize),
                pageSize: UInt64(pageSize)
            )
            let burning = Set(log.records.filter { $0.relations.contains { $0.hasSuffix(invitations) } && $0.transaction != 0 }.map(\.transaction))
            let ballotDrops = log.records.filter { burning.contains($0.transaction) && $0.relations.contains { $0.hasSuffix(ballotBox) } }
            #expect(ballotDrops.count >= 12, "the log shows the ballots dropped beside the invitations")
            let needle = Data(tag.utf8)
            var answersBesideAnInvitation = 0
            var answersElsewhere = 0
            for record in log.records where record.transaction != 0 {
                guard try log.bytes(of: record).range(of: needle) != nil else { continue }
                if burning.contains(record.transaction) { answersBesideAnInvitation += 1 } else { answersElsewhere += 1 }
            }
            #expect(answersBesideAnInvitation == 0)
            #expect(answersElsewhere >= 1, "the search finds the answers where they are written in plain")

            // 2. Every table: the comments are in the answers and nowhere else.
            let tables = try await database.query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            ).map { try $0.decode(String.self) }
            #expect(tables.contains("ballot_box") && tables.contains("invitations"))
            for table in tables {
                let holding = try await harness.count("SELECT count(*)::int FROM \"\(table)\" t WHERE t::text LIKE '%\(tag)%'")
                #expect(holding == (table == "answers" ? 12 : 0), "\(table)")
            }

            // 3. The files themselves, dead rows included: the box's file and the invitations'
            // hold no answer; the answers' file holds all of them.
            func file(_ table: String) async throws -> Data {
                let path = try await database.query("SELECT pg_relation_filepath(\(table))").first!.decode(String.self)
                return try #require(FileManager.default.contents(atPath: dataDirectory + "/" + path))
            }
            #expect(try await file("ballot_box").range(of: needle) == nil)
            #expect(try await file("invitations").range(of: needle) == nil)
            let answersFile = try await file("answers")
            #expect(comments.allSatisfy { answersFile.range(of: Data($0.utf8)) != nil })

            // 4. System columns. A response was written by a mix, never by the transaction that
            // burned an invitation; every mix before the close moved at least k = 5, and the
            // close flushed the rest in one more; each batch has an id prefix of its own; the
            // responses' physical order is not the order of answering.
            #expect(try await harness.count("SELECT count(*)::int FROM responses WHERE xmin::text IN (SELECT xmin::text FROM invitations)") == 0)
            let batches = try await responseBatches()
            let closing = try await harness.count(
                "SELECT count(*)::int FROM responses WHERE xmin::text = (SELECT xmin::text FROM rounds WHERE id = '\(round)')"
            )
            let mixed = try await database.query(
                "SELECT count(*)::int FROM responses WHERE xmin::text <> (SELECT xmin::text FROM rounds WHERE id = \(round)) GROUP BY xmin::text"
            ).map { try $0.decode(Int.self) }
            #expect(batches.reduce(0, +) == 12 && closing >= 1, "\(batches)")
            #expect(mixed.allSatisfy { $0 >= 5 } && mixed.reduce(0, +) + closing == 12, "\(mixed) mixed, \(closing) at the close")
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM (SELECT xmin::text FROM responses GROUP BY xmin::text HAVING count(DISTINCT left(id::text, 18)) = 1) b"
                ) == batches.count
            )
            #expect(try await harness.count("SELECT count(DISTINCT left(id::text, 18))::int FROM responses") == batches.count)
            let storedOrder = try await database.query(
                "SELECT a.text_value FROM responses r JOIN answers a ON a.response_id = r.id AND a.item_key = 'works_well' ORDER BY r.ctid"
            ).map { try $0.decode(String.self) }
            #expect(Set(storedOrder) == Set(comments))
            #expect(storedOrder != comments)
            try await database.query("SELECT pg_drop_replication_slot(\(slot))")
        }
    }
}
