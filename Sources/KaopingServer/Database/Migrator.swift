import Foundation
import Logging
import PostgresNIO

/// One file of `sql/`, named `NNNN_name.sql`.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let fileName: String
    public let sql: String
}

public enum MigrationError: Error, CustomStringConvertible, Equatable {
    case directoryUnreadable(String)
    case badFileName(String)
    case duplicateVersion(Int, String, String)
    case changedAfterApplied(file: String)
    case unknownAppliedVersion(version: Int, name: String)
    case failed(file: String, reason: String)

    public var description: String {
        switch self {
        case .directoryUnreadable(let directory):
            "migrations: cannot read the SQL directory \(directory)"
        case .badFileName(let file):
            "migrations: \(file) is not named NNNN_name.sql (four digits, an underscore, a name)"
        case .duplicateVersion(let version, let first, let second):
            "migrations: \(first) and \(second) both have number \(version)"
        case .changedAfterApplied(let file):
            "migrations: \(file) was changed after it was applied to this database (checksum differs); restore it and put the change in a new migration"
        case .unknownAppliedVersion(let version, let name):
            "migrations: the database has migration \(version) (\(name)) that is not in the SQL directory; this program is older than the database"
        case .failed(let file, let reason):
            "migrations: \(file) failed: \(reason)"
        }
    }
}

/// Applies the plain SQL files of `sql/` in order, each in its own transaction, and records them
/// in `schema_migrations` with a SHA-256 checksum.
///
/// A session-level advisory lock serialises migrators: several instances starting at once apply
/// each file exactly once, and the later ones wait and then find nothing left to do.
public struct Migrator: Sendable {
    public let migrations: [Migration]
    /// An arbitrary constant shared by every Kaoping process ("KAOPING" in ASCII, roughly).
    static let advisoryLockKey: Int64 = 0x4B_414F_5049_4E47

    public init(migrations: [Migration]) {
        self.migrations = migrations
    }

    public init(directory: String) throws(MigrationError) {
        self.init(migrations: try Migrator.load(directory: directory))
    }

    public static func load(directory: String) throws(MigrationError) -> [Migration] {
        let fileManager = FileManager.default
        guard let names = try? fileManager.contentsOfDirectory(atPath: directory) else {
            throw .directoryUnreadable(directory)
        }
        var migrations: [Migration] = []
        var seen: [Int: String] = [:]
        for name in names.sorted() where name.hasSuffix(".sql") {
            let stem = name.dropLast(4)
            let parts = stem.split(separator: "_", maxSplits: 1)
            guard parts.count == 2, parts[0].count == 4, let version = Int(parts[0]), !parts[1].isEmpty else {
                throw .badFileName(name)
            }
            if let other = seen[version] { throw .duplicateVersion(version, other, name) }
            seen[version] = name
            guard let data = fileManager.contents(atPath: directory + "/" + name), let sql = String(data: data, encoding: .utf8) else {
                throw .directoryUnreadable(directory + "/" + name)
            }
            migrations.append(Migration(version: version, name: String(parts[1]), fileName: name, sql: sql))
        }
        return migrations.sorted { $0.version < $1.version }
    }

    /// Applies what is missing and returns the migrations applied by this call.
    @discardableResult
    public func migrate(database: Database, logger: Logger) async throws -> [Migration] {
        try await database.withConnection { connection in try await migrate(on: connection, logger: logger) }
    }

    /// Applies what is missing over one connection.
    @discardableResult
    public func migrate(on connection: PostgresConnection, logger: Logger) async throws -> [Migration] {
        try await connection.execute("SELECT pg_advisory_lock(\(Migrator.advisoryLockKey))", logger: logger)
        do {
            let applied = try await apply(on: connection, logger: logger)
            try await connection.query("SELECT pg_advisory_unlock(\(Migrator.advisoryLockKey))", logger: logger)
            return applied
        } catch {
            // The lock belongs to the session, which may go back to a pool: release it.
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(Migrator.advisoryLockKey))", logger: logger)
            throw error
        }
    }

    /// The versions recorded in the database, or `nil` when the table does not exist yet.
    public static func appliedVersions(database: Database) async throws -> Set<Int>? {
        let exists = try await database.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        guard let row = exists.first, try row.decode(Bool.self) else { return nil }
        let rows = try await database.query("SELECT version FROM schema_migrations")
        return Set(try rows.map { try $0.decode(Int.self) })
    }

    private func apply(on connection: PostgresConnection, logger: Logger) async throws -> [Migration] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            logger: logger
        )
        // PostgresNIO speaks only the extended protocol, which takes one statement at a time. A
        // session-local PL/pgSQL function runs a whole file with EXECUTE, which accepts many.
        try await connection.query(
            """
            CREATE OR REPLACE FUNCTION pg_temp.kaoping_run_migration(script text) RETURNS void
            LANGUAGE plpgsql AS $$ BEGIN EXECUTE script; END $$
            """,
            logger: logger
        )
        var recorded: [Int: (name: String, checksum: String)] = [:]
        for try await (version, name, checksum) in try await connection.query(
            "SELECT version, name, checksum FROM schema_migrations",
            logger: logger
        ).decode((Int, String, String).self) {
            recorded[version] = (name, checksum)
        }
        let byVersion = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for (version, entry) in recorded.sorted(by: { $0.key < $1.key }) where byVersion[version] == nil {
            throw MigrationError.unknownAppliedVersion(version: version, name: entry.name)
        }
        var applied: [Migration] = []
        for migration in migrations {
            let checksum = try await Self.checksum(of: migration.sql, on: connection, logger: logger)
            if let existing = recorded[migration.version] {
                guard existing.checksum == checksum else { throw MigrationError.changedAfterApplied(file: migration.fileName) }
                continue
            }
            do {
                try await connection.query("BEGIN", logger: logger)
                // Errors raised while the script runs arrive with the rows: read them all.
                try await connection.execute("SELECT pg_temp.kaoping_run_migration(\(migration.sql))", logger: logger)
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(checksum))",
                    logger: logger
                )
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw MigrationError.failed(file: migration.fileName, reason: Self.describe(error, in: migration.sql))
            }
            logger.info("applied migration", metadata: ["file": "\(migration.fileName)"])
            applied.append(migration)
        }
        return applied
    }

    static func checksum(of sql: String, on connection: PostgresConnection, logger: Logger) async throws -> String {
        let rows = try await connection.query("SELECT encode(sha256(convert_to(\(sql), 'UTF8')), 'hex')", logger: logger)
        for try await digest in rows.decode(String.self) { return digest }
        throw MigrationError.failed(file: "", reason: "checksum query returned nothing")
    }

    /// The server's message, with the line of the file it points at when it says.
    static func describe(_ error: any Error, in sql: String) -> String {
        guard let psql = error as? PSQLError, let message = psql.serverInfo?[.message] else {
            return String(describing: error)
        }
        if let position = (psql.serverInfo?[.internalPosition] ?? psql.serverInfo?[.position]).flatMap(Int.init), position > 0 {
            let prefix = sql.prefix(position - 1)
            let line = prefix.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
            return "line \(line): \(message)"
        }
        return message
    }
}
