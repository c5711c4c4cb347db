import Foundation
import Logging
import PostgresNIO

/// Backups of the whole database with PostgreSQL's own tools, from the same installation that
/// runs the embedded cluster: `pg_dump` in its custom format (consistent while the server
/// runs: it reads one snapshot), and `pg_restore` into an empty database.
///
/// The backup holds every table, answers included. It does not hold the secret file
/// (`<data dir>/secret`): invitation links are derived from it, so keep it with the backups,
/// but apart from them (see docs/privacy.md).
public enum DatabaseBackup {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Writes a backup of the database at `url` to `file`.
    public static func dump(_ url: DatabaseURL, to file: String) async throws {
        let binaries = try await locate()
        let result = try await run(binaries.path("pg_dump"), ["--format=custom", "--file=\(file)"] + connectionArguments(url), url: url)
        guard result.status == 0 else {
            throw Failure(description: "pg_dump failed: \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    /// Loads a backup into the database at `url`, which must hold no tables: a restore never
    /// mixes two offices' data, nor overwrites what is there.
    public static func restore(_ file: String, into url: DatabaseURL, logger: Logger) async throws {
        guard FileManager.default.isReadableFile(atPath: file) else { throw Failure(description: "cannot read \(file)") }
        let tables = try await DatabaseBootstrap.withMaintenanceConnection(url, logger: logger, database: url.database) { connection in
            var count = 0
            for try await row in try await connection.query("SELECT count(*)::int FROM pg_tables WHERE schemaname = 'public'", logger: logger) {
                count = try row.decode(Int.self)
            }
            return count
        }
        guard tables == 0 else {
            throw Failure(
                description:
                    "the database \(url.database) is not empty (\(tables) tables): restore only into a new data directory or an empty database"
            )
        }
        let binaries = try await locate()
        let arguments = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"] + connectionArguments(url) + [file]
        let result = try await run(binaries.path("pg_restore"), arguments, url: url)
        guard result.status == 0 else {
            throw Failure(description: "pg_restore failed: \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    static func connectionArguments(_ url: DatabaseURL) -> [String] {
        ["--host=\(url.unixSocketDirectory ?? url.host)", "--port=\(url.port)", "--username=\(url.username)", "--dbname=\(url.database)"]
    }

    private static func locate() async throws -> PostgresBinaries {
        do {
            return try await PostgresBinaries.locate()
        } catch {
            throw Failure(description: "\(error)")
        }
    }

    private static func run(_ program: String, _ arguments: [String], url: DatabaseURL) async throws -> CommandRunner.Result {
        var environment = ["PGSSLMODE": url.unixSocketDirectory == nil ? url.tlsMode.rawValue : "disable", "PGCONNECT_TIMEOUT": "10"]
        // The password goes through the environment of the child only, never its arguments.
        environment["PGPASSWORD"] = url.password
        do {
            return try await CommandRunner(runAsPostgres: false).run(program, arguments, environment: environment)
        } catch {
            throw Failure(description: "\(error)")
        }
    }
}
