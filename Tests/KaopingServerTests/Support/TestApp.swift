import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Prometheus
import Testing

@testable import KaopingServer

/// What a test gets besides the HTTP client: the database behind the app, for checking what
/// really landed there.
struct TestHarness: Sendable {
    let database: Database
    let url: DatabaseURL
    let configuration: KaopingConfiguration
    /// The server's own services: what a test reads or caches here, the server reads too.
    let services: KaopingServices
    /// Every route the server registered.
    let routes: RouteCatalog
    /// Where the server's metrics listener listens, once it does.
    let metricsPort = MetricsPort()

    init(database: Database, url: DatabaseURL, configuration: KaopingConfiguration, services: KaopingServices, routes: RouteCatalog = RouteCatalog())
    {
        self.database = database
        self.url = url
        self.configuration = configuration
        self.services = services
        self.routes = routes
    }

    /// Over a database with services of its own, for a test that runs a server of its own.
    init(database: Database, url: DatabaseURL, configuration: KaopingConfiguration) throws {
        let catalog = try FormCatalog(directory: configuration.formsDirectory)
        let services = KaopingServices.make(
            database: database,
            catalog: catalog,
            invitationSecret: TestApp.invitationSecret,
            passwordHasher: TestApp.hasher,
            logger: TestApp.logger
        )
        self.init(database: database, url: url, configuration: configuration, services: services)
    }

    /// Creates an account directly in the database (bcrypt cost 4: fast, still real bcrypt).
    @discardableResult
    func createUser(_ username: String, password: String, role: UserRole = .admin) async throws -> User {
        let hash = try await TestApp.hasher.hash(password)
        return try await UserRepository(database: database).create(
            username: username,
            displayName: "",
            role: role,
            branchCode: nil,
            passwordHash: hash
        )
    }

    /// A round that is open now, with one branch taking part and the given group answering
    /// the given form (frozen at start-up), created the way the rounds feature will.
    func openRound(
        group: String = "members",
        form: String = "member-integration",
        status: String = "open"
    ) async throws -> (round: UUID, branch: UUID) {
        let branch = try await database.query(
            "INSERT INTO branches (code, name) VALUES (\(UUID().uuidString.prefix(8).lowercased()), '机关第一党支部') RETURNING id"
        ).first!.decode(UUID.self)
        let round = try await database.query(
            "INSERT INTO rounds (title, year, status, opens_at) VALUES ('2026 年度党支部考评', 2026, \(status), now()) RETURNING id"
        ).first!.decode(UUID.self)
        try await database.query(
            """
            INSERT INTO round_groups (round_id, rater_group, form_version_id, form_key, weight)
            SELECT \(round), \(group), id, form_key, 0.3 FROM form_versions WHERE form_key = \(form) ORDER BY created_at DESC LIMIT 1
            """
        )
        try await database.query(
            "INSERT INTO round_branches (round_id, branch_id, eligible_members, public_code) VALUES (\(round), \(branch), 10, \(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()))"
        )
        return (round, branch)
    }

    /// Gives `count` new members of the branch an invitation to the round; returns their link paths.
    func memberLinks(round: UUID, branch: UUID, count: Int = 1) async throws -> [String] {
        try await database.query(
            """
            INSERT INTO members (staff_number, name, branch_id)
            SELECT 'm' || substr(md5(random()::text), 1, 12), '党员' || g, \(branch) FROM generate_series(1, \(count)) g
            """
        )
        let invitations = InvitationRepository(database: database, tokens: InvitationTokens(secret: TestApp.invitationSecret))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        _ = try await TestApp.handouts(database).issueInvitations(round: round, actor: .commandLine, logger: logger)
        return try await invitations.links(roundID: round).filter { !$0.used }.map { "/s/\($0.token)" }
    }

    /// The path of the branch's public link in the round.
    func publicLink(round: UUID, branch: UUID) async throws -> String {
        let code = try await database.query(
            "SELECT public_code FROM round_branches WHERE round_id = \(round) AND branch_id = \(branch)"
        ).first!.decode(String.self)
        return "/p/\(code)"
    }

    /// Moves the round's waiting ballots into the responses, as the mixer does once k are waiting.
    @discardableResult
    func mixBallots(round: UUID) async throws -> Int {
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        let logger = quiet
        return try await database.transaction(logger: logger) { connection in
            try await BallotBox.flush(roundID: round, seal: TestApp.ballotSeal, connection: connection, logger: logger)
        }
    }

    /// The rounds as the server keeps them, with the forms in `forms/` and the test secret.
    func roundRepository() throws -> RoundRepository {
        let catalog = try FormCatalog(directory: TestDatabaseServer.repositoryRoot + "/forms")
        return RoundRepository(database: database, forms: catalog, frozenForms: FormRepository(database: database), seal: TestApp.ballotSeal)
    }

    /// Opens every connection of the server's pool, which opens them only as they are needed:
    /// otherwise the first requests of a burst run one by one on the first connection while the
    /// others are still being opened, and a race between them never gets its chance.
    func openEveryPooledConnection() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<database.poolSize {
                group.addTask { try await database.query("SELECT pg_sleep(0.2)") }
            }
            try await group.waitForAll()
        }
    }

    /// Issues an API token as an administrator would, returning its id and the token.
    func issueToken(_ name: String, scope: APIScope = .read) async throws -> (id: UUID, token: String) {
        try #require(try await services.tokens.issue(name: name, scope: scope, actor: .commandLine, logger: TestApp.logger))
    }

    func count(_ sql: String) async throws -> Int {
        try await database.query(PostgresQuery(unsafeSQL: sql)).first!.decode(Int.self)
    }
}

enum TestApp {
    static let hasher = PasswordHasher(cost: 4)
    static let invitationSecret: [UInt8] = Array("a test secret that is 32 bytes!!".utf8)
    static let ballotSeal = BallotSeal(secret: invitationSecret)

    /// Invitations and visit codes handed out as the round page hands them out.
    static func handouts(_ database: Database) -> HandoutService {
        let tokens = InvitationTokens(secret: invitationSecret)
        return HandoutService(
            database: database,
            invitations: InvitationRepository(database: database, tokens: tokens),
            visitCodes: VisitCodeRepository(database: database, tokens: tokens)
        )
    }

    static func configuration(for url: DatabaseURL) -> KaopingConfiguration {
        var configuration = KaopingConfiguration(port: 0, databaseURL: url)
        configuration.sqlDirectory = TestDatabaseServer.sqlDirectory
        configuration.formsDirectory = TestDatabaseServer.repositoryRoot + "/forms"
        // A test's client keeps one connection for all its requests, and a test that builds a
        // large round between two of them can pause past the server's 30 s idle limit on a busy
        // machine; the idle limit has a test of its own (RobustnessTests).
        configuration.idleTimeoutSeconds = 600
        // Any free port, which the harness learns once the listener runs (`harness.metrics()`).
        configuration.metricsAddress = ListenAddress(host: "127.0.0.1", port: 0)
        return configuration
    }

    static var logger: Logger {
        var logger = Logger(label: "kaoping.test-app")
        logger.logLevel = ProcessInfo.processInfo.environment["KAOPING_TEST_LOG"] == nil ? .critical : .debug
        return logger
    }

    /// Runs `test` against a live server (real HTTP on a free port) on its own fresh database.
    static func run(
        database urlGiven: DatabaseURL? = nil,
        configure: (inout KaopingConfiguration) -> Void = { _ in },
        configureEnvironment: (inout ApplicationEnvironment) -> Void = { _ in },
        _ test: @escaping @Sendable (any TestClientProtocol, TestHarness) async throws -> Void
    ) async throws {
        let ownDatabase = urlGiven == nil
        let url: DatabaseURL
        if let given = urlGiven {
            url = given
        } else {
            url = try await TestDatabaseServer.shared.makeMigratedDatabase()
        }
        var configuration = configuration(for: url)
        configure(&configuration)
        let registry = PrometheusCollectorRegistry()
        let database = Database(url: url, poolSize: 4, registry: registry, logger: logger)
        var environment = ApplicationEnvironment(
            configuration: configuration,
            database: database,
            registry: registry,
            logger: logger,
            passwordHasher: hasher
        )
        environment.invitationSecret = TestApp.invitationSecret
        configureEnvironment(&environment)
        let catalog = try FormCatalog(directory: configuration.formsDirectory)
        let services = KaopingServices.make(
            database: database,
            readDatabase: environment.readDatabase,
            catalog: catalog,
            invitationSecret: environment.invitationSecret,
            mixPace: environment.mixPace,
            passwordHasher: environment.passwordHasher,
            logger: logger
        )
        let harness = TestHarness(database: database, url: url, configuration: configuration, services: services, routes: environment.routes)
        let metricsRunning = environment.onMetricsRunning
        environment.onMetricsRunning = { [metricsPort = harness.metricsPort] port in
            metricsPort.set(port)
            await metricsRunning(port)
        }
        do {
            let app = try await buildApplication(environment, services: services)
            try await app.test(.live) { client in try await test(client, harness) }
        } catch {
            if ownDatabase { await TestDatabaseServer.shared.drop(url) }
            throw error
        }
        if ownDatabase { await TestDatabaseServer.shared.drop(url) }
    }
}

/// A test client that behaves like a browser: keeps cookies, sends the CSRF token with forms.
struct Browser {
    /// The test's shared client, or a connection of this browser's own.
    enum Connection {
        case shared(any TestClientProtocol)
        case own(TestClient)
    }
    let connection: Connection
    var cookies: [String: String] = [:]
    var acceptLanguage: String?
    /// The CSRF token of the last page seen, and the cookies it was given for: a token is bound
    /// to the session (or, before sign-in, to the browser's cookie), so new cookies void it.
    var pageToken: (token: String, cookies: String)?

    init(_ client: any TestClientProtocol) {
        self.connection = .shared(client)
    }

    /// A browser on a connection of its own (`onOwnConnection`).
    init(_ connection: TestClient) {
        self.connection = .own(connection)
    }

    static let cookieNames = CookiePolicy(secure: false)

    /// The token a form on the last page carried, while it still holds for this browser.
    var csrfToken: String? {
        guard let pageToken, pageToken.cookies == tokenCookies else { return nil }
        return pageToken.token
    }

    private var tokenCookies: String {
        "\(cookies[Self.cookieNames.session] ?? "")|\(cookies[Self.cookieNames.csrf] ?? "")"
    }

    /// The token for the next post, from a page of the admin area if none is at hand: the one
    /// a person's browser would have on the form they fill.
    mutating func currentCSRFToken() async throws -> String {
        if let csrfToken { return csrfToken }
        let page = try await get(cookies[Self.cookieNames.session] == nil ? "/admin/login" : "/admin/password")
        // A session that has ended sends the browser to sign in again: that page has the form.
        if csrfToken == nil, let location = page.headers[.location] { _ = try await get(location) }
        return csrfToken ?? ""
    }

    mutating func get(_ path: String, headers: HTTPFields = [:]) async throws -> Reply {
        try await send(path, method: .get, headers: headers, body: nil)
    }

    /// Posts a form; the CSRF token of the current page is added unless `csrf` says otherwise.
    mutating func post(_ path: String, form: [(String, String)], csrf: String?? = .none) async throws -> Reply {
        var fields = form
        switch csrf {
        case .none:
            fields.append((CSRFMiddleware.fieldName, try await currentCSRFToken()))
        case .some(.some(let token)):
            fields.append((CSRFMiddleware.fieldName, token))
        case .some(.none):
            break
        }
        let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try await send(
            path,
            method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: body)
        )
    }

    mutating func send(_ path: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer?) async throws -> Reply {
        var headers = headers
        if !cookies.isEmpty {
            headers[.cookie] = cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        }
        if let acceptLanguage { headers[.acceptLanguage] = acceptLanguage }
        let response: Reply
        switch connection {
        case .shared(let client):
            let reply = try await client.execute(uri: path, method: method, headers: headers, body: body)
            response = Reply(status: reply.status, headers: reply.headers, body: reply.body)
        case .own(let client):
            headers[.connection] = "keep-alive"
            let reply = try await client.execute(.init(path, method: method, authority: "localhost", headers: headers, body: body))
            response = Reply(status: reply.status, headers: reply.headers, body: reply.body ?? ByteBuffer())
        }
        // Every link and form of every page the tests see leads somewhere: a name a template
        // uses but its page model lacks renders as nothing.
        if response.headers[.contentType]?.hasPrefix("text/html") == true {
            let html = String(buffer: response.body)
            #expect(!html.contains("href=\"\"") && !html.contains("action=\"\"") && !html.contains("src=\"\""), "an empty link on \(path)")
        }
        for header in response.headers[values: .setCookie] {
            let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let pair = parts.first, let equals = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<equals])
            let value = String(pair[pair.index(after: equals)...])
            let expired =
                parts.contains { $0.lowercased() == "max-age=0" }
                || parts.contains { $0.lowercased().hasPrefix("expires=") && Self.isPast(String($0.dropFirst(8))) }
            if expired || value.isEmpty { cookies.removeValue(forKey: name) } else { cookies[name] = value }
        }
        if response.headers[.contentType]?.hasPrefix("text/html") == true,
            let match = String(buffer: response.body).firstMatch(of: /name="_csrf" value="([0-9a-f]{64})"/)
        {
            pageToken = (String(match.1), tokenCookies)
        }
        return response
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    static func isPast(_ httpDate: String) -> Bool {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: httpDate) else { return false }
        return date < Date.now
    }
}
