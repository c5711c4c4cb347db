import Foundation
import KaopingServer
import Logging

/// What a command works with. The configuration and the logger are made when it starts; the
/// database (started if it is the embedded one, and brought up to date) and the services are
/// opened the first time the command asks for them, and only then: `user add` never reads a
/// form file, and only the commands that open rounds freeze the forms.
actor CommandState {
    let configuration: KaopingConfiguration
    let logger: Logger
    private var prepared: DatabaseBootstrap.Prepared?
    private var opened: (database: Database, client: Task<Void, Never>)?
    private var made: KaopingServices?
    /// The standby's pool of `--read-database-url`, if given, running.
    private var readClient: Task<Void, Never>?

    private init(configuration: KaopingConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs `body` with a state made from the command's flags, and closes what it opened
    /// however `body` ends (the embedded cluster this command started is stopped again).
    /// `quietest` keeps a command's output free of routine log lines unless asked for.
    static func run<Result: Sendable>(
        _ flags: [String: String],
        quietest: Logger.Level? = .warning,
        _ body: (CommandState) async throws -> Result
    ) async throws -> Result {
        let configuration = try resolveConfiguration(flags)
        LogSetup.bootstrap(level: quietest.map { max(configuration.logLevel, $0) } ?? configuration.logLevel, format: configuration.logFormat)
        let state = CommandState(configuration: configuration, logger: Logger(label: "kaoping"))
        do {
            let result = try await body(state)
            await state.close()
            return result
        } catch {
            await state.close()
            throw Self.said(error)
        }
    }

    /// The refusals every command reports the same way: one line, status 1.
    private static func said(_ error: any Error) -> any Error {
        switch error {
        case RoundError.needsConfirmation(let warnings):
            // Dates that are allowed but usually a slip: nothing saved, and the way to go ahead.
            fail(
                (warnings.map { "warning: " + $0.text(.english) }
                    + ["Nothing was saved. Check the spec, or run again with --accept-warnings to save it as it is."])
                    .joined(separator: "\n"),
                code: 1
            )
        case let error as RoundError: fail(error.description, code: 1)
        case let error as PublicityError: fail(error.description, code: 1)
        case let problem as VisitCodeProblem: fail(problem.message(.english), code: 1)
        case let error where DatabaseFailure.isUnavailable(error):
            // The database was away, read-only (a failover under way) or shutting down. Most
            // often nothing was done; but a connection lost during the commit leaves it unknown
            // whether the commit survived, so the person is told to check before repeating.
            fail(
                "the database is not available, and the command may not have been carried out; check, then run it again: "
                    + DatabaseFailure.reason(error),
                code: 1
            )
        case let error where DatabaseFailure.isFromTheDatabase(error): fail("database error: \(DatabaseFailure.reason(error))", code: 1)
        default: error
        }
    }

    /// The configured database, ready to use: started if it is the embedded one, migrated.
    func database() async throws -> Database {
        if let opened { return opened.database }
        let migrator: Migrator
        do {
            migrator = try Migrator(directory: configuration.sqlDirectory)
        } catch {
            throw fail(error.description, code: 1)
        }
        let prepared = try await prepare()
        let database = Database(url: prepared.url, poolSize: 2, registry: .init(), logger: logger, quietBackground: true)
        opened = (database, Task { await database.client.run() })
        try await migrator.migrate(database: database, logger: logger)
        return database
    }

    /// The database server, started if it is the embedded one, without touching its schema
    /// (for backup and restore).
    func prepare() async throws -> DatabaseBootstrap.Prepared {
        if let prepared { return prepared }
        do {
            let made = try await DatabaseBootstrap.prepare(configuration, logger: logger)
            prepared = made
            return made
        } catch {
            throw fail("\(error)", code: 1)
        }
    }

    /// The office's services, made by the same function the server uses.
    func services() async throws -> KaopingServices {
        if let made { return made }
        let catalog: FormCatalog
        do {
            catalog = try FormCatalog(directory: configuration.formsDirectory)
        } catch {
            throw fail(error.description, code: 1)
        }
        // Closing a round opens the ballots still waiting in the box: the secret seals them.
        let secret = try invitationSecret(configuration)
        let primary = try await database()
        // The results commands read where the server's pages do.
        let reads = configuration.readDatabaseURL.map { Database.standby(url: $0, poolSize: 2, primary: primary, registry: .init(), logger: logger) }
        if let reads { readClient = Task { await reads.client.run() } }
        let services = KaopingServices.make(database: primary, readDatabase: reads, catalog: catalog, invitationSecret: secret, logger: logger)
        made = services
        return services
    }

    /// The services with every form frozen as it is now, as the server does at start: what a
    /// command that opens a round needs, since an opened round refers to exact form versions.
    func servicesWithFrozenForms() async throws -> KaopingServices {
        let services = try await services()
        try await services.freezeForms()
        return services
    }

    private func close() async {
        // The pool is told to shut down, not waited for: the command's work is done and
        // committed, and a graceful close of connections still opening can stall a command
        // that has nothing left to do.
        opened?.client.cancel()
        readClient?.cancel()
        prepared?.startedCluster?.stopNow()
    }
}
