import ArgumentParser
import Foundation
import KaopingServer
import Logging

func settingHelp(_ key: String) -> ArgumentHelp {
    let setting = KaopingConfiguration.settings.first { $0.key == key }!
    return ArgumentHelp("\(setting.help) [\(setting.environmentVariable); default: \(setting.defaultDescription)]")
}

/// Options that are settings (`KaopingConfiguration.settings`). Each is declared once, as a
/// property named after its setting in camelCase, which is also how ArgumentParser names the
/// flag (`databasePoolSize` is `--database-pool-size`); `flags` reads every one that was given,
/// those of nested option groups included, keyed as `KaopingConfiguration.resolve` wants them.
protocol SettingOptions: ParsableArguments {}

extension SettingOptions {
    var flags: [String: String] {
        var flags: [String: String] = [:]
        for child in Mirror(reflecting: self).children {
            guard let label = child.label, label.hasPrefix("_") else { continue }
            if let option = child.value as? Option<String?> {
                if let value = option.wrappedValue { flags[settingKey(String(label.dropFirst()))] = value }
            } else if let group = child.value as? any NestedSettingOptions {
                flags.merge(group.flags) { $1 }
            }
        }
        return flags
    }
}

/// `databasePoolSize` → `database-pool-size`.
func settingKey(_ property: String) -> String {
    var key = ""
    for character in property {
        if character.isUppercase {
            key += "-" + character.lowercased()
        } else {
            key.append(character)
        }
    }
    return key
}

protocol NestedSettingOptions {
    var flags: [String: String] { get }
}

extension OptionGroup: NestedSettingOptions where Value: SettingOptions {
    var flags: [String: String] { wrappedValue.flags }
}

/// The settings of every command that uses the database.
struct DatabaseOptions: SettingOptions {
    @Option(help: settingHelp("database-url")) var databaseUrl: String?
    @Option(help: settingHelp("data-dir")) var dataDir: String?
    @Option(help: settingHelp("sql-dir")) var sqlDir: String?
    @Option(help: settingHelp("database-pool-size")) var databasePoolSize: String?
    @Option(help: settingHelp("read-database-url")) var readDatabaseUrl: String?
    @Option(help: settingHelp("log-level")) var logLevel: String?
    @Option(help: settingHelp("log-format")) var logFormat: String?
    @Option(help: settingHelp("secret-file")) var secretFile: String?
}

/// Resolves the configuration, or fails with one clear line.
func resolveConfiguration(_ flags: [String: String]) throws -> KaopingConfiguration {
    do {
        return try KaopingConfiguration.resolve(flags: flags, environment: Console.current.environment)
    } catch {
        throw fail(error.description)
    }
}

/// A command that cannot go on: the one line the operator reads, and the exit status (2 for a
/// wrong invocation, 1 for anything else).
///
/// Thrown rather than ending the process on the spot, so that every `defer` on the way out
/// runs: that is what stops the embedded PostgreSQL a failing command started.
struct CommandFailure: Error {
    let message: String
    let status: Int32
}

func fail(_ message: String, code: Int32 = 2) -> CommandFailure {
    CommandFailure(message: message, status: code)
}

/// Runs `body` with the configured database, starting the embedded cluster if needed and
/// stopping it again afterwards if this command started it, however `body` ends: for the
/// server, which makes its own pool of connections (every other command uses `CommandState`).
func withPreparedDatabase<Result>(
    _ configuration: KaopingConfiguration,
    logger: Logger,
    _ body: (DatabaseBootstrap.Prepared) async throws -> Result
) async throws -> Result {
    let prepared: DatabaseBootstrap.Prepared
    do {
        prepared = try await DatabaseBootstrap.prepare(configuration, logger: logger)
    } catch {
        throw fail("\(error)", code: 1)
    }
    defer {
        if let cluster = prepared.startedCluster { cluster.stopNow() }
    }
    return try await body(prepared)
}

/// The invitation secret, created on first use; a problem fails with one line.
func invitationSecret(_ configuration: KaopingConfiguration) throws -> [UInt8] {
    do {
        return try InvitationTokens.loadSecret(path: configuration.resolvedSecretFile)
    } catch {
        throw fail("cannot read or create the secret file \(configuration.resolvedSecretFile): \(error.localizedDescription)", code: 1)
    }
}
