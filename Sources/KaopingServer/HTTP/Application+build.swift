import Foundation
import Hummingbird
import HummingbirdAuth
import KaopingForms
import Logging
import Prometheus
import ServiceLifecycle

/// Names of the admin session cookie and of its rows in the session store.
public enum SessionCookie {
    public static let name = "kp_session"
    public static let keyPrefix = "session."
}

/// Everything `buildApplication` needs that is made outside it: the resolved configuration and
/// a database that is reachable (the embedded cluster, if any, is already running).
public struct ApplicationEnvironment: Sendable {
    public var configuration: KaopingConfiguration
    public var database: Database
    public var registry: PrometheusCollectorRegistry
    public var logger: Logger
    /// The embedded cluster in use, if any: supervised while the server runs.
    public var embeddedCluster: EmbeddedPostgres?
    /// Whether this process started `embeddedCluster`, and so stops it after everything else.
    public var embeddedClusterStartedHere = false
    public var passwordHasher: PasswordHasher
    /// Runs once the server listens (the CLI prints the address and first steps).
    public var onServerRunning: @Sendable (Int) async -> Void
    /// How often due rounds are opened and closed.
    public var schedulerInterval: Duration = .seconds(1)
    /// Shortest time between two mixes of one round's ballot box.
    public var mixPace: Duration = .seconds(30)
    /// The secret invitation tokens and the ballot key are derived from (see `InvitationTokens`
    /// and `BallotSeal`).
    public var invitationSecret: [UInt8] = []

    public init(
        configuration: KaopingConfiguration,
        database: Database,
        registry: PrometheusCollectorRegistry,
        logger: Logger,
        embeddedCluster: EmbeddedPostgres? = nil,
        passwordHasher: PasswordHasher = PasswordHasher(),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.database = database
        self.registry = registry
        self.logger = logger
        self.embeddedCluster = embeddedCluster
        self.passwordHasher = passwordHasher
        self.onServerRunning = onServerRunning
    }
}

/// Builds the Kaoping application: routes, middleware and background services.
///
/// Migrations run before the server accepts connections; background services wait for them.
public func buildApplication(_ environment: ApplicationEnvironment) async throws -> some ApplicationProtocol {
    let configuration = environment.configuration
    let logger = environment.logger
    let database = environment.database
    let migrator = try Migrator(directory: configuration.sqlDirectory)
    let migrations = MigrationGate()
    let sessions = PostgresPersistDriver(database: database, logger: logger)
    let throttle = LoginThrottle(database: database)
    let views = try await Views()
    // A broken form file stops start-up here, naming the file and line.
    let catalog = try FormCatalog(directory: configuration.formsDirectory)
    // So does a broken interface text file, naming the file, line and key.
    try TextCatalogue.check()
    let formRepository = FormRepository(database: database)

    let audit = AuditLog(database: database)
    let seal = BallotSeal(secret: environment.invitationSecret)
    let rounds = RoundRepository(database: database, forms: catalog, audit: audit, seal: seal)
    let router = try buildRouter(
        environment: environment,
        dependencies: .init(
            users: UserRepository(database: database),
            audit: audit,
            throttle: throttle,
            sessions: sessions,
            views: views,
            migrations: migrations,
            expectedMigrations: Set(migrator.migrations.map(\.version)),
            catalog: catalog,
            forms: formRepository,
            responses: ResponseRepository(database: database, seal: seal),
            organisation: OrganisationRepository(database: database),
            rounds: rounds,
            sheets: SheetRepository(database: database),
            invitations: InvitationRepository(database: database, tokens: InvitationTokens(secret: environment.invitationSecret)),
            visitCodes: VisitCodeRepository(database: database, tokens: InvitationTokens(secret: environment.invitationSecret))
        )
    )

    var services: [any Service] = []
    if let cluster = environment.embeddedCluster {
        // First in, last out: the database stops after the server and the pool.
        services.append(
            EmbeddedPostgresService(
                cluster: cluster,
                port: database.url.port,
                startedHere: environment.embeddedClusterStartedHere,
                registry: environment.registry,
                logger: logger
            )
        )
    }
    services.append(database.client)
    services.append(SessionCleanupService(sessions: sessions, throttle: throttle, migrations: migrations, logger: logger))
    services.append(
        RoundSchedulerService(
            rounds: rounds,
            ballots: BallotBox(database: database, seal: seal, pace: environment.mixPace),
            migrations: migrations,
            interval: environment.schedulerInterval,
            logger: logger
        )
    )

    services.append(
        ResultsWarmingService(
            database: database,
            results: ResultsController(results: ResultsRepository(database: database, forms: formRepository), rounds: rounds, views: views),
            migrations: migrations,
            logger: logger
        )
    )

    var app = Application(
        router: router,
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [RequestDeadlineHandler(deadline: .seconds(Int64(configuration.requestTimeoutSeconds)))],
                idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds))
            )
        ),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        services: services,
        onServerRunning: { channel in
            await environment.onServerRunning(channel.localAddress?.port ?? configuration.port)
        },
        logger: logger
    )
    app.beforeServerStarts {
        try await migrator.migrate(database: database, logger: logger)
        // Every form as it is now gets a frozen version that rounds can refer to.
        for form in catalog.forms { _ = try await formRepository.freeze(form) }
        migrations.open()
    }
    return app
}

/// What the routes need, made once by `buildApplication`.
public struct RouterDependencies: Sendable {
    public var users: UserRepository
    public var audit: AuditLog
    public var throttle: LoginThrottle
    public var sessions: PostgresPersistDriver
    public var views: Views
    public var migrations: MigrationGate
    public var expectedMigrations: Set<Int>
    public var catalog: FormCatalog
    public var forms: FormRepository
    public var responses: ResponseRepository
    public var organisation: OrganisationRepository
    public var rounds: RoundRepository
    public var sheets: SheetRepository
    public var invitations: InvitationRepository
    public var visitCodes: VisitCodeRepository
}

public func buildRouter(environment: ApplicationEnvironment, dependencies: RouterDependencies) throws -> Router<AppRequestContext> {
    let configuration = environment.configuration
    let router = Router(context: AppRequestContext.self)
    let catalog = RouteCatalog()
    let routes = CatalogingRouter(router: router, catalog: catalog)

    // Outermost first: metrics see the final status, the log line carries it, every response
    // gets the security headers, errors become pages in the person's language.
    router.add(middleware: RequestMetricsMiddleware(registry: environment.registry))
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: LanguageMiddleware(secureCookies: configuration.cookieSecure))
    router.add(middleware: ErrorPageMiddleware(views: dependencies.views, routes: catalog))
    router.add(middleware: BodyLimitMiddleware(limit: configuration.maxBodyBytes, uploadLimit: configuration.maxUploadBytes))
    router.add(middleware: StaticPathMiddleware())
    router.add(
        middleware: FileMiddleware(
            Resources.path("static"),
            urlBasePath: SiteURL.staticFiles.path,
            cacheControl: .init([(MediaType(type: .any), [.public, .maxAge(3600)])]),
            searchForIndexHtml: false,
            logger: environment.logger
        )
    )
    router.add(middleware: CSRFMiddleware(secureCookies: configuration.cookieSecure, routes: catalog))

    HealthController(
        database: environment.database,
        migrations: dependencies.migrations,
        expectedMigrations: dependencies.expectedMigrations,
        registry: environment.registry
    ).addRoutes(to: routes)
    routes.get(SiteURL.root.route) { _, _ in Response.seeOther(SiteURL.admin) }
    let limits = SubmissionLimits(maxTextLength: configuration.maxTextLength)
    RespondentController(
        responses: dependencies.responses,
        forms: dependencies.forms,
        invitations: dependencies.invitations,
        visitCodes: dependencies.visitCodes,
        views: dependencies.views,
        limits: limits,
        publicAnswersPerHour: configuration.publicAnswersPerHour,
        trustForwardedFor: configuration.trustForwardedFor,
        secureCookies: configuration.cookieSecure
    ).addRoutes(to: routes)

    let sessionMiddleware = SessionMiddleware<AppRequestContext>(
        storage: dependencies.sessions,
        configuration: .init(
            sessionCookieParameters: .init(name: SessionCookie.name, path: SiteURL.adminPrefix, secure: configuration.cookieSecure, sameSite: .lax),
            keyPrefix: SessionCookie.keyPrefix,
            defaultSessionExpiration: .seconds(configuration.sessionLifetimeHours * 3600)
        )
    )
    let auth = AuthController(
        users: dependencies.users,
        audit: dependencies.audit,
        throttle: dependencies.throttle,
        hasher: environment.passwordHasher,
        sessions: dependencies.sessions,
        views: dependencies.views,
        trustForwardedFor: configuration.trustForwardedFor,
        sessionLifetime: .seconds(configuration.sessionLifetimeHours * 3600)
    )
    let admin = routes.group().add(middleware: sessionMiddleware)
    auth.addPublicRoutes(to: admin)
    let signedIn = admin.group().add(middleware: AuthenticationMiddleware(users: dependencies.users))
    auth.addRoutes(to: signedIn)
    let resultsRepository = ResultsRepository(database: environment.database, forms: dependencies.forms)
    AdminController(views: dependencies.views, rounds: dependencies.rounds, results: resultsRepository, sheets: dependencies.sheets)
        .addRoutes(to: signedIn)
    let adminsOnly = signedIn.group().add(middleware: RoleMiddleware([.admin]))
    FormsController(catalog: dependencies.catalog, views: dependencies.views, limits: limits).addRoutes(to: adminsOnly)
    OrganisationController(
        organisation: dependencies.organisation,
        performance: PerformanceRepository(database: environment.database),
        audit: dependencies.audit,
        views: dependencies.views
    )
    .addRoutes(to: adminsOnly)
    RoundsController(
        rounds: dependencies.rounds,
        invitations: dependencies.invitations,
        visitCodes: dependencies.visitCodes,
        sheets: dependencies.sheets,
        audit: dependencies.audit,
        views: dependencies.views,
        publicBaseURL: configuration.publicBaseURL
    ).addRoutes(to: adminsOnly)
    let results = ResultsController(results: resultsRepository, rounds: dependencies.rounds, views: dependencies.views)
    BranchHistoryController(database: environment.database, results: resultsRepository, views: dependencies.views).addRoutes(to: adminsOnly)
    let tokens = APITokenRepository(database: environment.database)
    let api = APIController(rounds: dependencies.rounds, results: resultsRepository)
    let apiRoutes = routes.group()
    api.addPublicRoutes(to: apiRoutes)
    api.addRoutes(to: apiRoutes.group().add(middleware: APITokenMiddleware(tokens: tokens)))
    api.addWriteRoutes(to: apiRoutes.group().add(middleware: APITokenMiddleware(tokens: tokens, needs: .write)))
    APITokensController(tokens: tokens, audit: dependencies.audit, views: dependencies.views).addRoutes(to: adminsOnly)
    AccountsController(
        users: dependencies.users,
        organisation: dependencies.organisation,
        hasher: environment.passwordHasher,
        sessions: dependencies.sessions,
        audit: dependencies.audit,
        views: dependencies.views,
        publicBaseURL: configuration.publicBaseURL
    ).addRoutes(to: adminsOnly)
    results.addRoutes(to: adminsOnly)
    results.addReportRoutes(to: signedIn.group().add(middleware: RoleMiddleware([.admin, .viewer])))
    SheetsController(sheets: dependencies.sheets, forms: dependencies.forms, rounds: dependencies.rounds, views: dependencies.views, limits: limits)
        .addRoutes(to: signedIn.group().add(middleware: RoleMiddleware([.evaluator])))
    return router
}
