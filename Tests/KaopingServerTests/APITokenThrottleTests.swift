import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import KaopingServer

@Suite("API token guesses are throttled", .timeLimit(.minutes(2)))
struct APITokenThrottleTests {
    /// A token of the right shape that no one was given: it is looked up, and not found.
    static func wrongToken(_ index: Int) -> String {
        "kp_" + String(String(format: "%043d", index).prefix(43))
    }

    static func get(_ client: any TestClientProtocol, token: String?, from address: String) async throws -> TestResponse {
        var headers: HTTPFields = [.xForwardedFor: address]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: "/api/v1/rounds", method: .get, headers: headers, body: nil)
    }

    @Test func twentyWrongTokensFromOneAddressLockItAndNoOtherAddress() async throws {
        try await TestApp.run(configure: { $0.trustForwardedFor = true }) { client, harness in
            let (_, token) = try await harness.issueToken("人事系统")
            let guesser = "203.0.113.7"
            let limit = LoginThrottle.Limits().failuresPerAddress
            #expect(APITokenThrottle.Limits().failuresPerAddress == limit)

            // Up to the limit every wrong token is told it is wrong, malformed ones too
            // (they are guesses as well, only cheaper ones).
            for index in 1..<limit {
                let reply = try await Self.get(client, token: index % 5 == 0 ? "nonsense-\(index)" : Self.wrongToken(index), from: guesser)
                #expect(reply.status == .unauthorized, "guess \(index)")
            }
            // The limit-th still is: the lock comes after `limit` failures, not at them.
            #expect(try await Self.get(client, token: Self.wrongToken(limit), from: guesser).status == .unauthorized)
            // The next, and every one of fifty, meets the lock.
            for index in (limit + 1)...50 {
                let reply = try await Self.get(client, token: Self.wrongToken(index), from: guesser)
                #expect(reply.status == .tooManyRequests, "guess \(index)")
                if index == limit + 1 {
                    let wait = try #require(reply.headers[.retryAfter].flatMap { Int($0) })
                    #expect((840...900).contains(wait), "Retry-After: \(wait)")
                    #expect(reply.headers[.contentType] == "application/json; charset=utf-8")
                    let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: reply.body)) as? [String: [String: String]])
                    #expect(body["error"]?["status"] == "429")
                    #expect(body["error"]?["message"]?.contains("Retry-After") == true)
                }
            }
            // The locked address is refused even with a valid token, so a guess that hit would
            // look like every other; nor does a request without a token get through.
            #expect(try await Self.get(client, token: token, from: guesser).status == .tooManyRequests)
            #expect(try await Self.get(client, token: nil, from: guesser).status == .tooManyRequests)

            // Another address is not affected, with a valid token or a wrong one.
            #expect(try await Self.get(client, token: token, from: "198.51.100.20").status == .ok)
            #expect(try await Self.get(client, token: Self.wrongToken(99), from: "198.51.100.20").status == .unauthorized)
            // Nor is signing in from the guessing address: the two throttles count apart.
            #expect(try await harness.signInAllowed(username: "admin", address: guesser))

            // Every instance sees the count: it is in the database.
            #expect(try await harness.count("SELECT count(*)::int FROM login_attempts WHERE address = 'api-token|\(guesser)'") == limit)
            let metrics = try await harness.metrics().text
            #expect(metrics.contains("kaoping_api_token_refusals_total{reason=\"invalid\"} \(limit + 1)"), "\(metrics)")
            // 50 − limit guesses, then the valid token and the request without one.
            #expect(metrics.contains("kaoping_api_token_refusals_total{reason=\"throttled\"} \(50 - limit + 2)"))

            // Fourteen minutes on, the lock has a minute to run; a minute more and it is gone.
            // (Every guess is set to fourteen minutes ago, however long the guessing took.)
            try await harness.database.query(
                "UPDATE login_attempts SET attempted_at = now() - interval '14 minutes' WHERE address = \("api-token|" + guesser)"
            )
            let late = try await Self.get(client, token: token, from: guesser)
            #expect(late.status == .tooManyRequests)
            #expect(late.headers[.retryAfter].flatMap { Int($0) }.map { (1...60).contains($0) } == true, "\(late.headers)")
            try await harness.database.query(
                "UPDATE login_attempts SET attempted_at = attempted_at - interval '61 seconds' WHERE address = \("api-token|" + guesser)"
            )
            #expect(try await Self.get(client, token: token, from: guesser).status == .ok)
        }
    }

    /// Requests without a token are mistakes, not guesses: they do not lock the address.
    @Test func requestsWithoutATokenAreNotCounted() async throws {
        try await TestApp.run(configure: { $0.trustForwardedFor = true }) { client, harness in
            let (_, token) = try await harness.issueToken("人事系统")
            for _ in 0..<30 {
                #expect(try await Self.get(client, token: nil, from: "192.0.2.1").status == .unauthorized)
            }
            #expect(try await Self.get(client, token: token, from: "192.0.2.1").status == .ok)
        }
    }

    /// Guesses sent at once queue on the address's lock: no more than the limit are told
    /// "wrong", however many arrive together.
    @Test func guessesSentAtOnceGetNoMoreThanTheLimit() async throws {
        try await TestApp.run(configure: { $0.trustForwardedFor = true }) { client, harness in
            try await harness.openEveryPooledConnection()
            let limit = APITokenThrottle.Limits().failuresPerAddress
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<(2 * limit) {
                    group.addTask {
                        try await client.onOwnConnection { connection in
                            try await connection.execute(
                                .init(
                                    "/api/v1/rounds",
                                    method: .get,
                                    authority: "localhost",
                                    headers: [.authorization: "Bearer \(Self.wrongToken(index))", .xForwardedFor: "203.0.113.99"],
                                    body: nil
                                )
                            ).status
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count == limit, "\(statuses.map(\.code))")
            #expect(statuses.filter { $0 == .tooManyRequests }.count == limit)
        }
    }
}

extension TestHarness {
    /// Whether the sign-in throttle lets an attempt go ahead (marked a success, so it does not count).
    func signInAllowed(username: String, address: String) async throws -> Bool {
        guard case .allowed(let attempt) = try await services.loginThrottle.reserve(username: username, address: address) else { return false }
        try await services.loginThrottle.succeeded(attempt)
        return true
    }
}
