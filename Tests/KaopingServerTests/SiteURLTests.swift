import Foundation
import Testing

@testable import KaopingServer

@Suite("Site paths")
struct SiteURLTests {
    @Test func patternsLinksAndQueries() {
        let id = UUID(uuidString: "6F1C3E2A-0000-4000-8000-00000000000A")!
        #expect(SiteURL.round(SiteURL.id).path == "/admin/rounds/{id}")
        #expect(SiteURL.round(id).path == "/admin/rounds/6f1c3e2a-0000-4000-8000-00000000000a")
        #expect(SiteURL.roundAction(id, .publicAccess).path == "/admin/rounds/6f1c3e2a-0000-4000-8000-00000000000a/public-access")
        #expect(SiteURL.branchReport(SiteURL.id, branchCode: SiteURL.code).path == "/admin/rounds/{id}/results/{code}")
        // A branch code may hold anything an administrator typed; it stays one path segment.
        #expect(SiteURL.branch("第1/支部 a").path == "/admin/org/branches/%E7%AC%AC1%2F%E6%94%AF%E9%83%A8%20a")
        #expect(SiteURL.round(id).path(["problem": "没有 & 这个"]) == SiteURL.round(id).path + "?problem=%E6%B2%A1%E6%9C%89%20%26%20%E8%BF%99%E4%B8%AA")
        #expect(SiteURL.invitation(token: "abc").absolute(base: "https://kaoping.example.gov.cn") == "https://kaoping.example.gov.cn/s/abc")
        #expect(SiteURL.apiRoundResults(SiteURL.id).path == "/api/v1/rounds/{id}/results")
    }

    /// Paths live in SiteURL alone: no Swift file outside it spells one.
    @Test func noOtherSwiftFileWritesAPath() throws {
        let sources = TestDatabaseServer.repositoryRoot + "/Sources"
        let enumerator = try #require(FileManager.default.enumerator(atPath: sources))
        let pattern = try NSRegularExpression(pattern: #""/(admin|s|p|v|api|static|healthz|readyz|metrics)(/|")"#)
        var found: [String] = []
        for case let file as String in enumerator where file.hasSuffix(".swift") && !file.hasSuffix("SiteURL.swift") {
            let text = try String(contentsOfFile: sources + "/" + file, encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where !line.trimmingCharacters(in: .whitespaces).hasPrefix("///") {
                let line = String(line)
                if pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil { found.append("\(file):\(number + 1)") }
            }
        }
        #expect(found.isEmpty, "paths outside SiteURL: \(found.joined(separator: ", "))")
    }

    /// Nor does a template: every link and form action comes from its page model.
    @Test func noTemplateWritesAPath() throws {
        let templates = TestDatabaseServer.repositoryRoot + "/Sources/KaopingServer/Resources/templates"
        let pattern = try NSRegularExpression(pattern: #"(href|action|src)="/"#)
        var found: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: templates) where file.hasSuffix(".mustache") {
            let text = try String(contentsOfFile: templates + "/" + file, encoding: .utf8)
            if pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil { found.append(file) }
        }
        #expect(found.isEmpty, "paths written in templates: \(found.sorted().joined(separator: ", "))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: templates).count > 20)
    }
}
