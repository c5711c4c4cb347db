import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import Yams

@testable import KaopingServer

@Suite("JSON API", .timeLimit(.minutes(2)))
struct APITests {
    func getJSON(_ client: any TestClientProtocol, _ path: String, token: String?) async throws -> (HTTPResponse.Status, Any) {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        let response = try await client.execute(uri: path, method: .get, headers: headers, body: nil)
        return (response.status, try JSONSerialization.jsonObject(with: Data(buffer: response.body)))
    }

    @Test func tokensGateTheRoundsAndResultsWhichMatchTheDescription() async throws {
        try await TestApp.run { client, harness in
            let (round, _) = try await harness.workedExampleRound()
            let tokens = APITokenRepository(database: harness.database)
            let (tokenID, token) = try await tokens.create(name: "人事系统", createdBy: nil)
            #expect(token.hasPrefix("kp_") && token.count == 46)
            #expect(
                try await harness.count("SELECT count(*)::int FROM api_tokens WHERE position(convert_to('\(token)', 'UTF8') IN token_hash) > 0") == 0
            )

            let (refused, error) = try await getJSON(client, "/api/v1/rounds", token: nil)
            #expect(refused == .unauthorized)
            let problem = try #require((error as? [String: Any])?["error"] as? [String: Any])
            #expect(problem["message"] as? String == "需要有效的 API 令牌（Authorization: Bearer kp_…）。")
            #expect(problem["status"] as? String == "401")
            #expect(try await getJSON(client, "/api/v1/rounds", token: "kp_" + String(repeating: "A", count: 43)).0 == .unauthorized)

            let (status, body) = try await getJSON(client, "/api/v1/rounds", token: token)
            #expect(status == .ok)
            let rounds = try #require((body as? [String: Any])?["rounds"] as? [[String: Any]])
            #expect(rounds.count == 1)
            #expect(rounds[0]["id"] as? String == round.uuidString.lowercased())
            #expect(rounds[0]["status"] as? String == "open")

            let (resultStatus, resultBody) = try await getJSON(client, "/api/v1/rounds/\(round.uuidString.lowercased())/results", token: token)
            #expect(resultStatus == .ok)
            let document = try #require(resultBody as? [String: Any])
            #expect(document["provisional"] as? Bool == true)
            let results = try #require(document["results"] as? [String: Any])
            let subjects = try #require(results["subjects"] as? [[String: Any]])
            #expect(subjects.map { $0["code"] as? String } == ["b02", "b01"])
            #expect(subjects[1]["combined"] as? Double == 91)
            #expect(try await harness.count("SELECT count(*)::int FROM api_tokens WHERE last_used_on IS NOT NULL") == 1)

            // The published description matches what the API returns, both ways.
            let yaml = try await client.execute(uri: "/api/v1/openapi.yaml", method: .get, headers: [:], body: nil)
            #expect(yaml.status == .ok)
            let description = try #require(try Yams.load(yaml: String(buffer: yaml.body)) as? [String: Any])
            #expect((description["openapi"] as? String)?.hasPrefix("3.") == true)
            let paths = try #require(description["paths"] as? [String: Any])
            #expect(Set(paths.keys) == ["/rounds", "/rounds/{id}/results", "/rounds/{id}/integration", "/branches/{code}/history", "/openapi.yaml"])
            let schemas = try #require((description["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
            func check(_ object: [String: Any], against name: String) {
                guard let schema = schemas[name], let properties = schema["properties"] as? [String: Any] else {
                    Issue.record("no schema \(name)")
                    return
                }
                let required = Set(schema["required"] as? [String] ?? [])
                #expect(required.isSubset(of: object.keys), "\(name) lacks \(required.subtracting(object.keys))")
                #expect(Set(object.keys).isSubset(of: properties.keys), "\(name) does not describe \(Set(object.keys).subtracting(properties.keys))")
            }
            check(document, against: "ResultsDocument")
            check(rounds[0], against: "Round")
            check(results, against: "RoundResult")
            for subject in subjects {
                check(subject, against: "SubjectResult")
                for case let group as [String: Any] in (subject["groups"] as? [String: Any] ?? [:]).values { check(group, against: "GroupResult") }
                if let sheet = subject["organisationSheet"] as? [String: Any] { check(sheet, against: "SheetResult") }
            }
            check(try #require(results["diagnostics"] as? [String: Any]), against: "Diagnostics")
            check(try #require(error as? [String: Any]), against: "Error")

            #expect(try await tokens.revoke(id: tokenID))
            #expect(try await getJSON(client, "/api/v1/rounds", token: token).0 == .unauthorized)
            #expect(try await getJSON(client, "/api/v1/rounds/\(UUID())/results", token: nil).0 == .unauthorized)
        }
    }

    @Test func administratorsCreateATokenThatIsShownOnceAndRevokeIt() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("admin", password: "tokens for systems")
            var admin = Browser(client)
            _ = try await admin.post("/admin/login", form: [("username", "admin"), ("password", "tokens for systems")])
            let created = try await admin.post("/admin/tokens", form: [("name", "组织部数据平台")])
            #expect(created.status == .ok)
            let token = try #require(created.text.range(of: "<code class=\"token\">").map { String(created.text[$0.upperBound...].prefix(46)) })
            #expect(token.hasPrefix("kp_"))
            let list = try await admin.get("/admin/tokens")
            #expect(list.text.contains("组织部数据平台"))
            #expect(!list.text.contains(token))  // never shown again
            let (status, _) = try await APITests().getJSON(client, "/api/v1/rounds", token: token)
            #expect(status == .ok)
            let id = try await harness.database.query("SELECT id FROM api_tokens").first!.decode(UUID.self)
            #expect(try await admin.post("/admin/tokens/\(id.uuidString.lowercased())/revoke", form: []).status == .seeOther)
            #expect(try await APITests().getJSON(client, "/api/v1/rounds", token: token).0 == .unauthorized)
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action LIKE 'api.token.%'") == 2)
            #expect(try await admin.post("/admin/tokens", form: [("name", " ")]).status == .unprocessableContent)
        }
    }
}
