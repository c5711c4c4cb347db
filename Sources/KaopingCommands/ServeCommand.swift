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

    @OptionGroup var settings: ServeSettings
    @Flag(
        help:
            "On an empty database, create a demo office (12 branches, about 150 members), an open round with answers, and accounts; prints how to sign in."
    )
    var demo = false

    func run() async throws {
        let configuration = try resolveConfiguration(settings.flags)
        LogSetup.bootstrap(level: configuration.logLevel, format: configuration.logFormat)
        let logger = Logger(label: "kaoping")

        if configuration.databaseURL == nil {
            do {
                try DataDirectoryLock.acquire(dataDirectory: configuration.dataDirectory)
            } catch {
                throw fail(error.description, code: 1)
            }
        }
        let demo = self.demo
        try await withPreparedDatabase(configuration, logger: logger) { prepared in
            let secret = try invitationSecret(configuration)
            let registry = PrometheusCollectorRegistry()
            let database = Database(url: prepared.url, poolSize: configuration.databasePoolSize, registry: registry, logger: logger)
            var environment = ApplicationEnvironment(
                configuration: configuration,
                database: database,
                registry: registry,
                logger: logger,
                embeddedCluster: prepared.embeddedCluster,
                onServerRunning: { port, services in
                    if demo { await Self.seedDemo(configuration: configuration, services: services, logger: logger) }
                    await Self.announce(configuration: configuration, port: port, users: services.users)
                }
            )
            environment.readDatabase = configuration.readDatabaseURL.map {
                Database.standby(url: $0, poolSize: configuration.databasePoolSize, primary: database, registry: registry, logger: logger)
            }
            environment.invitationSecret = secret
            environment.embeddedClusterStartedHere = prepared.startedCluster != nil
            do {
                let app = try await buildApplication(environment)
                try await app.runService()
            } catch {
                throw fail(StartupFailure.describe(error, configuration: configuration), code: 1)
            }
        }
    }

    static func seedDemo(configuration: KaopingConfiguration, services: KaopingServices, logger: Logger) async {
        do {
            let demo = DemoData(services: services, hasher: PasswordHasher())
            guard let summary = try await demo.seedIfEmpty(publicBaseURL: configuration.publicBaseURL, logger: logger) else {
                say("--demo: the database already has branches; no demo data added")
                return
            }
            say(
                """
                Demo office created: 12 branches, about 150 members, an open round closing in 7 days, with answers.
                  Administrator:  admin / \(summary.adminPassword)   (shown only now; change it under 修改密码)
                  Evaluator:      pingshen / \(summary.evaluatorPassword)
                  A member's invitation link:  \(summary.memberLink)
                  A branch's public link:      \(summary.publicLink)
                  Branch secretary of 办公室党支部:  shuji / \(summary.secretaryPassword)
                  A member's appraisal link (民主评议党员):  \(summary.appraisalLink)
                """
            )
        } catch {
            logger.error("demo data could not be created: \(String(reflecting: error))")
        }
    }

    /// The first lines a newcomer reads: where to go, and how to get in.
    static func announce(configuration: KaopingConfiguration, port: Int, users: UserRepository) async {
        let host = configuration.host == "0.0.0.0" ? "127.0.0.1" : configuration.host
        var lines = ["Kaoping 考评 is running at http://\(host):\(port)/admin  (Ctrl-C to stop)"]
        if (try? await users.count()) == 0 {
            var options = ""
            if configuration.dataDirectory != ".kaoping" { options += " --data-dir \(configuration.dataDirectory)" }
            if configuration.databaseURL != nil { options += " --database-url '…'" }
            lines.append("No account exists yet. In another terminal create the first administrator:")
            // The program's own path: the line works in this terminal's directory, whether this
            // is `swift run` in the source tree or an installed binary run from anywhere.
            lines.append("  \(programPath()) user add --username admin --role admin --generate-password\(options)")
        }
        say(lines.joined(separator: "\n"))
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending SQL migrations from the SQL directory and exit."
    )

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        do {
            let total = try await CommandState.run(database.flags, quietest: nil) { state in
                try await Migrator.appliedVersions(database: try await state.database())?.count ?? 0
            }
            say("database is up to date: \(total) migration(s) applied")
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw fail("\(error)", code: 1)
        }
    }
}

/// The absolute path of the running program.
func programPath() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

/// The settings of the server, beyond those of every command that uses the database.
struct ServeSettings: SettingOptions {
    @Option(help: settingHelp("host")) var host: String?
    @Option(help: settingHelp("port")) var port: String?
    @Option(help: settingHelp("metrics-address")) var metricsAddress: String?
    @Option(help: settingHelp("forms-dir")) var formsDir: String?
    @Option(help: settingHelp("public-url")) var publicUrl: String?
    @Option(help: settingHelp("cookie-secure")) var cookieSecure: String?
    @Option(help: settingHelp("trust-forwarded-for")) var trustForwardedFor: String?
    @Option(help: settingHelp("session-hours")) var sessionHours: String?
    @Option(help: settingHelp("max-body-kib")) var maxBodyKib: String?
    @Option(help: settingHelp("max-text-length")) var maxTextLength: String?
    @Option(help: settingHelp("max-upload-mib")) var maxUploadMib: String?
    @Option(help: settingHelp("public-per-hour")) var publicPerHour: String?
    @Option(help: settingHelp("idle-timeout")) var idleTimeout: String?
    @Option(help: settingHelp("request-timeout")) var requestTimeout: String?
    @OptionGroup var database: DatabaseOptions
}
