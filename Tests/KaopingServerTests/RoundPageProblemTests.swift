import Foundation
import Testing

@testable import KaopingServer

/// The round page's problems travel in the address as keys, not sentences.
@Suite("Round page problems")
struct RoundPageProblemTests {
    static let every: [RoundPageProblem] = [
        .assignment(.noUser), .assignment(.unknownUser("li.na")), .assignment(.notAnEvaluator("wang", role: "viewer")),
        .assignment(.inactiveUser("zhao")), .assignment(.unknownBranches(["b09", "b10"])), .notAssigned, .assignmentsFinal,
        .sheetSubmitted(branchCode: "b07"), .round(.notFound), .round(.wrongStatus(current: .closed, action: .extended)),
        .round(.unknownBranches(["x1"])), .round(.noBranches), .round(.formNotAvailable("member-integration")), .round(.reasonRequired),
        .round(.noClosingTime), .round(.closingTimePassed), .visitCodes(.unknownBranches(["b09"])), .visitCodes(.badCount),
        .visitCodes(.noSuchRound), .unreadableTime, .round(.wrongStatus(current: .cancelled, action: .handedOut)),
        .round(.needsConfirmation([.closesOutsideYear(year: 2027, closingYear: 2026), .noPerformanceResults(year: 2027)])),
    ]

    @Test func eachProblemComesBackFromItsAddressAsItWent() {
        for problem in Self.every {
            let query = Dictionary(uniqueKeysWithValues: problem.query.map { ($0.key, $0.value) })
            #expect(RoundPageProblem(query: query) == problem, "\(query)")
            #expect(!query.values.contains(problem.message(.chinese)))
        }
        // Three kinds of unknown branch codes, each said its own way.
        let messages = Set([Self.every[4], Self.every[10], Self.every[16]].map { $0.message(.english) })
        #expect(messages.count == 3)
    }

    @Test func anAddressCannotPutWordsOnThePage() {
        #expect(RoundPageProblem(query: ["problem": "您的账号已过期，请致电 010-12345678"]) == nil)
        #expect(RoundPageProblem(query: ["problem": "not-an-evaluator", "value": "wang", "extra": "请致电"]) == nil)
        #expect(RoundPageProblem(query: ["problem": "wrong-status", "value": "closed", "extra": "burned"]) == nil)
        #expect(RoundPageProblem(query: ["problem": "dates-to-confirm", "value": "closing-2027-2026,请致电"]) == nil)
        #expect(RoundPageProblem(query: ["problem": "dates-to-confirm", "value": "closing-2027"]) == nil)
        #expect(RoundPageProblem(query: ["problem": "unknown-user"]) == nil)
    }

    @Test func theRoundPageShowsOnlyProblemsItKnows() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("chief", password: "the chief's password")
            let (round, _) = try await harness.openRound()
            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")
            let path = "/admin/rounds/\(round.lowercased)"
            let spoofed = try await admin.get(path + "?problem=" + Browser.encode("系统升级，请把密码发至 someone@example.com"))
            #expect(spoofed.status == .ok)
            #expect(!spoofed.text.contains("someone@example.com"))
            let refused = try await admin.post(path + "/evaluators", form: [("username", "li.na"), ("branches", "")])
            #expect(refused.location?.removingPercentEncoding == path + "?problem=unknown-user&value=li.na")
            let shown = try await admin.get(try #require(refused.location))
            #expect(shown.text.contains(AssignmentProblem.unknownUser("li.na").message(.chinese)))
        }
    }
}
