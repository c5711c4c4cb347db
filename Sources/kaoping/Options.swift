import ArgumentParser
import Foundation
import KaopingServer
import Logging

func settingHelp(_ key: String) -> ArgumentHelp {
    let setting = KaopingConfiguration.settings.first { $0.key == key }!
    return ArgumentHelp("\(setting.help) [\(setting.environmentVariable); default: \(setting.defaultDescription)]")
}

/// The options of every command that uses the database.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: settingHelp("database-url"))
    var databaseURL: String?
    @Option(name: .customLong("data-dir"), help: settingHelp("data-dir"))
    var dataDir: String?
    @Option(name: .customLong("sql-dir"), help: settingHelp("sql-dir"))
    var sqlDir: String?
    @Option(name: .customLong("database-pool-size"), help: settingHelp("database-pool-size"))
    var databasePoolSize: String?
    @Option(name: .customLong("log-level"), help: settingHelp("log-level"))
    var logLevel: String?
    @Option(name: .customLong("log-format"), help: settingHelp("log-format"))
    var logFormat: String?
    @Option(name: .customLong("secret-file"), help: settingHelp("secret-file"))
    var secretFile: String?

    var flags: [String: String] {
        var flags: [String: String] = [:]
        flags["database-url"] = databaseURL
        flags["data-dir"] = dataDir
        flags["sql-dir"] = sqlDir
        flags["database-pool-size"] = databasePoolSize
        flags["log-level"] = logLevel
        flags["log-format"] = logFormat
        flags["secret-file"] = secretFile
        return flags
    }
}

/// Resolves the configuration or ends the program with one clear line.
func resolveConfiguration(_ flags: [String: String]) throws -> KaopingConfiguration {
    do {
        return try KaopingConfiguration.resolve(flags: flags, environment: ProcessInfo.processInfo.environment)
    } catch {
        fail(error.description)
    }
}

func fail(_ message: String, code: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("kaoping: \(message)\n".utf8))
    // `exit` skips every `defer`: stop the database this command started before leaving.
    ClusterStartedByCommand.stop()
    exit(code)
}

/// The embedded cluster this command started, if any, so that a command that fails half-way
/// does not leave PostgreSQL running behind it.
enum ClusterStartedByCommand {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var started: (cluster: EmbeddedPostgres, logger: Logger)?

    static func remember(_ cluster: EmbeddedPostgres?, logger: Logger) {
        lock.withLock { started = cluster.map { ($0, logger) } }
    }

    static func stop() {
        let taken = lock.withLock {
            defer { started = nil }
            return started
        }
        if let taken { try? taken.cluster.stop(logger: taken.logger) }
    }
}

/// The configured database, started if it is the embedded one (and stopped again by `fail`,
/// or by the command when it is done); a problem ends the program with one line.
func preparedDatabase(_ configuration: KaopingConfiguration, logger: Logger) async -> DatabaseBootstrap.Prepared {
    do {
        let prepared = try await DatabaseBootstrap.prepare(configuration, logger: logger)
        ClusterStartedByCommand.remember(prepared.startedCluster, logger: logger)
        return prepared
    } catch {
        fail("\(error)", code: 1)
    }
}

/// Opens the configured database (starting the embedded cluster if needed), brings its schema
/// up to date, runs `body`, and stops the cluster again if this command started it.
func withMigratedDatabase<Result: Sendable>(
    _ configuration: KaopingConfiguration, logger: Logger, _ body: @Sendable @escaping (Database) async throws -> Result
) async throws -> Result {
    let prepared = await preparedDatabase(configuration, logger: logger)
    defer { ClusterStartedByCommand.stop() }
    let database = Database(url: prepared.url, poolSize: 2, registry: .init(), logger: logger, quietBackground: true)
    let migrator: Migrator
    do {
        migrator = try Migrator(directory: configuration.sqlDirectory)
    } catch {
        fail(error.description, code: 1)
    }
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await database.client.run() }
        defer { group.cancelAll() }
        try await migrator.migrate(database: database, logger: logger)
        return try await body(database)
    }
}

/// The invitation secret, created on first use; a problem ends the program with one line.
func invitationSecret(_ configuration: KaopingConfiguration) -> [UInt8] {
    do {
        return try InvitationTokens.loadSecret(path: configuration.resolvedSecretFile)
    } catch {
        fail("cannot read or create the secret file \(configuration.resolvedSecretFile): \(error.localizedDescription)", code: 1)
    }
}
