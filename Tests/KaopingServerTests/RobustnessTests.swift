import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import Testing

@testable import KaopingServer

/// What an attacker or a bad network can send must never crash the server, hold it, or guess
/// past its limits; and what it logs must not hand out anyone's ballot.
@Suite("Robustness", .timeLimit(.minutes(3)))
struct RobustnessTests {
    struct Corpus: Decodable {
        struct Case: Decodable {
            let name: String
            let contentType: String
            let body: String?
            let bodyBase64: String?
            /// "api": a JSON document for the JSON API only; form routes get the other cases.
            let only: String?

            var bytes: [UInt8] { bodyBase64.flatMap { Data(base64Encoded: $0) }.map(Array.init) ?? Array((body ?? "").utf8) }
        }
        let cases: [Case]
    }

    static func corpus() throws -> Corpus {
        let url = URL(fileURLWithPath: TestDatabaseServer.repositoryRoot + "/Tests/KaopingServerTests/Fuzz/bodies.json")
        return try JSONDecoder().decode(Corpus.self, from: Data(contentsOf: url))
    }

    /// A small, seeded generator, so that a failure names a case that can be replayed.
    struct SeededRandom: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Flips, cuts, repeats and splices bytes of a corpus body.
    static func mutate(_ bytes: [UInt8], _ random: inout SeededRandom) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            switch Int.random(in: 0..<5, using: &random) {
            case 0 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            case 1 where !bytes.isEmpty:
                bytes.removeLast(Int.random(in: 0...bytes.count, using: &random))
            case 2 where !bytes.isEmpty:
                let start = Int.random(in: 0..<bytes.count, using: &random)
                bytes.insert(contentsOf: bytes[start...].prefix(64), at: start)
            case 3:
                let special: [[UInt8]] = [
                    [0], Array("%".utf8), Array("&".utf8), Array("=".utf8), Array("\r\n".utf8), Array("--".utf8), [0xFF], [0xC3], Array("%00".utf8),
                ]
                let insert = special[Int.random(in: 0..<special.count, using: &random)]
                bytes.insert(contentsOf: insert, at: Int.random(in: 0...bytes.count, using: &random))
            default:
                bytes.append(contentsOf: (0..<Int.random(in: 1...32, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
            }
        }
        return bytes
    }

    /// A POST route the fuzz reaches as someone allowed to use it, so that the bodies get past
    /// the sign-in, CSRF and token checks and into the route's own parsers.
    struct Route {
        enum Sender {
            /// One of the test's browsers (a respondent, the administrator, the evaluator).
            case browser(Int)
            /// The JSON API, with a token that may write.
            case api
        }
        let name: String
        /// Respondent links are used up by an accepted answer: the next unused one takes over,
        /// so that refused bodies keep meeting a link that a stray write could still burn.
        let paths: [String]
        let sender: Sender
        /// Bodies that this route accepts, or refuses by its own rules, sent before the corpus.
        let seeds: [(name: String, contentType: String, body: String)]
        /// Statuses only the route's own handler gives: at least one of each must come back.
        let handlerStatuses: Set<Int>
        /// What a refusal may still record: a failed sign-in is audited.
        var recordedOnRefusal: Set<String> = []
        /// False where the handler reads no body: its seeds and their mutations suffice.
        var corpus = true

        var isAPI: Bool {
            if case .api = sender { return true }
            return false
        }
    }

    /// The routes in two halves, fuzzed side by side, each on a server of its own.
    enum Part: String, CaseIterable, CustomTestStringConvertible {
        case respondentsAndAPI = "respondent forms, short codes and the JSON API"
        case adminArea = "the admin area"
        var testDescription: String { rawValue }
    }

    /// What a request can have stored, read in one statement (one snapshot). Ballots waiting
    /// and ballots mixed are counted together: the mixer may move them at any time.
    static let stores: [(name: String, sql: String)] = [
        ("ballots", "(SELECT count(*) FROM ballot_box) + (SELECT count(*) FROM responses)"),
        ("submission keys", "SELECT count(*) FROM submission_keys"),
        ("invitations used", "SELECT count(*) FROM invitations WHERE used"),
        ("visit codes used", "SELECT count(*) FROM visit_codes WHERE used"),
        ("sheets", "SELECT count(*) FROM org_sheets"),
        ("sheet contents", "SELECT md5(coalesce(string_agg(s::text, '|' ORDER BY s.id), '')) FROM org_sheets s"),
        ("sheet items", "SELECT count(*) FROM org_sheet_entries"),
        ("sheet item contents", "SELECT md5(coalesce(string_agg(e::text, '|' ORDER BY e.sheet_id, e.item_key), '')) FROM org_sheet_entries e"),
        ("performance loads", "SELECT count(*) FROM performance_loads"),
        ("performance results", "SELECT count(*) FROM performance_results"),
        ("users", "SELECT count(*) FROM users"),
        ("user contents", "SELECT md5(coalesce(string_agg(u::text, '|' ORDER BY u.id), '')) FROM users u"),
        ("sessions", "SELECT count(*) FROM sessions"),
        ("audit entries", "SELECT count(*) FROM audit_log"),
        ("branches", "SELECT count(*) FROM branches"),
        ("members", "SELECT count(*) FROM members"),
        ("units", "SELECT count(*) FROM units"),
        ("rounds", "SELECT count(*) FROM rounds"),
        ("organisation imports", "SELECT count(*) FROM org_imports"),
        ("evaluator assignments", "SELECT count(*) FROM evaluator_assignments"),
        ("api tokens", "SELECT count(*) FROM api_tokens"),
    ]

    static func stored(_ harness: TestHarness) async throws -> [String: String] {
        let sql = stores.map { "SELECT '\($0.name)', (\($0.sql))::text" }.joined(separator: " UNION ALL ")
        let rows = try await harness.database.query(PostgresQuery(unsafeSQL: sql))
        return Dictionary(uniqueKeysWithValues: try rows.map { try $0.decode((String, String).self) })
    }

    /// Every scored question of a form answered with its first option, under the form's names.
    static func answers(_ formKey: String) throws -> [String] {
        let form = try #require(try FormCatalog(directory: TestDatabaseServer.repositoryRoot + "/forms").form(formKey))
        return form.items.filter(\.isScored).compactMap { item in item.options.first.map { "q.\(item.key)=\($0.key)" } }
    }

    @Test(arguments: Part.allCases)
    func malformedBodiesNeverGiveA5xxStoreNothingWhenRefusedAndTheServerLives(_ part: Part) async throws {
        let corpus = try Self.corpus()
        try await TestApp.run { client, harness in
            var quiet = Logger(label: "test")
            quiet.logLevel = .critical
            let logger = quiet
            let admin = try await harness.createUser("fuzz.admin", password: "a password for fuzzing")
            let evaluator = try await harness.createUser("fuzz.evaluator", password: "a password for scoring", role: .evaluator)
            try await harness.database.query("INSERT INTO branches (code, name) VALUES ('b01', '办公室党支部'), ('b02', '服务窗口党支部')")
            try await harness.database.query(
                "INSERT INTO units (code, name, branch_id, headcount) SELECT v.code, v.name, b.id, v.headcount FROM (VALUES ('u01', '办公室', 'b01', 12), ('u02', '窗口科', 'b02', 7)) v(code, name, branch, headcount) JOIN branches b ON b.code = v.branch"
            )
            let rounds = try harness.roundRepository()
            let round = try await rounds.create(
                RoundSpec(title: "模糊测试轮次", year: 2026, closesAt: .now + 7 * 86400),
                actor: .commandLine,
                logger: logger
            )
            try await rounds.open(round, actor: .commandLine, logger: logger)
            let b01 = try await harness.database.query("SELECT id FROM branches WHERE code = 'b01'").first!.decode(UUID.self)
            try await harness.database.query(
                "INSERT INTO evaluator_assignments (round_id, branch_id, user_id) VALUES (\(round), \(b01), \(evaluator.id))"
            )
            let invitations = try await harness.memberLinks(round: round, branch: b01, count: 12)
            let invitationRepository = InvitationRepository(database: harness.database, tokens: InvitationTokens(secret: TestApp.invitationSecret))
            // Issued invitations carry their short codes, as printed on the slips.
            let shortCode = try #require(
                try await invitationRepository.links(roundID: round).first { invitations.last == "/s/\($0.token)" }?.shortCode
            )
            let publicLink = try await harness.publicLink(round: round, branch: b01)
            // The window of b02 takes visit codes only.
            let handouts = TestApp.handouts(harness.database)
            _ = try await handouts.setPublicAccess(round: round, branchCodes: ["b02"], access: .codes, actor: .commandLine, logger: logger)
            let visits = try await handouts.issueVisitCodes(round: round, branchCodes: ["b02"], count: 12, actor: .commandLine, logger: logger)
                .map { "/v/\($0.code)" }
            let (_, writeToken) = try await harness.issueToken("绩效系统", scope: .write)

            var respondent = Browser(client)
            _ = try await respondent.get("/s")
            var administrator = Browser(client)
            _ = try await administrator.post("/admin/login", form: [("username", "fuzz.admin"), ("password", "a password for fuzzing")])
            #expect(try await administrator.get("/admin/accounts").status == .ok)
            var scorer = Browser(client)
            _ = try await scorer.post("/admin/login", form: [("username", "fuzz.evaluator"), ("password", "a password for scoring")])
            #expect(try await scorer.get("/admin/sheets").status == .ok)
            var browsers = [respondent, administrator, scorer]

            let form = "application/x-www-form-urlencoded"
            let json = "application/json"
            let key = { (n: Int) in String(format: "%032lx", 0xF022 + n) }
            let memberAnswers = try Self.answers("member-integration").joined(separator: "&") + "&q.works_well=" + Browser.encode("学习与业务结合得好")
            let publicAnswers = try Self.answers("public-satisfaction")
            let sheet = "/admin/sheets/\(round.uuidString.lowercased())/b01"
            let fullSheet =
                "q.org_life=3.5&q.study=4&q.discipline=0&q.integration=2&q.member_management=1&q.org_life_held=pass&q.no_violations=pass&q.dues_collected=pass&q.awards=2.5&note.awards=\(Browser.encode("获市级表彰"))&q.remark=\(Browser.encode("全年工作扎实"))"
            let ownAccount = "/admin/accounts/\(admin.id.uuidString.lowercased())"
            let respondentRoutes = [
                Route(
                    name: "sign-in",
                    paths: ["/admin/login"],
                    sender: .browser(0),
                    seeds: [],
                    handlerStatuses: [422],
                    recordedOnRefusal: ["audit entries"]
                ),
                Route(
                    name: "invitation",
                    paths: invitations.dropLast().map { $0 },
                    sender: .browser(0),
                    seeds: [
                        ("member answers", form, memberAnswers + "&_key=\(key(1))"), ("member answers cut", form, "q.works_well=x&_key=\(key(2))"),
                    ],
                    handlerStatuses: [200, 422]
                ),
                Route(
                    name: "public link",
                    paths: [publicLink],
                    sender: .browser(0),
                    seeds: [
                        ("public answers", form, publicAnswers.joined(separator: "&") + "&_key=\(key(3))"),
                        ("public answers missing one", form, publicAnswers.dropFirst().joined(separator: "&") + "&_key=\(key(4))"),
                    ],
                    handlerStatuses: [200, 422]
                ),
                Route(
                    name: "visit code",
                    paths: visits,
                    sender: .browser(0),
                    seeds: [
                        ("visit answers", form, publicAnswers.joined(separator: "&") + "&_key=\(key(5))"),
                        ("visit answers missing one", form, publicAnswers.dropLast().joined(separator: "&") + "&_key=\(key(6))"),
                    ],
                    handlerStatuses: [200, 422]
                ),
                Route(
                    name: "short code",
                    paths: ["/s"],
                    sender: .browser(0),
                    seeds: [("a slip's code", form, "code=" + Browser.encode(shortCode.lowercased())), ("a wrong code", form, "code=AAAAA-BBBBB")],
                    handlerStatuses: [303, 422]
                ),
                Route(
                    name: "performance",
                    paths: ["/api/v1/performance"],
                    sender: .api,
                    seeds: [
                        (
                            "a year's results", json,
                            #"{"year": 2026, "source": "绩效办", "results": [{"unit": "u01", "score": 88.5, "grade": "良好", "indicators": {"目标完成率": 95}}, {"unit": "u02", "score": "71"}]}"#
                        ),
                        ("an unknown unit", json, #"{"year": 2026, "results": [{"unit": "u99", "score": 60}]}"#),
                        ("a unit twice", json, #"{"year": 2026, "results": [{"unit": "u01", "score": 60}, {"unit": "u01", "score": 61}]}"#),
                    ],
                    handlerStatuses: [201, 422]
                ),
            ]
            let adminRoutes = [
                Route(
                    name: "score sheet",
                    paths: [sheet],
                    sender: .browser(2),
                    // A draft with a value out of range is kept as typed; once submitted, the
                    // sheet takes only complete, valid changes.
                    seeds: [("a draft out of range", form, "q.org_life=40&_action=save"), ("a full sheet", form, fullSheet + "&_action=submit")],
                    handlerStatuses: [200, 303, 422]
                ),
                Route(
                    name: "new account",
                    paths: ["/admin/accounts"],
                    sender: .browser(1),
                    seeds: [
                        ("a viewer", form, "username=fuzz.viewer&displayName=\(Browser.encode("王芳"))&role=viewer&branch=b02"),
                        ("no such role", form, "username=fuzz.other&role=superuser"),
                    ],
                    handlerStatuses: [200, 422]
                ),
                Route(
                    name: "secretary accounts",
                    paths: ["/admin/accounts/secretaries"],
                    sender: .browser(1),
                    seeds: [("b01's secretary", form, "branch=b01&branch=b99")],
                    handlerStatuses: [200, 422]
                ),
                Route(
                    name: "disabling oneself",
                    paths: [ownAccount + "/disable"],
                    sender: .browser(1),
                    seeds: [("nothing", form, ""), ("stray fields", form, "active=false&id=\(UUID())")],
                    handlerStatuses: [409],
                    corpus: false
                ),
                Route(
                    name: "resetting one's own password",
                    paths: [ownAccount + "/reset-password"],
                    sender: .browser(1),
                    seeds: [("nothing", form, ""), ("a chosen password", form, "password=chosen+by+the+admin")],
                    handlerStatuses: [409],
                    corpus: false
                ),
                Route(name: "organisation import", paths: ["/admin/org/import"], sender: .browser(1), seeds: [], handlerStatuses: []),
                Route(name: "form preview", paths: ["/admin/forms/member-integration"], sender: .browser(1), seeds: [], handlerStatuses: []),
                Route(name: "new round", paths: ["/admin/rounds"], sender: .browser(1), seeds: [], handlerStatuses: []),
            ]

            var random = SeededRandom(state: part == .adminArea ? 20_261_203 : 20_261_130)
            var sent = 0
            var before = try await Self.stored(harness)
            for route in part == .adminArea ? adminRoutes : respondentRoutes {
                var statuses: Set<Int> = []
                var pathIndex = 0
                let isAPI = route.isAPI
                let cases =
                    route.seeds.map { (name: "seed: \($0.name)", contentType: $0.contentType, bytes: Array($0.body.utf8)) }
                    + (route.corpus ? corpus.cases : []).filter { $0.only == nil || ($0.only == "api") == isAPI }
                    .map { (name: $0.name, contentType: $0.contentType, bytes: $0.bytes) }
                for item in cases {
                    // (body, CSRF token in a header): a form without the token, then with it (in
                    // the body for a form, in a header otherwise, so that any body reaches the
                    // handler), then a mutation that carries it in a header.
                    var variants: [([UInt8], Bool)] = []
                    switch route.sender {
                    case .api:
                        variants = [(item.bytes, false), (Self.mutate(item.bytes, &random), false)]
                    case .browser(let index):
                        let csrf = try #require(browsers[index].csrfToken)
                        variants = [(item.bytes, false)]
                        if item.contentType.hasPrefix(form) {
                            variants.append((Array("_csrf=\(csrf)&".utf8) + item.bytes, false))
                        } else {
                            variants.append((item.bytes, true))
                        }
                        variants.append((Self.mutate(variants.last!.0, &random), true))
                    }
                    for (body, tokenInHeader) in variants {
                        let path = route.paths[pathIndex]
                        var headers: HTTPFields = [:]
                        if !item.contentType.isEmpty, let name = HTTPField.Name("Content-Type") {
                            headers[name] = item.contentType
                        }
                        let response: Reply
                        switch route.sender {
                        case .api:
                            headers[.authorization] = "Bearer \(writeToken)"
                            var caller = Browser(client)
                            response = try await caller.send(path, method: .post, headers: headers, body: ByteBuffer(bytes: body))
                        case .browser(let index):
                            if tokenInHeader { headers[.xCSRFToken] = browsers[index].csrfToken }
                            response = try await browsers[index].send(path, method: .post, headers: headers, body: ByteBuffer(bytes: body))
                        }
                        sent += 1
                        let code = Int(response.status.code)
                        statuses.insert(code)
                        #expect(code < 500, "\(route.name) with \(item.name): \(code)")
                        let after = try await Self.stored(harness)
                        if (400..<500).contains(code) {
                            for (name, value) in before where !route.recordedOnRefusal.contains(name) && after[name] != value {
                                Issue.record(
                                    "\(route.name) with \(item.name) was refused (\(code)) but changed \(name): \(value) → \(after[name] ?? "")"
                                )
                            }
                        } else if (200..<300).contains(code), pathIndex + 1 < route.paths.count {
                            pathIndex += 1
                        }
                        before = after
                    }
                }
                #expect(route.handlerStatuses.isSubset(of: statuses), "\(route.name) answered only \(statuses.sorted())")
            }
            #expect(sent > (part == .adminArea ? 700 : 500))
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
        }
    }

    @Test func malformedRequestsOnTheWireLeaveTheServerServing() async throws {
        try await TestApp.run { client, _ in
            let port = try #require(client.port)
            let raw = [
                "GET / HTTP/9.9\r\n\r\n",
                "\u{0}\u{1}\u{2}\r\n\r\n",
                "POST /admin/login HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                "POST /admin/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n",
                "POST /admin/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcde",
                "GET /\(String(repeating: "a", count: 100_000)) HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /admin HTTP/1.1\r\nHost: x\r\nX: \(String(repeating: "b", count: 200_000))\r\n\r\n",
                "POST /admin/login HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=\"\"\r\nContent-Length: 4\r\n\r\n--\r\n",
            ]
            for request in raw {
                let connection = try RawConnection(port: port)
                connection.send(request)
                let answer = await connection.readUntilClosed(timeout: 3)
                #expect(!answer.text.hasPrefix("HTTP/1.1 5"), "\(request.prefix(40)): \(answer.text.prefix(80))")
            }
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            // An encoded NUL or any other odd byte in a static path is simply not found.
            #expect(try await client.execute(uri: "/static/kaoping.css%00.html", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/static/..%2fkaoping.css", method: .get).status == .notFound)
            let css = try await client.execute(uri: "/static/kaoping.css", method: .get)
            #expect(css.status == .ok)
            #expect(css.headers[.contentType]?.hasPrefix("text/css") == true)
        }
    }

    @Test func anEmptyMultipartBoundaryIsABadRequest() async throws {
        try await TestApp.run { client, _ in
            var browser = Browser(client)
            _ = try await browser.get("/admin/login")
            for contentType in ["multipart/form-data; boundary=\"\"", "multipart/form-data; boundary=", "multipart/form-data"] {
                let response = try await browser.send(
                    "/admin/login",
                    method: .post,
                    headers: [.contentType: contentType],
                    body: ByteBuffer(string: "--\r\n")
                )
                #expect(response.status == .badRequest, "\(contentType)")
            }
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }

    @Test func fortyConcurrentGuessesMeetTheLock() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("target", password: "the real password")
            var first = Browser(client)
            _ = try await first.get("/admin/login")
            let cookies = first.cookies
            try await harness.openEveryPooledConnection()
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for guess in 0..<40 {
                    group.addTask {
                        try await client.onOwnConnection { connection in
                            var browser = Browser(connection)
                            browser.cookies = cookies
                            return try await browser.post("/admin/login", form: [("username", "target"), ("password", "guess number \(guess)")])
                                .status
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let checked = statuses.filter { $0 == .unprocessableContent }.count
            let refused = statuses.filter { $0 == .tooManyRequests }.count
            #expect(checked == 5, "\(statuses.map(\.code))")
            #expect(refused == 35)
            // The lock holds for the right password too.
            var browser = Browser(client)
            browser.cookies = cookies
            #expect(
                try await browser.post("/admin/login", form: [("username", "target"), ("password", "the real password")]).status == .tooManyRequests
            )
            #expect(try await harness.count("SELECT count(*)::int FROM login_attempts WHERE username = 'target'") == 5)
        }
    }

    @Test func requestLogsCarryNoSecrets() async throws {
        let log = CapturedLog()
        try await TestApp.run(configureEnvironment: { $0.logger = log.logger() }) { client, harness in
            let (round, branch) = try await harness.openRound()
            let invitation = try #require(try await harness.memberLinks(round: round, branch: branch).first)
            let publicRound = try await harness.openRound(group: "public", form: "public-satisfaction")
            let publicLink = try await harness.publicLink(round: publicRound.round, branch: publicRound.branch)
            var browser = Browser(client)
            #expect(try await browser.get(invitation).status == .ok)
            #expect(try await browser.get(publicLink).status == .ok)
            _ = try await browser.get(invitation + "x")
            try await harness.createUser("logged", password: "a password to log in")
            _ = try await browser.post("/admin/login", form: [("username", "logged"), ("password", "a password to log in")])
            let token = String(invitation.dropFirst(3))
            let code = String(publicLink.dropFirst(3))
            let text = log.text
            #expect(text.contains("path=/s/…"))
            #expect(text.contains("path=/p/…"))
            #expect(!text.contains(token))
            #expect(!text.contains(code))
            for secret in [browser.csrfToken, browser.cookies[Browser.cookieNames.session]].compactMap({ $0 }) {
                #expect(!text.contains(secret))
            }
            #expect(!text.contains("a password to log in"))
        }
    }

    @Test func stalledAndTricklingClientsAreCut() async throws {
        try await TestApp.run(configure: { configuration in
            configuration.idleTimeoutSeconds = 1
            configuration.requestTimeoutSeconds = 2
        }) { client, _ in
            let port = try #require(client.port)
            let start = ContinuousClock.now
            // Half a request head, then nothing.
            let stalled = try RawConnection(port: port)
            stalled.send("POST /admin/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-")
            // A whole head and then a body one byte at a time, each before the idle time-out.
            let trickling = try RawConnection(port: port)
            trickling.send(
                "POST /admin/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
            )
            var stillOpen = true
            for _ in 0..<12 where stillOpen {
                try await Task.sleep(for: .milliseconds(500))
                stillOpen = trickling.send("a")
                if stillOpen { stillOpen = !(await trickling.readUntilClosed(timeout: 0.01).closed) }
            }
            #expect(!stillOpen, "a client trickling its body kept its connection for 6 s")
            #expect(await stalled.readUntilClosed(timeout: 3).closed)
            // A kept-alive connection with nothing more to say is closed as well.
            let idle = try RawConnection(port: port)
            idle.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            let answer = await idle.readUntilClosed(timeout: 4)
            #expect(answer.text.hasPrefix("HTTP/1.1 200"))
            #expect(answer.closed)
            #expect(ContinuousClock.now - start < .seconds(15))
            // The server itself serves on (the test client's own kept-alive connection was cut too).
            let fresh = try RawConnection(port: port)
            fresh.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            #expect(await fresh.readUntilClosed(timeout: 10).text.hasPrefix("HTTP/1.1 200"))
        }
    }
}
