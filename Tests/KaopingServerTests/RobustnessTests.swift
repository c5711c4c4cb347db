import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
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

    @Test func malformedBodiesNeverGiveA5xxAndTheServerLives() async throws {
        let corpus = try Self.corpus()
        try await TestApp.run { client, harness in
            try await harness.createUser("fuzz.admin", password: "a password for fuzzing")
            let (round, branch) = try await harness.openRound()
            let invitation = try #require(try await harness.memberLinks(round: round, branch: branch).first)
            let publicLink = try await harness.publicLink(round: round, branch: branch)
            var browser = Browser(client)
            _ = try await browser.post("/admin/login", form: [("username", "fuzz.admin"), ("password", "a password for fuzzing")])
            let csrf = try #require(browser.csrfToken)
            let paths = ["/admin/login", invitation, publicLink, "/admin/org/import", "/admin/forms/member-integration", "/admin/rounds"]

            var random = SeededRandom(state: 20_261_130)
            var sent = 0
            for path in paths {
                for item in corpus.cases {
                    var variants = [item.bytes]
                    // The token in the body as well, so that the body reaches the handler behind CSRF.
                    if item.contentType.hasPrefix("application/x-www-form-urlencoded") {
                        variants.append(Array("_csrf=\(csrf)&".utf8) + item.bytes)
                    }
                    variants.append(Self.mutate(variants.last!, &random))
                    for body in variants {
                        var headers: HTTPFields = [:]
                        if !item.contentType.isEmpty, let name = HTTPField.Name("Content-Type") {
                            headers[name] = item.contentType
                        }
                        let response = try await browser.send(path, method: .post, headers: headers, body: ByteBuffer(bytes: body))
                        sent += 1
                        #expect(response.status.code < 500, "\(path) with \(item.name): \(response.status.code)")
                    }
                }
            }
            #expect(sent > 400)
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
            for secret in [browser.csrfToken, browser.cookies[SessionCookie.name]].compactMap({ $0 }) {
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
