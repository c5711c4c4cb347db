import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import Yams

@testable import KaopingAggregation
@testable import KaopingServer

@Suite("JSON API", .timeLimit(.minutes(2)))
struct APITests {
    @Test func tokensGateTheRoundsAndResultsWhichMatchTheDescription() async throws {
        try await TestApp.run { client, harness in
            let (round, _) = try await harness.workedExampleRound()
            let (tokenID, token) = try await harness.issueToken("人事系统")
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
            #expect(
                Set(paths.keys) == [
                    "/rounds", "/rounds/{id}/results", "/rounds/{id}/integration", "/rounds/{id}/diagnostic", "/branches/{code}/history",
                    "/performance", "/openapi.yaml", "/appraisals/{id}/results",
                ]
            )
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

            #expect(try await harness.services.tokens.revoke(id: tokenID, actor: .commandLine, logger: TestApp.logger))
            #expect(try await getJSON(client, "/api/v1/rounds", token: token).0 == .unauthorized)
            #expect(try await getJSON(client, "/api/v1/rounds/\(UUID())/results", token: nil).0 == .unauthorized)
        }
    }

    /// The results document is sent branch by branch; its bytes must be those of the document
    /// encoded whole, or a field added to the results would silently go missing from the API.
    @Test func theResultsDocumentInPiecesIsTheDocumentEncodedWhole() async throws {
        let input = RoundInput(
            configuration: RoundConfiguration(),
            configurationHash: "hash/with \"quotes\"",
            sheet: SheetLayout(deductions: [.init(key: "d1", maximum: 100)], baselines: ["b1"], bonuses: [.init(key: "x1", cap: 5)]),
            dimensionKeys: [.members: ["thinking"]],
            subjects: (1...30).map { (index: Int) -> SubjectInput in
                let members: [ResponseInput] = (0..<(index % 9)).map { (answer: Int) -> ResponseInput in
                    let value = 60.0 + 4.0 * Double(answer)
                    return ResponseInput(score: value, dimensions: [value + 5])
                }
                let visitors: [ResponseInput] = (0..<(index % 13)).map { (answer: Int) -> ResponseInput in
                    ResponseInput(score: 55.0 + 3.0 * Double(answer), satisfied: answer % 2 == 0)
                }
                return SubjectInput(
                    code: "b\(index)",
                    name: "第\(index)党支部/机关",
                    eligibleMembers: 8,
                    responses: [.members: members, .public: visitors],
                    sheets: [SheetInput(evaluator: "e", lost: ["d1": Double(index % 7)], failedBaselines: index == 4 ? ["b1"] : [])]
                )
            }
        )
        var result = Aggregation.run(input)
        result.disclose()
        let document = APIController.ResultsDocument(
            round: .init(
                id: "r",
                title: "2026 年度",
                year: 2026,
                status: "open",
                opensAt: Date(timeIntervalSince1970: 1_796_086_800),
                closesAt: nil,
                closedAt: nil,
                branches: 30,
                configurationHash: "hash"
            ),
            provisional: true,
            computedAt: Date(timeIntervalSince1970: 1_796_090_000),
            results: result
        )
        var pieces: [Data] = []
        try await APIController.pieces(of: document, size: 2_000) { pieces.append($0) }
        #expect(pieces.count > 3)
        #expect(pieces.reduce(Data(), +) == (try APIController.encoder.encode(document)))
        // The stored snapshot and `kaoping results` write the result alone, sorted the same way.
        let sorted = JSONEncoder()
        sorted.outputFormatting = [.sortedKeys]
        #expect(try await ResultsJSON.data(result) == (try sorted.encode(result)))
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
            #expect(list.text.contains("<td>组织部数据平台</td><td>只读</td>"))
            #expect(!list.text.contains(token))  // never shown again
            let (status, _) = try await getJSON(client, "/api/v1/rounds", token: token)
            #expect(status == .ok)
            let id = try await harness.database.query("SELECT id FROM api_tokens").first!.decode(UUID.self)
            #expect(try await admin.post("/admin/tokens/\(id.uuidString.lowercased())/revoke", form: []).status == .seeOther)
            #expect(try await getJSON(client, "/api/v1/rounds", token: token).0 == .unauthorized)
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action LIKE 'api.token.%'") == 2)
            #expect(try await admin.post("/admin/tokens", form: [("name", " ")]).status == .unprocessableContent)
            #expect(try await admin.post("/admin/tokens", form: [("name", "绩效系统"), ("write", "1")]).status == .ok)
            #expect(try await admin.get("/admin/tokens").text.contains("<td>绩效系统</td><td>读取并写入绩效结果</td>"))
            #expect(try await harness.count("SELECT count(*)::int FROM api_tokens WHERE scope = 'write' AND name = '绩效系统'") == 1)
        }
    }

    /// A token works only while its maker is an active administrator: disabling the maker stops
    /// their tokens (and says how many), enabling them restores them, and a token made at the
    /// command line is nobody's account's.
    @Test func tokensStopWithTheirMakersAccess() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("chief", password: "the chief's password")
            let maker = try await harness.createUser("wang", password: "wang makes tokens")
            var chief = Browser(client)
            _ = try await chief.signIn("chief", "the chief's password")
            var wang = Browser(client)
            _ = try await wang.signIn("wang", "wang makes tokens")
            func made(_ name: String, write: Bool) async throws -> String {
                let page = try await wang.post("/admin/tokens", form: [("name", name)] + (write ? [("write", "1")] : []))
                return try #require(page.text.range(of: "<code class=\"token\">").map { String(page.text[$0.upperBound...].prefix(46)) })
            }
            let writer = try await made("绩效系统", write: true)
            let reader = try await made("数据平台", write: false)
            let (_, commandLine) = try await harness.issueToken("运维脚本")
            let api = APITests()
            let performance = #"{"year": 2026, "results": [{"unit": "u9", "score": 80}]}"#
            // Working while wang is an active administrator (the post is refused on its merits, not its token).
            #expect(try await getJSON(client, "/api/v1/rounds", token: reader).0 == .ok)
            #expect(try await api.post(client, "/api/v1/performance", token: writer, json: performance).0 == .unprocessableContent)

            let disabled = try await chief.post("/admin/accounts/\(maker.id.lowercased)/disable", form: [("confirmed", "yes")])
            #expect(try await chief.get(try #require(disabled.location)).text.contains("该账号创建的 2 个 API 令牌随之停用"))
            #expect(try await getJSON(client, "/api/v1/rounds", token: reader).0 == .unauthorized)
            #expect(try await api.post(client, "/api/v1/performance", token: writer, json: performance).0 == .unauthorized)
            #expect(try await getJSON(client, "/api/v1/rounds", token: commandLine).0 == .ok)
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'user.disabled' AND subject = 'wang' AND details->>'tokens_stopped' = '2'"
                ) == 1
            )
            let list = try await chief.get("/admin/tokens").text
            #expect(list.contains("<td>绩效系统</td><td>读取并写入绩效结果</td><td>wang</td>"))
            #expect(list.contains("<td>运维脚本</td><td>只读</td><td>服务器命令行</td>"))
            #expect(list.components(separatedBy: "已停用（创建人已停用或不再是管理员）").count == 3)

            // Restored with their maker; a maker who is no longer an administrator stops them too.
            #expect(try await chief.post("/admin/accounts/\(maker.id.lowercased)/enable", form: []).status == .seeOther)
            #expect(try await getJSON(client, "/api/v1/rounds", token: reader).0 == .ok)
            try await harness.database.query("UPDATE users SET role = 'evaluator' WHERE username = 'wang'")
            #expect(try await getJSON(client, "/api/v1/rounds", token: reader).0 == .unauthorized)
        }
    }
}

extension APITests {
    func post(_ client: any TestClientProtocol, _ path: String, token: String, json: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        let response = try await client.execute(
            uri: path,
            method: .post,
            headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
            body: ByteBuffer(string: json)
        )
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
    }

    /// The performance office's system posts a year's results with a write token: checked like
    /// a file, all or nothing, a new version each time, in the audit log under the token's name;
    /// a read-only token is refused, and the results reach the round's pages.
    @Test func performanceResultsPostedWithAWriteToken() async throws {
        try await TestApp.run { client, harness in
            let (round, _) = try await harness.workedExampleRound()
            var quiet = Logger(label: "test")
            quiet.logLevel = .critical
            _ = try await PerformanceRepository(database: harness.database).importUnits(
                [
                    UnitRow(line: 2, code: "u1", name: "办公室", branchCode: "b01", headcount: 30),
                    UnitRow(line: 3, code: "u2", name: "财务处", branchCode: "b02", headcount: 10),
                ],
                logger: quiet
            )
            let (_, reader) = try await harness.issueToken("只读")
            let (_, writer) = try await harness.issueToken("绩效系统", scope: .write)
            let good = """
                {"year": 2026, "source": "2026 年度机关绩效考评", "results": [
                  {"unit": "u1", "score": 91.5, "grade": "优秀", "indicators": {"重点任务": "98%", "督查": 3}},
                  {"unit": "u2", "score": "72"}]}
                """

            let (refused, message) = try await post(client, "/api/v1/performance", token: reader, json: good)
            #expect(refused == .forbidden)
            #expect((message["error"] as? [String: Any])?["message"] as? String == "该 API 令牌只能读取；写入需要具有写入权限的令牌。")
            #expect(try await post(client, "/api/v1/performance", token: "kp_" + String(repeating: "A", count: 43), json: good).0 == .unauthorized)
            #expect(try await harness.count("SELECT count(*)::int FROM performance_loads") == 0)

            // Every bad entry named, nothing stored.
            let (bad, problems) = try await post(
                client,
                "/api/v1/performance",
                token: writer,
                json:
                    #"{"year": 2026, "results": [{"unit": "u1", "score": 101}, {"unit": "u9", "score": 80}, {"unit": "u2"}, {"unit": "u1", "score": 50}]}"#
            )
            #expect(bad == .unprocessableContent)
            let listed = (problems["problems"] as? [[String: Any]] ?? []).map { "\($0["entry"]!) \($0["message"]!)" }
            #expect(listed.count == 3)
            #expect(listed[0].hasPrefix("1 ") && listed[1].hasPrefix("2 ") && listed[2].hasPrefix("3 "))
            #expect(listed[1].contains("u9"))
            #expect(try await post(client, "/api/v1/performance", token: writer, json: "not json").0 == .unprocessableContent)
            #expect(try await post(client, "/api/v1/performance", token: writer, json: #"{"year": 1999, "results": []}"#).0 == .unprocessableContent)
            #expect(try await harness.count("SELECT count(*)::int FROM performance_loads") == 0)

            let (created, load) = try await post(client, "/api/v1/performance", token: writer, json: good)
            #expect(created == .created)
            #expect(load["year"] as? Int == 2026 && load["version"] as? Int == 1 && load["units"] as? Int == 2)
            #expect(try await post(client, "/api/v1/performance", token: writer, json: good).1["version"] as? Int == 2)
            let indicators = try await harness.database.query(
                "SELECT indicators::text FROM performance_results r JOIN units u ON u.id = r.unit_id WHERE u.code = 'u1' LIMIT 1"
            ).first!.decode(String.self)
            #expect(indicators == #"{"督查": "3", "重点任务": "98%"}"#)
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'performance.imported' AND actor_name = 'api: 绩效系统' AND details->>'source' = '2026 年度机关绩效考评'"
                ) == 2
            )
            // The posted results reach the round's integrated sheet.
            let (status, sheet) = try await getJSON(client, "/api/v1/rounds/\(round.uuidString.lowercased())/integration", token: reader)
            #expect(status == .ok)
            let units = ((sheet as? [String: Any])?["integration"] as? [String: Any])?["units"] as? [[String: Any]]
            #expect(units?.first?["businessScore"] as? Double == 91.5)
        }
    }
}
