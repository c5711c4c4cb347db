import Foundation
import Hummingbird
import HummingbirdAuth
import KaopingForms
import Logging
import Prometheus
import ServiceLifecycle

/// Names of the admin session cookie and of its rows in the session store.
public enum SessionCookie {
    public static let keyPrefix = "session."
}

/// Everything `buildApplication` needs that is made outside it: the resolved configuration and
/// a database that is reachable (the embedded cluster, if any, is already running).
public struct ApplicationEnvironment: Sendable {
    public var configuration: KaopingConfiguration
    public var database: Database
    /// A streaming standby's pool the results are read from (`--read-database-url`).
    public var readDatabase: Database?
    public var registry: PrometheusCollectorRegistry
    public var logger: Logger
    /// The embedded cluster in use, if any: supervised while the server runs.
    public var embeddedCluster: EmbeddedPostgres?
    /// Whether this process started `embeddedCluster`, and so stops it after everything else.
    public var embeddedClusterStartedHere = false
    public var passwordHasher: PasswordHasher
    /// Runs once the server listens, with its port and services (the CLI prints the address and
    /// first steps, and seeds the demo).
    public var onServerRunning: @Sendable (Int, KaopingServices) async -> Void
    /// Runs once the metrics listener (`--metrics-address`) listens, with its port.
    public var onMetricsRunning: @Sendable (Int) async -> Void = { _ in }
    /// How often due rounds are opened and closed.
    public var schedulerInterval: Duration = .seconds(1)
    /// Shortest time between two mixes of one round's ballot box.
    public var mixPace: Duration = .seconds(30)
    /// The secret invitation tokens and the ballot key are derived from (see `InvitationTokens`
    /// and `BallotSeal`).
    public var invitationSecret: [UInt8] = []
    /// Every route the router registers, written here as it is built.
    public var routes = RouteCatalog()

    public init(
        configuration: KaopingConfiguration,
        database: Database,
        registry: PrometheusCollectorRegistry,
        logger: Logger,
        embeddedCluster: EmbeddedPostgres? = nil,
        passwordHasher: PasswordHasher = PasswordHasher(),
        onServerRunning: @escaping @Sendable (Int, KaopingServices) async -> Void = { _, _ in }
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
    // A broken form file stops start-up here, naming the file and line.
    let catalog = try FormCatalog(directory: environment.configuration.formsDirectory)
    // So does a broken interface text file, naming the file, line and key.
    try TextCatalogue.check()
    let services = KaopingServices.make(
        database: environment.database,
        readDatabase: environment.readDatabase,
        catalog: catalog,
        invitationSecret: environment.invitationSecret,
        mixPace: environment.mixPace,
        passwordHasher: environment.passwordHasher,
        logger: environment.logger
    )
    return try await buildApplication(environment, services: services)
}

/// The application over services made already: the tests hold the same instance the server
/// uses, to look into what it has stored or cached.
public func buildApplication(_ environment: ApplicationEnvironment, services office: KaopingServices) async throws -> some ApplicationProtocol {
    let configuration = environment.configuration
    let logger = environment.logger
    let database = environment.database
    let migrator = try Migrator(directory: configuration.sqlDirectory)
    let migrations = MigrationGate()
    let views = try await Views()
    let router = try buildRouter(
        environment: environment,
        dependencies: .init(
            services: office,
            views: views,
            migrations: migrations,
            expectedMigrations: Set(migrator.migrations.map(\.version))
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
    if let reads = environment.readDatabase { services.append(reads.client) }
    services.append(SessionCleanupService(sessions: office.sessions, throttle: office.loginThrottle, migrations: migrations, logger: logger))
    services.append(
        RoundSchedulerService(
            rounds: office.rounds,
            publicity: office.publicity,
            ballots: office.ballots,
            appraisals: office.appraisals,
            migrations: migrations,
            interval: environment.schedulerInterval,
            logger: logger
        )
    )
    services.append(ResultsWarmingService(results: office.results, migrations: migrations, logger: logger))
    if let address = configuration.metricsAddress {
        services.append(
            MetricsListener(address: address, registry: environment.registry, logger: logger, onRunning: environment.onMetricsRunning)
        )
    }

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
            await environment.onServerRunning(channel.localAddress?.port ?? configuration.port, office)
        },
        logger: logger
    )
    app.beforeServerStarts {
        try await migrator.migrate(database: database, logger: logger)
        // Every form as it is now gets a frozen version that rounds can refer to.
        try await office.freezeForms()
        migrations.open()
    }
    return app
}

/// What the routes need, made once by `buildApplication`.
public struct RouterDependencies: Sendable {
    public var services: KaopingServices
    public var views: Views
    public var migrations: MigrationGate
    public var expectedMigrations: Set<Int>
}

public func buildRouter(environment: ApplicationEnvironment, dependencies: RouterDependencies) throws -> Router<AppRequestContext> {
    let configuration = environment.configuration
    let office = dependencies.services
    let router = Router(context: AppRequestContext.self)
    let catalog = environment.routes
    let routes = CatalogingRouter(router: router, catalog: catalog)

    // Outermost first: metrics see the final status, the log line carries it, every response
    // gets the security headers, errors become pages in the person's language.
    router.add(middleware: RequestMetricsMiddleware(registry: environment.registry))
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: SecurityHeadersMiddleware())
    let cookies = CookiePolicy(secure: configuration.cookieSecure)
    router.add(middleware: LanguageMiddleware(cookies: cookies))
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
    router.add(middleware: CSRFMiddleware(cookies: cookies, routes: catalog, secret: environment.invitationSecret))

    HealthController(
        database: environment.database,
        migrations: dependencies.migrations,
        expectedMigrations: dependencies.expectedMigrations
    ).addRoutes(to: routes)
    routes.get(SiteURL.root.route) { _, _ in Response.seeOther(SiteURL.admin) }
    let limits = SubmissionLimits(maxTextLength: configuration.maxTextLength)
    RespondentController(
        responses: office.responses,
        forms: office.forms,
        invitations: office.invitations,
        visitCodes: office.visitCodes,
        appraisalLinks: office.appraisals.repository,
        views: dependencies.views,
        limits: limits,
        publicAnswersPerHour: configuration.publicAnswersPerHour,
        trustForwardedFor: configuration.trustForwardedFor,
        cookies: cookies
    ).addRoutes(to: routes)
    AppraisalVoterController(services: office, views: dependencies.views, limits: limits).addRoutes(to: routes)
    let publicityPages = PublicityPageController(
        services: office,
        views: dependencies.views,
        cookies: cookies,
        trustForwardedFor: configuration.trustForwardedFor,
        publicBaseURL: configuration.publicBaseURL
    )
    publicityPages.addRoutes(to: routes)

    let sessionMiddleware = SessionMiddleware<AppRequestContext>(
        storage: office.sessions,
        configuration: .init(
            sessionCookieParameters: .init(name: cookies.session, path: cookies.sessionPath, secure: cookies.secure, sameSite: .lax),
            keyPrefix: SessionCookie.keyPrefix,
            defaultSessionExpiration: .seconds(configuration.sessionLifetimeHours * 3600)
        )
    )
    let auth = AuthController(
        users: office.users,
        audit: office.audit,
        throttle: office.loginThrottle,
        hasher: environment.passwordHasher,
        sessions: office.sessions,
        views: dependencies.views,
        trustForwardedFor: configuration.trustForwardedFor,
        sessionLifetime: .seconds(configuration.sessionLifetimeHours * 3600),
        sessionCookie: cookies.session,
        accounts: office.accounts
    )
    let admin = routes.group().add(middleware: sessionMiddleware)
    auth.addPublicRoutes(to: admin)
    let signedIn = admin.group().add(middleware: AuthenticationMiddleware(users: office.users))
    auth.addRoutes(to: signedIn)
    AdminController(
        views: dependencies.views,
        rounds: office.roundRepository,
        organisation: office.organisation,
        sheets: office.sheets,
        appraisals: office.appraisals.repository
    )
    .addRoutes(to: signedIn)
    let adminsOnly = signedIn.group().add(middleware: RoleMiddleware([.admin]))
    FormsController(catalog: office.catalog, views: dependencies.views, limits: limits).addRoutes(to: adminsOnly)
    OrganisationController(services: office, views: dependencies.views).addRoutes(to: adminsOnly)
    ImportsController(services: office, views: dependencies.views)
        .addRoutes(to: adminsOnly)
    RoundsController(services: office, views: dependencies.views, publicBaseURL: configuration.publicBaseURL).addRoutes(to: adminsOnly)
    RoundCorrectionsController(services: office, views: dependencies.views).addRoutes(to: adminsOnly)
    RoundHandoutController(services: office, views: dependencies.views, publicBaseURL: configuration.publicBaseURL).addRoutes(to: adminsOnly)
    PublicityController(services: office, views: dependencies.views, publicBaseURL: configuration.publicBaseURL).addRoutes(to: adminsOnly)
    AppraisalsController(services: office, views: dependencies.views, publicBaseURL: configuration.publicBaseURL).addRoutes(to: adminsOnly)
    let committee = AppraisalCommitteeController(services: office, views: dependencies.views)
    committee.addDecisionRoutes(to: adminsOnly)
    // A branch's appraisal page: its secretary proposes, administrators read and decide.
    committee.addRoutes(
        to: signedIn.group()
            .add(middleware: RoleMiddleware([.admin, .viewer]))
            .add(middleware: BranchAccessMiddleware(results: office.results))
    )
    let branchHistory = BranchHistoryController(services: office, views: dependencies.views)
    branchHistory.addRoutes(to: adminsOnly)
    let api = APIController(services: office)
    let apiRoutes = routes.group()
    api.addPublicRoutes(to: apiRoutes)
    let tokenThrottle = APITokenThrottle(database: environment.database, registry: environment.registry)
    let reading = APITokenMiddleware(tokens: office.apiTokens, throttle: tokenThrottle, trustForwardedFor: configuration.trustForwardedFor)
    let writing = APITokenMiddleware(
        tokens: office.apiTokens,
        throttle: tokenThrottle,
        trustForwardedFor: configuration.trustForwardedFor,
        needs: .write
    )
    api.addRoutes(to: apiRoutes.group().add(middleware: reading))
    api.addRoundRoutes(to: apiRoutes.group().add(middleware: reading).add(middleware: RoundResolverMiddleware(results: office.results)))
    api.addWriteRoutes(to: apiRoutes.group().add(middleware: writing))
    let appraising = APITokenMiddleware(
        tokens: office.apiTokens,
        throttle: tokenThrottle,
        trustForwardedFor: configuration.trustForwardedFor,
        needs: .appraisals
    )
    api.addAppraisalRoutes(to: apiRoutes.group().add(middleware: appraising))
    APITokensController(tokens: office.tokens, views: dependencies.views).addRoutes(to: adminsOnly)
    AccountsController(services: office, views: dependencies.views, publicBaseURL: configuration.publicBaseURL).addRoutes(to: adminsOnly)
    // Results pages load their round once, in the middleware; a branch's report is also open
    // to that branch's secretary.
    let roundResults = adminsOnly.group().add(middleware: RoundResolverMiddleware(results: office.results))
    RankingController(services: office, views: dependencies.views).addRoutes(to: roundResults)
    IntegrationController(services: office, views: dependencies.views).addRoutes(to: roundResults)
    ResultsDownloadsController(services: office, publicBaseURL: configuration.publicBaseURL).addRoutes(to: roundResults)
    BranchReportController(services: office, views: dependencies.views).addRoutes(
        to: signedIn.group()
            .add(middleware: RoleMiddleware([.admin, .viewer]))
            .add(middleware: BranchAccessMiddleware(results: office.results))
            .add(middleware: RoundResolverMiddleware(results: office.results))
    )
    // A branch's record too, to the same readers.
    branchHistory.addReadingRoutes(
        to: signedIn.group()
            .add(middleware: RoleMiddleware([.admin, .viewer]))
            .add(middleware: BranchAccessMiddleware(results: office.results))
    )
    // A secretary objects to the published results of their own branch from its report.
    publicityPages.addSecretaryRoutes(
        to: signedIn.group()
            .add(middleware: RoleMiddleware([.viewer]))
            .add(middleware: BranchAccessMiddleware(results: office.results))
    )
    SheetsController(services: office, views: dependencies.views, limits: limits)
        .addRoutes(to: signedIn.group().add(middleware: RoleMiddleware([.evaluator])))
    return router
}
