import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Testing
import Yams

@testable import KaopingServer

/// The two-skins diagnostic in all three of its forms, from one computation: the JSON endpoint
/// beside the integration one, the table under the chart and its CSV. The worked example's two
/// branches: b01 business 82.50 (u1 90 × 30 and u2 60 × 10), party 91.00; b02 business 70.00,
/// party 93.57. b01 ranks 1st in business and 2nd in party building, b02 the other way round;
/// with two branches a gap of one rank reaches a third of them, so both are flagged.
@Suite("The two-skins diagnostic: API, table and CSV", .timeLimit(.minutes(2)))
struct DiagnosticTests {
    @Test func theSameFiguresThroughTheAPIThePageAndTheCSV() async throws {
        try await TestApp.run { client, harness in
            var quiet = Logger(label: "test")
            quiet.logLevel = .critical
            let (round, _) = try await harness.workedExampleRound()
            let id = round.uuidString.lowercased()
            try await harness.createUser("admin", password: "results for the committee")
            var admin = Browser(client)
            _ = try await admin.post("/admin/login", form: [("username", "admin"), ("password", "results for the committee")])
            let (_, token) = try await harness.issueToken("分析")
            func api(_ bearer: String? = token) async throws -> (HTTPResponse.Status, [String: Any]) {
                let response = try await client.execute(
                    uri: "/api/v1/rounds/\(id)/diagnostic",
                    method: .get,
                    headers: bearer.map { [.authorization: "Bearer \($0)"] } ?? [:],
                    body: nil
                )
                return (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
            }

            // Before the year's business results: nothing to read against.
            #expect(try await api().0 == .notFound)
            #expect(try await admin.get("/admin/rounds/\(id)/integration.csv").status == .notFound)
            #expect(try await api(nil).0 == .unauthorized)

            try await harness.loadWorkedExamplePerformance()

            let (status, document) = try await api()
            #expect(status == .ok)
            #expect(document["performanceYear"] as? Int == 2026)
            #expect(document["provisional"] as? Bool == true)
            let branches = try #require(document["branches"] as? [[String: Any]])
            let byCode = Dictionary(uniqueKeysWithValues: branches.compactMap { branch in (branch["code"] as? String).map { ($0, branch) } })
            let b01 = try #require(byCode["b01"])
            #expect(abs((b01["businessScore"] as? Double ?? 0) - 82.5) < 0.005)
            #expect(abs((b01["partyScore"] as? Double ?? 0) - 91.0) < 0.005)
            #expect(b01["businessRank"] as? Int == 1 && b01["partyRank"] as? Int == 2 && b01["gap"] as? Int == 1)
            #expect(b01["flagged"] as? Bool == true && b01["quadrant"] as? String == "businessOnly")
            let b02 = try #require(byCode["b02"])
            #expect(abs((b02["businessScore"] as? Double ?? 0) - 70) < 0.005)
            #expect(abs((b02["partyScore"] as? Double ?? 0) - 93.57) < 0.005)
            #expect(b02["businessRank"] as? Int == 2 && b02["partyRank"] as? Int == 1 && b02["gap"] as? Int == -1)
            #expect(b02["flagged"] as? Bool == true && b02["quadrant"] as? String == "partyOnly")
            let quadrants = try #require(document["quadrants"] as? [String: Int])
            #expect(quadrants == ["joined": 0, "businessOnly": 1, "partyOnly": 1, "bothLow": 0])
            let spearman = try #require(document["spearman"] as? [String: Any])
            #expect(spearman["coefficient"] as? Double == -1 && spearman["n"] as? Int == 2 && spearman["low"] == nil)
            // Medians of two: business (82.5 + 70) / 2, party (91.00 + 93.57) / 2.
            #expect(abs((document["businessLine"] as? Double ?? 0) - 76.25) < 0.005)
            #expect((document["excluded"] as? [Any])?.isEmpty == true)

            // The published description names every field the document has, and the other way round.
            let yaml = try await client.execute(uri: "/api/v1/openapi.yaml", method: .get, headers: [:], body: nil)
            let description = try #require(try Yams.load(yaml: String(buffer: yaml.body)) as? [String: Any])
            let schemas = try #require((description["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
            let schema = try #require(schemas["DiagnosticDocument"])
            let properties = try #require(schema["properties"] as? [String: Any])
            #expect(Set(schema["required"] as? [String] ?? []).isSubset(of: document.keys))
            #expect(Set(document.keys).isSubset(of: properties.keys))

            // The table under the chart, every branch with its ranks, gap, flag and quadrant.
            let page = try await admin.get("/admin/rounds/\(id)/integration").text
            // Each cell carries its column's heading, its label where a phone shows each branch as a card.
            func label(_ key: String) -> String { "data-label=\"\(Language.chinese.text(key))\"" }
            #expect(
                page.contains(
                    "<tr><td \(label("col_branch_code"))><a href=\"/admin/rounds/\(id)/results/b02\">b02</a></td><td \(label("col_branch"))>财务处党支部</td><td class=\"num\" \(label("col_business_score"))>70.00</td><td class=\"num\" \(label("col_party_score"))>93.57</td><td class=\"num\" \(label("integration_col_business_rank"))>2</td><td class=\"num\" \(label("integration_col_party_rank"))>1</td><td class=\"num\" \(label("integration_col_rank_distance"))>1</td><td \(label("integration_col_flagged"))>是</td><td \(label("integration_col_quadrant"))>党建悬浮</td></tr>"
                )
            )
            #expect(page.contains("<a href=\"/admin/rounds/\(id)/integration.csv\">"))

            // The CSV: the same rows, in the results' order.
            let csv = try await admin.get("/admin/rounds/\(id)/integration.csv")
            #expect(csv.status == .ok)
            let lines = csv.text.split(separator: "\r\n").map(String.init)
            #expect(lines.first == "\u{FEFF}支部编码,支部名称,业务绩效得分,党建综合得分,业务排名,党建排名,名次相差,差距较大,象限")
            #expect(lines.contains("b01,办公室党支部,82.50,91.00,1,2,1,是,重业务轻党建"))
            #expect(lines.contains("b02,财务处党支部,70.00,93.57,2,1,1,是,党建悬浮"))
            #expect(lines.count == 3)
            let english = try await admin.get("/admin/rounds/\(id)/integration.csv?lang=en").text
            #expect(english.contains("Business over party building"))
        }
    }
}
