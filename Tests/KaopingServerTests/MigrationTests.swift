import Foundation
import Logging
import PostgresNIO
import Prometheus
import Testing

@testable import KaopingServer

@Suite("Migrations", .timeLimit(.minutes(2)))
struct MigrationTests {
    let logger: Logger = {
        var logger = Logger(label: "kaoping.tests.migrations")
        logger.logLevel = .critical
        return logger
    }()

    /// A directory of migration files for one test.
    func directory(_ files: [String: String]) throws -> String {
        let path = NSTemporaryDirectory() + "kaoping-sql-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, sql) in files { try sql.write(toFile: path + "/" + name, atomically: true, encoding: .utf8) }
        return path
    }

    func withEmptyDatabase(_ body: (Database) async throws -> Void) async throws {
        let url = try await TestDatabaseServer.shared.makeEmptyDatabase()
        let database = Database(url: url, poolSize: 4, registry: PrometheusCollectorRegistry(), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            try await body(database)
        }
        await TestDatabaseServer.shared.drop(url)
    }

    @Test func filesAreAppliedInOrderAndRecordedOnce() async throws {
        // 0002 needs 0001's table; 0010 sorts after 0002 by number.
        let sql = try directory([
            "0010_third.sql": "ALTER TABLE things ADD COLUMN colour text;",
            "0001_first.sql": "CREATE TABLE things (id int PRIMARY KEY);\n-- a comment; with a semicolon\nCREATE INDEX things_id ON things (id);",
            "0002_second.sql": "INSERT INTO things VALUES (1), (2);",
            "README.txt": "not a migration",
        ])
        defer { try? FileManager.default.removeItem(atPath: sql) }
        let migrator = try Migrator(directory: sql)
        #expect(migrator.migrations.map(\.version) == [1, 2, 10])
        try await withEmptyDatabase { database in
            let applied = try await migrator.migrate(database: database, logger: logger)
            #expect(applied.map(\.fileName) == ["0001_first.sql", "0002_second.sql", "0010_third.sql"])
            #expect(try await migrator.migrate(database: database, logger: logger).isEmpty)
            let rows = try await database.query("SELECT version, length(checksum) FROM schema_migrations ORDER BY version")
            #expect(try rows.map { try $0.decode((Int, Int).self) }.map(\.0) == [1, 2, 10])
            #expect(try rows.map { try $0.decode((Int, Int).self) }.allSatisfy { $0.1 == 64 })
            let count = try await database.query("SELECT count(*)::int FROM things WHERE colour IS NULL").first!.decode(Int.self)
            #expect(count == 2)
            #expect(try await Migrator.appliedVersions(database: database) == [1, 2, 10])
        }
    }

    @Test func aChangedAppliedFileIsRefused() async throws {
        let sql = try directory(["0001_first.sql": "CREATE TABLE things (id int);"])
        defer { try? FileManager.default.removeItem(atPath: sql) }
        try await withEmptyDatabase { database in
            try await Migrator(directory: sql).migrate(database: database, logger: logger)
            try "CREATE TABLE things (id bigint);".write(toFile: sql + "/0001_first.sql", atomically: true, encoding: .utf8)
            await #expect(throws: MigrationError.changedAfterApplied(file: "0001_first.sql")) {
                try await Migrator(directory: sql).migrate(database: database, logger: logger)
            }
            #expect(
                MigrationError.changedAfterApplied(file: "0001_first.sql").description
                    == "migrations: 0001_first.sql was changed after it was applied to this database (checksum differs); restore it and put the change in a new migration"
            )
        }
    }

    @Test func aFailingFileIsRolledBackAndNamedWithItsLine() async throws {
        let sql = try directory([
            "0001_good.sql": "CREATE TABLE good (id int);",
            "0002_bad.sql": "CREATE TABLE half (id int);\nINSERT INTO half VALUES (1);\nINSERT INTO missing VALUES (1);\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: sql) }
        try await withEmptyDatabase { database in
            do {
                try await Migrator(directory: sql).migrate(database: database, logger: logger)
                Issue.record("a failing migration must throw")
            } catch let error as MigrationError {
                guard case .failed(let file, let reason) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(file == "0002_bad.sql")
                #expect(reason.contains("line 3"), "\(reason)")
                #expect(reason.contains("missing"), "\(reason)")
            }
            // Nothing of the failed file remains; the good one stays applied.
            #expect(try await Migrator.appliedVersions(database: database) == [1])
            let half = try await database.query("SELECT to_regclass('half') IS NULL").first!.decode(Bool.self)
            #expect(half)
        }
    }

    @Test func concurrentMigratorsApplyEachFileOnce() async throws {
        let sql = try directory([
            "0001_slow.sql": "CREATE TABLE runs (at timestamptz DEFAULT clock_timestamp()); SELECT pg_sleep(0.3); INSERT INTO runs DEFAULT VALUES;",
            "0002_more.sql": "INSERT INTO runs DEFAULT VALUES;",
        ])
        defer { try? FileManager.default.removeItem(atPath: sql) }
        try await withEmptyDatabase { database in
            let migrator = try Migrator(directory: sql)
            let logger = self.logger
            let results = try await withThrowingTaskGroup(of: [Migration].self) { group in
                for _ in 0..<3 { group.addTask { try await migrator.migrate(database: database, logger: logger) } }
                var results: [[Migration]] = []
                for try await result in group { results.append(result) }
                return results
            }
            #expect(results.map(\.count).sorted() == [0, 0, 2])
            #expect(try await database.query("SELECT count(*)::int FROM runs").first!.decode(Int.self) == 2)
        }
    }

    @Test func badFileNamesAndUnknownVersionsAreRefused() async throws {
        let badName = try directory(["1_first.sql": "SELECT 1;"])
        defer { try? FileManager.default.removeItem(atPath: badName) }
        #expect(throws: MigrationError.badFileName("1_first.sql")) { try Migrator(directory: badName) }

        let duplicate = try directory(["0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 1;"])
        defer { try? FileManager.default.removeItem(atPath: duplicate) }
        #expect(throws: MigrationError.duplicateVersion(1, "0001_a.sql", "0001_b.sql")) { try Migrator(directory: duplicate) }

        let newer = try directory(["0001_a.sql": "SELECT 1;", "0002_b.sql": "SELECT 1;"])
        let older = try directory(["0001_a.sql": "SELECT 1;"])
        defer {
            try? FileManager.default.removeItem(atPath: newer)
            try? FileManager.default.removeItem(atPath: older)
        }
        try await withEmptyDatabase { database in
            try await Migrator(directory: newer).migrate(database: database, logger: logger)
            await #expect(throws: MigrationError.unknownAppliedVersion(version: 2, name: "b")) {
                try await Migrator(directory: older).migrate(database: database, logger: logger)
            }
        }
    }

    @Test func dimensionScoresStoredAsAnObjectBecomeNumbersInTheFormsOrder() async throws {
        let all = try Migrator.load(directory: TestDatabaseServer.sqlDirectory)
        try await withEmptyDatabase { database in
            _ = try await Migrator(migrations: all.filter { $0.version < 21 }).migrate(database: database, logger: logger)
            try await database.query(
                """
                WITH f AS (
                  INSERT INTO form_versions (form_key, version, checksum, definition)
                  VALUES ('m', 1, 'c', '{"dimensions": [{"key": "thinking"}, {"key": "results"}, {"key": "style"}]}') RETURNING id
                ), plain AS (
                  INSERT INTO form_versions (form_key, version, checksum, definition) VALUES ('p', 1, 'c', '{}') RETURNING id
                ), r AS (INSERT INTO rounds (title, year) VALUES ('t', 2026) RETURNING id),
                b AS (INSERT INTO branches (code, name) VALUES ('b01', 'b') RETURNING id)
                INSERT INTO responses (round_id, branch_id, rater_group, form_version_id, submitted_on, score, dimension_scores)
                SELECT r.id, b.id, 'members', f.id, current_date, 80, '{"style": 50, "thinking": 87.5}'::jsonb FROM r, b, f
                UNION ALL SELECT r.id, b.id, 'public', plain.id, current_date, 70, '{}'::jsonb FROM r, b, plain
                """
            )
            _ = try await Migrator(migrations: all).migrate(database: database, logger: logger)
            let rows = try await database.query("SELECT dimension_scores::text FROM responses ORDER BY score DESC").map { try $0.decode(String.self) }
            // The form's order, NULL for the dimension the response did not score.
            #expect(rows == ["{87.5,NULL,50}", "{}"])
        }
    }

    @Test func theProjectSchemaApplies() async throws {
        let url = try await TestDatabaseServer.shared.makeMigratedDatabase()
        defer { Task { await TestDatabaseServer.shared.drop(url) } }
        let database = Database(url: url, poolSize: 2, registry: PrometheusCollectorRegistry(), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            let tables = try await database.query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
            ).map { try $0.decode(String.self) }
            for expected in [
                "answers", "audit_log", "ballot_box", "branches", "evaluator_assignments", "form_versions", "invitations",
                "members", "org_sheet_entries", "org_sheets", "organisations", "responses", "result_snapshots", "round_branches",
                "round_groups", "rounds", "schema_migrations", "sessions", "users",
            ] {
                #expect(tables.contains(expected), "missing table \(expected)")
            }
        }
    }
}
