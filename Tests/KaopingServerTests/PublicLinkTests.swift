import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KaopingForms
import Logging
import Testing

@testable import KaopingServer

func publicAnswers() -> [(String, String)] {
    ["attitude", "efficiency", "openness", "integrity", "responsibility", "listening", "problems_solved", "overall"]
        .map { ("q.\($0)", "satisfied") }
}

@Suite("Public links", .timeLimit(.minutes(2)))
struct PublicLinkTests {
    func round(_ harness: TestHarness, cap: Int?) async throws -> String {
        try await harness.database.query("INSERT INTO branches (code, name) VALUES ('b01', '服务窗口党支部')")
        let catalog = try FormCatalog(directory: TestDatabaseServer.repositoryRoot + "/forms")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let rounds = RoundRepository(
            database: harness.database,
            forms: catalog,
            frozenForms: FormRepository(database: harness.database),
            seal: TestApp.ballotSeal
        )
        let id = try await rounds.create(
            RoundSpec(title: "群众测评", year: 2026, closesAt: .now + 7 * 86400, publicCap: cap),
            actor: .commandLine,
            logger: logger
        )
        try await rounds.open(id, actor: .commandLine, logger: logger)
        return try await harness.database.query("SELECT public_code FROM round_branches WHERE round_id = \(id)").first!.decode(String.self)
    }

    @Test func thePublicAnswersThroughThePosterLinkAnonymouslyWithinLimits() async throws {
        try await TestApp.run(configure: { $0.publicAnswersPerHour = 3 }) { client, harness in
            let code = try await round(harness, cap: nil)
            var browser = Browser(client)
            let page = try await browser.get("/p/\(code)")
            #expect(page.status == .ok)
            #expect(page.text.contains("党支部工作群众满意度测评"))
            let thanks = try await browser.post("/p/\(code)", form: publicAnswers() + [("_key", try #require(page.hidden("_key")))])
            #expect(thanks.status == .ok)
            #expect(browser.cookies["kp_answered_\(code)"] == "1")

            // One answer per device: the same browser is thanked and offered no second form,
            // not even when it asks for one.
            let again = try await browser.get("/p/\(code)")
            #expect(again.text.contains("每台设备只计一份"))
            #expect(!again.text.contains("again=1") && again.hidden("_key") == nil)
            let second = try await browser.get("/p/\(code)?again=1")
            #expect(second.hidden("_key") == nil)

            // A resent copy of the first answer stores nothing and costs no allowance.
            let resent = try await browser.post("/p/\(code)", form: publicAnswers() + [("_key", try #require(page.hidden("_key")))])
            #expect(resent.status == .conflict)
            #expect(resent.text.contains("每台设备只计一份"))

            // Three answers an hour from one address. Once they are in, the form is not even
            // shown; one loaded before is refused when sent. Each refusal is counted.
            var late = Browser(client)
            let lateKey = try #require(try await late.get("/p/\(code)").hidden("_key"))
            for _ in 0..<2 {
                var other = Browser(client)
                let key = try #require(try await other.get("/p/\(code)").hidden("_key"))
                #expect(try await other.post("/p/\(code)", form: publicAnswers() + [("_key", key)]).status == .ok)
            }
            var fourth = Browser(client)
            let shown = try await fourth.get("/p/\(code)")
            #expect(shown.status == .tooManyRequests && shown.hidden("_key") == nil && shown.text.contains("提交的评价过多"))
            let refused = try await late.post("/p/\(code)", form: publicAnswers() + [("_key", lateKey)])
            #expect(refused.status == .tooManyRequests)
            #expect(refused.text.contains("提交的评价过多"))
            #expect(try await harness.count("SELECT sum(public_refusals)::int FROM round_branches") == 2)

            let stored =
                try await harness.count("SELECT count(*)::int FROM ballot_box WHERE rater_group = 'public'")
                + harness.count("SELECT count(*)::int FROM responses WHERE rater_group = 'public'")
            #expect(stored == 3)
            // Nothing about the person is kept with the ballot.
            let ballots = try await harness.database.query(
                "SELECT encode(sealed, 'escape') FROM ballot_box UNION ALL SELECT dimension_scores::text FROM responses"
            ).map { try $0.decode(String.self) }
            #expect(!ballots.isEmpty && !ballots.contains { $0.contains("127.0.0.1") })
            // Waiting ballots are sealed: no answer reads in the box.
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box WHERE ballot IS NOT NULL") == 0)
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box WHERE position('score' in encode(sealed, 'escape')) > 0") == 0)
            // A wrong link: a plain page for the public, no code, no reference, no way to the admin area.
            let wrong = try await browser.get("/p/nosuchcode")
            #expect(wrong.status == .notFound)
            #expect(wrong.text.contains("这个链接无效或已作废") && wrong.text.contains("无法打开"))
            #expect(!wrong.text.contains("404") && !wrong.text.contains("/admin") && !wrong.text.contains("<code>"))
        }
    }

    @Test func aBranchsCapStopsPublicAnswers() async throws {
        try await TestApp.run { client, harness in
            let code = try await round(harness, cap: 1)
            var first = Browser(client)
            let key = try #require(try await first.get("/p/\(code)").hidden("_key"))
            #expect(try await first.post("/p/\(code)", form: publicAnswers() + [("_key", key)]).status == .ok)
            var second = Browser(client)
            let other = try #require(try await second.get("/p/\(code)").hidden("_key"))
            let capped = try await second.post("/p/\(code)", form: publicAnswers() + [("_key", other)])
            #expect(capped.status == .forbidden)
            #expect(capped.text.contains("已达到本轮的份数上限"))
        }
    }
}

extension PublicLinkTests {
    /// A branch answering from a shared device takes a second answer from the same browser,
    /// and counts it; its neighbour, left at one per device, refuses one and counts nothing.
    @Test func aSharedDeviceAnswersAgainAndTheRepeatsAreCounted() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("chief", password: "the chief's password")
            _ = try await harness.database.query("INSERT INTO branches (code, name) VALUES ('b01', '服务大厅党支部'), ('b02', '窗口二党支部')")
            let id = try await harness.services.roundRepository.create(
                RoundSpec(title: "服务大厅测评", year: 2026, closesAt: .now + 7 * 86400),
                actor: .commandLine,
                logger: TestApp.logger
            )
            try await harness.services.roundRepository.open(id, actor: .commandLine, logger: TestApp.logger)
            let codes = try await harness.database.query(
                "SELECT b.code, rb.public_code FROM round_branches rb JOIN branches b ON b.id = rb.branch_id WHERE rb.round_id = \(id) ORDER BY b.code"
            ).map { try $0.decode((String, String).self) }
            try #require(codes.count >= 2)
            let (hall, hallLink) = codes[0]
            let (_, otherLink) = codes[1]
            let set = try await harness.services.handouts.setSharedDevice(
                round: id,
                branchCodes: [hall],
                shared: true,
                actor: .commandLine,
                logger: TestApp.logger
            )
            #expect(set == 1)

            var tablet = Browser(client)
            for attempt in 1...3 {
                let path = attempt == 1 ? "/p/\(hallLink)" : "/p/\(hallLink)?again=1"
                let key = try #require(try await tablet.get(path).hidden("_key"), "form \(attempt)")
                #expect(try await tablet.post("/p/\(hallLink)", form: publicAnswers() + [("_key", key)]).status == .ok)
            }
            // The answered page of a shared device offers the next form.
            #expect(try await tablet.get("/p/\(hallLink)").text.contains("href=\"/p/\(hallLink)?again=1\""))
            var phone = Browser(client)
            let key = try #require(try await phone.get("/p/\(otherLink)").hidden("_key"))
            #expect(try await phone.post("/p/\(otherLink)", form: publicAnswers() + [("_key", key)]).status == .ok)
            var neighbour = Browser(client)
            let refusedKey = try #require(try await neighbour.get("/p/\(otherLink)").hidden("_key"))
            #expect(try await phone.post("/p/\(otherLink)", form: publicAnswers() + [("_key", refusedKey)]).status == .conflict)

            let counted = try await harness.database.query(
                "SELECT b.code, rb.repeated_device_answers FROM round_branches rb JOIN branches b ON b.id = rb.branch_id WHERE rb.round_id = \(id) ORDER BY b.code"
            ).map { try $0.decode((String, Int).self) }
            // Three from the tablet, of which two repeated; one from the phone, none repeated.
            #expect(counted[0] == (hall, 2))
            #expect(counted[1].1 == 0)
            let stored = try await harness.count(
                "SELECT (SELECT count(*) FROM ballot_box WHERE round_id = '\(id)' AND rater_group = 'public')::int + (SELECT count(*) FROM responses WHERE round_id = '\(id)' AND rater_group = 'public')::int"
            )
            #expect(stored == 4)

            // The round page says how many came from repeated devices.
            var admin = Browser(client)
            _ = try await admin.signIn("chief", "the chief's password")
            let page = try await admin.get("/admin/rounds/\(id.uuidString.lowercased())")
            #expect(page.text.contains("来自重复设备 2"))
            #expect(page.text.contains("共用设备 重复设备 2"))
            // And the branch's report, where the committee reads the public score.
            try await harness.services.rounds.close(id, actor: .commandLine, logger: TestApp.logger)
            let report = try await admin.get("/admin/rounds/\(id.uuidString.lowercased())/results/\(hall)")
            #expect(report.text.contains("来自重复设备 2 份"))
            let neighbours = try await admin.get("/admin/rounds/\(id.uuidString.lowercased())/results/\(codes[1].0)")
            #expect(neighbours.status == .ok && !neighbours.text.contains("来自重复设备"))
        }
    }

    /// Twenty answers at once against a cap of five: exactly five are kept, whatever the timing.
    @Test func theCapHoldsUnderConcurrentAnswers() async throws {
        try await TestApp.run { _, harness in
            let code = try await round(harness, cap: 5)
            let responses = ResponseRepository(database: harness.database, seal: TestApp.ballotSeal)
            let (target, _, _) = try #require(try await responses.publicTarget(code: code))
            let form = try #require(try await FormRepository(database: harness.database).definition(id: target.formVersionID))
            var answers: [String: Answer] = [:]
            for item in form.items where item.type.hasOptions { answers[item.key] = .option(item.options[0].key) }
            let record = answers
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let quiet = logger
            let outcomes = try await withThrowingTaskGroup(of: StoreOutcome.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await responses.storePublicBallot(
                            SubmissionRecord(
                                target: target,
                                submissionKey: RespondentController.newSubmissionKey(),
                                answers: record,
                                score: form.score(record),
                                form: form
                            ),
                            logger: quiet
                        )
                    }
                }
                return try await group.reduce(into: [StoreOutcome]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .stored }.count == 5)
            #expect(outcomes.filter { $0 == .capReached }.count == 15)
            // Waiting in the box, or already mixed into the responses by the server's scheduler.
            let kept = try await harness.count(
                "SELECT ((SELECT count(*) FROM ballot_box WHERE rater_group = 'public') + (SELECT count(*) FROM responses WHERE rater_group = 'public'))::int"
            )
            #expect(kept == 5)
        }
    }
}
