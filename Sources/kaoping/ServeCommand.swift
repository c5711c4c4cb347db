import ArgumentParser
import Foundation
import KaopingServer
import Logging
import Prometheus

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP server (applies pending migrations first)."
    )

    @Option(name: .customLong("host"), help: settingHelp("host"))
    var host: String?
    @Option(name: .customLong("port"), help: settingHelp("port"))
    var port: String?
    @Option(name: .customLong("forms-dir"), help: settingHelp("forms-dir"))
    var formsDir: String?
    @Option(name: .customLong("public-url"), help: settingHelp("public-url"))
    var publicURL: String?
    @Option(name: .customLong("cookie-secure"), help: settingHelp("cookie-secure"))
    var cookieSecure: String?
    @Option(name: .customLong("trust-forwarded-for"), help: settingHelp("trust-forwarded-for"))
    var trustForwardedFor: String?
    @Option(name: .customLong("session-hours"), help: settingHelp("session-hours"))
    var sessionHours: String?
    @Option(name: .customLong("max-body-kib"), help: settingHelp("max-body-kib"))
    var maxBodyKiB: String?
    @Option(name: .customLong("max-text-length"), help: settingHelp("max-text-length"))
    var maxTextLength: String?
    @Option(name: .customLong("max-upload-mib"), help: settingHelp("max-upload-mib"))
    var maxUploadMiB: String?
    @Option(name: .customLong("public-per-hour"), help: settingHelp("public-per-hour"))
    var publicPerHour: String?
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        var flags = database.flags
        flags["max-body-kib"] = maxBodyKiB
        flags["max-text-length"] = maxTextLength
        flags["max-upload-mib"] = maxUploadMiB
        flags["public-per-hour"] = publicPerHour
        flags["host"] = host
        flags["port"] = port
        flags["forms-dir"] = formsDir
        flags["public-url"] = publicURL
        flags["cookie-secure"] = cookieSecure
        flags["trust-forwarded-for"] = trustForwardedFor
        flags["session-hours"] = sessionHours
        let configuration = try resolveConfiguration(flags)
        LogSetup.bootstrap(level: configuration.logLevel, format: configuration.logFormat)
        let logger = Logger(label: "kaoping")

        let prepared: DatabaseBootstrap.Prepared
        do {
            prepared = try await DatabaseBootstrap.prepare(configuration, logger: logger)
        } catch {
            fail("\(error)", code: 1)
        }
        let registry = PrometheusCollectorRegistry()
        let database = Database(url: prepared.url, poolSize: configuration.databasePoolSize, registry: registry, logger: logger)
        var environment = ApplicationEnvironment(
            configuration: configuration, database: database, registry: registry, logger: logger,
            embeddedCluster: prepared.startedCluster,
            onServerRunning: { port in await Self.announce(configuration: configuration, port: port, database: database) }
        )
        environment.invitationSecret = invitationSecret(configuration)
        do {
            let app = try await buildApplication(environment)
            try await app.runService()
        } catch {
            if let cluster = prepared.startedCluster, cluster.isRunning() { try? cluster.stop(logger: logger) }
            fail(StartupFailure.describe(error, configuration: configuration), code: 1)
        }
    }

    /// The first lines a newcomer reads: where to go, and how to get in.
    static func announce(configuration: KaopingConfiguration, port: Int, database: Database) async {
        let host = configuration.host == "0.0.0.0" ? "127.0.0.1" : configuration.host
        var lines = ["Kaoping 考评 is running at http://\(host):\(port)/admin  (Ctrl-C to stop)"]
        let users = try? await PostgresUserRepository(database: database).count()
        if users == 0 {
            var options = ""
            if configuration.dataDirectory != ".kaoping" { options += " --data-dir \(configuration.dataDirectory)" }
            if configuration.databaseURL != nil { options += " --database-url '…'" }
            lines.append("No account exists yet. In another terminal create the first administrator:")
            lines.append("  swift run kaoping user add --username admin --role admin --generate-password\(options)")
        }
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending SQL migrations from the SQL directory and exit."
    )

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let configuration = try resolveConfiguration(database.flags)
        LogSetup.bootstrap(level: configuration.logLevel, format: configuration.logFormat)
        let logger = Logger(label: "kaoping")
        do {
            let total = try await withMigratedDatabase(configuration, logger: logger) { database in
                try await Migrator.appliedVersions(database: database)?.count ?? 0
            }
            print("database is up to date: \(total) migration(s) applied")
        } catch {
            fail("\(error)", code: 1)
        }
    }
}
