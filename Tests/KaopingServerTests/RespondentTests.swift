import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KaopingForms
import Testing

@testable import KaopingServer

/// Answers for every scored item of the member form, and a comment.
func memberAnswers(option: String = "4", comment: String = "学习与业务结合得好") throws -> [(String, String)] {
    let form = try FormCatalog(directory: TestDatabaseServer.repositoryRoot + "/forms").form("member-integration")!
    var fields = form.items.filter(\.isScored).map { ("q.\($0.key)", option) }
    fields.append(("q.works_well", comment))
    return fields
}

@Suite("Respondent forms", .timeLimit(.minutes(2)))
struct RespondentTests {
    @Test func aMemberFillsTheFormAndTheResponseLandsOnceWithItsScore() async throws {
        try await TestApp.run { client, harness in
            let (round, branch) = try await harness.openRound()
            let links = try await harness.memberLinks(round: round, branch: branch, count: 2)
            let path = links[0]
            var browser = Browser(client)

            let page = try await browser.get(path)
            #expect(page.status == .ok)
            #expect(page.headers[.cacheControl] == "no-store")
            #expect(page.text.contains("党支部党建与业务融合评价（党员）"))
            #expect(page.text.contains("机关第一党支部"))
            #expect(page.text.contains("<legend><span class=\"num\">1.</span> 支部班子把抓党建和抓业务作为一项工作统筹谋划、统一部署"))
            #expect(
                page.text.contains(
                    "<label class=\"option\" for=\"input-thinking_one_job-0\"><input type=\"radio\" id=\"input-thinking_one_job-0\" name=\"q.thinking_one_job\" value=\"5\"><span>很好</span></label>"
                )
            )
            #expect(page.text.contains("<script src=\"/static/form-draft.js\" defer></script>"))
            let key = try #require(page.hidden("_key"))
            #expect(key.count == 32)

            let thanks = try await browser.post(path, form: try memberAnswers() + [("_key", key)])
            #expect(thanks.status == .ok)
            #expect(thanks.text.contains("感谢您的评价"))
            #expect(thanks.text.contains("data-clear-draft=\"\(path)\""))

            // The ballot waits in the box until the mixer moves it (docs/privacy.md).
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM responses") == 0)
            #expect(try await harness.mixBallots(round: round) == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM responses") == 1)
            let row = try await harness.database.query(
                "SELECT score, rater_group, submitted_on::text, straight_lined, dimension_scores[1] FROM responses"
            ).first!
            let (score, group, day, straight, thinking) = try row.decode((Double?, String, String, Bool, Double?).self)
            #expect(score == 85)  // 较好 on every item: 85 on version 2 of the form
            #expect(group == "members")
            #expect(day.count == 10)  // a date, not a time
            #expect(straight)  // every scored item got the same answer
            #expect(thinking == 85)
            // Every dimension of the member form, in the form's order (thinking, capability, style, results).
            #expect(try await harness.database.query("SELECT dimension_scores::text FROM responses").first?.decode(String.self) == "{85,85,85,85}")
            #expect(try await harness.count("SELECT count(*)::int FROM answers") == 19)
            #expect(try await harness.count("SELECT count(*)::int FROM answers WHERE item_key = 'works_well' AND text_value = '学习与业务结合得好'") == 1)

            // The same post again (a retry, a double click) shows the same page and stores nothing.
            let again = try await browser.post(path, form: try memberAnswers() + [("_key", key)])
            #expect(again.status == .ok)
            #expect(again.text.contains("感谢您的评价"))
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 0)
            #expect(try await harness.count("SELECT count(*)::int FROM responses") == 1)

            // A second member's link gives a new page and a new key: their answers are stored.
            var colleague = Browser(client)
            let second = try await colleague.get(links[1])
            let other = try await colleague.post(links[1], form: try memberAnswers(option: "na") + [("_key", try #require(second.hidden("_key")))])
            #expect(other.status == .ok)
            try await harness.mixBallots(round: round)
            #expect(try await harness.count("SELECT count(*)::int FROM responses") == 2)
            #expect(try await harness.count("SELECT count(*)::int FROM responses WHERE score IS NULL") == 1)
        }
    }

    @Test func concurrentIdenticalSubmissionsStoreOneResponse() async throws {
        try await TestApp.run { client, harness in
            let (round, branch) = try await harness.openRound()
            let path = try await harness.memberLinks(round: round, branch: branch)[0]
            var browser = Browser(client)
            let key = try #require(try await browser.get(path).hidden("_key"))
            let cookies = browser.cookies
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await client.onOwnConnection { connection in
                            var clicker = Browser(connection)
                            clicker.cookies = cookies
                            return try await clicker.post(path, form: try memberAnswers() + [("_key", key)]).status
                        }
                    }
                }
                var statuses: [HTTPResponse.Status] = []
                for try await status in group { statuses.append(status) }
                return statuses
            }
            #expect(statuses.allSatisfy { $0 == .ok })
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 1)
            try await harness.mixBallots(round: round)
            #expect(try await harness.count("SELECT count(*)::int FROM responses") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM answers") == 19)
        }
    }

    @Test func mistakesAreShownWithTheAnswersKept() async throws {
        try await TestApp.run { client, harness in
            let (round, branch) = try await harness.openRound()
            let path = try await harness.memberLinks(round: round, branch: branch)[0]
            var browser = Browser(client)
            let key = try #require(try await browser.get(path).hidden("_key"))
            var fields = try memberAnswers(comment: "<script>alert('x')</script>")
            fields.removeAll { $0.0 == "q.overall" }
            fields[0].1 = "7"  // not an option
            fields.append(("q.should_change", String(repeating: "改", count: 1001)))
            let response = try await browser.post(path, form: fields + [("_key", key)])
            #expect(response.status == .unprocessableContent)
            let text = response.text
            #expect(text.contains("提交未成功，请修改以下问题："))
            #expect(text.contains("<a href=\"#item-overall\">总体而言，您对本支部党建与业务融合成效的评价是：此题为必答题，请作答。</a>"))
            #expect(text.contains("<a href=\"#item-thinking_one_job\">"))
            #expect(text.contains("请从给出的选项中选择一项。"))
            #expect(text.contains("内容超过字数上限，请精简。"))
            #expect(text.contains("<fieldset class=\"item invalid\" id=\"item-overall\" aria-describedby=\"error-overall\">"))
            #expect(text.contains("<p class=\"item-error\" id=\"error-overall\">此题为必答题，请作答。</p>"))
            // Answers kept: a chosen option is still checked, the comment is still there, escaped.
            #expect(text.contains("name=\"q.thinking_plan\" value=\"4\" checked>"))
            #expect(text.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") || text.contains("&lt;script&gt;alert('x')&lt;/script&gt;"))
            #expect(!text.contains("<script>alert"))
            #expect(response.hidden("_key") == key)  // the same key, so that a corrected post still counts once
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 0)
            #expect(try await harness.count("SELECT count(*)::int FROM invitations WHERE used") == 0)  // the link still works
        }
    }

    @Test func malformedPostsGetAClear4xx() async throws {
        try await TestApp.run(configure: { $0.maxBodyBytes = 16 * 1024 }) { client, harness in
            let (round, branch) = try await harness.openRound()
            let path = try await harness.memberLinks(round: round, branch: branch)[0]
            var browser = Browser(client)
            let key = try #require(try await browser.get(path).hidden("_key"))
            let csrf = try #require(browser.csrfToken)

            func post(_ body: [UInt8]) async throws -> Reply {
                try await browser.send(
                    path,
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(bytes: body)
                )
            }
            let prefix = Array("_csrf=\(csrf)&_key=\(key)&".utf8)
            let unknown = try await post(prefix + Array("q.nonsense=1".utf8))
            #expect(unknown.status == .badRequest)
            #expect(unknown.text.contains("提交的数据格式有误"))
            let repeated = try await post(prefix + Array("q.overall=5&q.overall=4".utf8))
            #expect(repeated.status == .badRequest)
            let badUTF8 = try await post(prefix + Array("q.works_well=".utf8) + [0xFF, 0xFE, 0x41])
            #expect(badUTF8.status == .badRequest)
            let badEscape = try await post(prefix + Array("q.works_well=%E4%B8".utf8))
            #expect(badEscape.status == .badRequest)
            let nul = try await post(prefix + Array("q.works_well=a%00b".utf8))
            #expect(nul.status == .badRequest)
            let noKey = try await post(Array("_csrf=\(csrf)&q.overall=5".utf8))
            #expect(noKey.status == .badRequest)
            let huge = try await post(prefix + Array("q.works_well=".utf8) + Array(repeating: UInt8(ascii: "a"), count: 20 * 1024))
            #expect(huge.status == .contentTooLarge)
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 0)
        }
    }

    @Test func textIsStoredExactlyAsTyped() async throws {
        try await TestApp.run { client, harness in
            let (round, branch) = try await harness.openRound()
            let path = try await harness.memberLinks(round: round, branch: branch)[0]
            var browser = Browser(client)
            let key = try #require(try await browser.get(path).hidden("_key"))
            let comment = "第一行\n\t“引号” \"quotes\" \\ back\u{1}slash & 100% + plus 😀"
            let response = try await browser.post(path, form: try memberAnswers(comment: comment) + [("_key", key)])
            #expect(response.status == .ok)
            try await harness.mixBallots(round: round)
            let stored = try await harness.database.query("SELECT text_value FROM answers WHERE item_key = 'works_well'").first!.decode(String.self)
            #expect(stored == comment)
        }
    }

    @Test func aRoundThatClosesWhileTheFormIsOpenStoresNothing() async throws {
        try await TestApp.run { client, harness in
            let (round, branch) = try await harness.openRound()
            let path = try await harness.memberLinks(round: round, branch: branch)[0]
            var browser = Browser(client)
            let key = try #require(try await browser.get(path).hidden("_key"))
            try await harness.database.query("UPDATE rounds SET status = 'closed', closed_at = now() WHERE id = \(round)")
            let late = try await browser.post(path, form: try memberAnswers() + [("_key", key)])
            #expect(late.status == .forbidden)
            #expect(late.text.contains("（北京时间）结束，不再接受填写，您的答卷未被保存。"))
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 0)
            #expect(try await harness.count("SELECT count(*)::int FROM invitations WHERE used") == 0)
            #expect(try await harness.count("SELECT count(*)::int FROM submission_keys") == 0)
        }
    }

    @Test func aBallotSentAsTheRoundClosesWaitsForTheCloseAndIsNotStoredAfterIt() async throws {
        try await TestApp.run { client, harness in
            let (round, branch) = try await harness.openRound()
            let path = try await harness.memberLinks(round: round, branch: branch)[0]
            var browser = Browser(client)
            let key = try #require(try await browser.get(path).hidden("_key"))
            let cookies = browser.cookies
            let form = try memberAnswers() + [("_key", key)]
            // The close's shape: the round's row locked, the box emptied, the round stamped
            // closed, committed. A ballot sent meanwhile must wait and then see the round closed;
            // stored after the close it would sit in a box nobody empties again, acknowledged
            // and never counted.
            let sent = try await harness.database.transaction(logger: TestApp.logger) { connection in
                try await connection.execute("SELECT 1 FROM rounds WHERE id = \(round) FOR UPDATE", logger: TestApp.logger)
                let sent = Task {
                    try await client.onOwnConnection { connection in
                        var late = Browser(connection)
                        late.cookies = cookies
                        let reply = try await late.post(path, form: form)
                        return (reply.status, reply.text)
                    }
                }
                try await Task.sleep(for: .milliseconds(1500))
                try await connection.execute(
                    "UPDATE rounds SET status = 'closed', closed_at = now() WHERE id = \(round)",
                    logger: TestApp.logger
                )
                return sent
            }
            let (status, text) = try await sent.value
            #expect(status == .forbidden)
            #expect(text.contains("您的答卷未被保存"))
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 0)
            #expect(try await harness.count("SELECT count(*)::int FROM invitations WHERE used") == 0)
        }
    }

    @Test func unknownLinksAndClosedRounds() async throws {
        try await TestApp.run { client, harness in
            // Invitations handed out while it was open; a closed round hands out none.
            let (round, branch) = try await harness.openRound()
            let link = try await harness.memberLinks(round: round, branch: branch)[0]
            try await harness.database.query("UPDATE rounds SET status = 'closed' WHERE id = \(round)")
            var browser = Browser(client)
            let closed = try await browser.get(link)
            #expect(closed.status == .forbidden)
            #expect(closed.text.contains("本轮考评当前不接受填写"))
            // Closed on a known date: the member is told when, and nothing about answers not
            // saved, since they sent none.
            try await harness.database.query("UPDATE rounds SET closed_at = '2025-12-15 10:00:00+00' WHERE id = \(round)")
            let closedOn = try await browser.get(link)
            #expect(closedOn.text.contains("本轮考评已于 2025-12-15 18:00（北京时间）结束，不再接受填写。感谢您的关注。"))
            #expect(!closedOn.text.contains("未被保存") && !closedOn.text.contains("/admin"))
            // No public group in this round: its public link leads nowhere.
            #expect(try await browser.get(try await harness.publicLink(round: round, branch: branch)).status == .notFound)
            #expect(try await browser.get("/p/nosuchcode").status == .notFound)
            #expect(try await browser.get("/s/not-a-token").status == .notFound)
            // Answers come only through an invitation or a public link: there is no path by ids.
            #expect(try await browser.get("/r/\(round)/members/\(branch)").status == .notFound)
            #expect(try await browser.post("/r/\(round)/members/\(branch)", form: try memberAnswers()).status == .notFound)
        }
    }

    @Test func theFormSaysByWhenToAnswerInBeijingTime() async throws {
        try await TestApp.run { client, harness in
            let (round, branch) = try await harness.openRound()
            let path = try #require(try await harness.memberLinks(round: round, branch: branch).first)
            var browser = Browser(client)
            // Without a closing time the form promises none.
            let open = try await harness.openRound(group: "public", form: "public-satisfaction")
            let unbounded = try await browser.get(try await harness.publicLink(round: open.round, branch: open.branch))
            #expect(unbounded.status == .ok && !unbounded.text.contains("前提交") && unbounded.text.contains("<p class=\"deadline\"></p>"))

            // 10:00 UTC is 18:00 in Beijing.
            try await harness.database.query("UPDATE rounds SET closes_at = '2099-12-15 10:00:00+00' WHERE id = \(round)")
            let page = try await browser.get(path)
            #expect(page.text.contains("<p class=\"deadline\">请在 2099-12-15 18:00（北京时间）前提交。</p>"))
            // Also when the form comes back with a problem, and in English.
            let key = try #require(page.hidden("_key"))
            let refused = try await browser.post(path, form: [("_key", key)])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("请在 2099-12-15 18:00（北京时间）前提交。"))
            browser.acceptLanguage = "en"
            #expect(try await browser.get(path).text.contains("<p class=\"deadline\">Please submit by 2099-12-15 18:00 (Beijing time).</p>"))
        }
    }

    @Test func thePublicFormInEnglish() async throws {
        try await TestApp.run { client, harness in
            let (round, branch) = try await harness.openRound(group: "public", form: "public-satisfaction")
            let path = try await harness.publicLink(round: round, branch: branch)
            var browser = Browser(client)
            browser.acceptLanguage = "en-US,en;q=0.9"
            let page = try await browser.get(path)
            #expect(page.text.contains("<html lang=\"en\">"))
            #expect(
                page.text.contains("Public satisfaction with the party branch&#39;s work")
                    || page.text.contains("Public satisfaction with the party branch's work")
            )
            #expect(page.text.contains("<span>Fairly satisfied</span>"))
            let key = try #require(page.hidden("_key"))
            let missing = try await browser.post(path, form: [("q.attitude", "satisfied"), ("_key", key)])
            #expect(missing.status == .unprocessableContent)
            #expect(missing.text.contains("This question needs an answer."))
            #expect(missing.text.contains("name=\"q.attitude\" value=\"satisfied\" checked>"))

            let fields = ["attitude", "efficiency", "openness", "integrity", "responsibility", "listening", "problems_solved", "overall"]
                .enumerated().map { ("q.\($0.element)", ["satisfied", "fairly", "dissatisfied", "unknown"][$0.offset % 4]) }
            let done = try await browser.post(path, form: fields + [("_key", key)])
            #expect(done.status == .ok)
            #expect(done.text.contains("Thank you!"))
            try await harness.mixBallots(round: round)
            // (100 + 75 + 55 + 100 + 75 + 55) / 6 with two unscored answers dropping out
            let score = try await harness.database.query("SELECT score FROM responses").first!.decode(Double.self)
            #expect(abs(score - 460.0 / 6.0) < 1e-9)
        }
    }
}

@Suite("Form preview in the admin area", .timeLimit(.minutes(2)))
struct FormPreviewTests {
    @Test func adminsPreviewAndTryEveryFormWithoutStoringAnything() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("admin", password: "preview password")
            var browser = Browser(client)
            _ = try await browser.post("/admin/login", form: [("username", "admin"), ("password", "preview password")])
            let index = try await browser.get("/admin/forms")
            #expect(index.status == .ok)
            for id in ["member-integration", "public-satisfaction", "organisation-sheet"] {
                #expect(index.text.contains("href=\"/admin/forms/\(id)\""))
                let page = try await browser.get("/admin/forms/\(id)")
                #expect(page.status == .ok)
                #expect(page.text.contains("预览模式"))
            }
            let sheet = try await browser.get("/admin/forms/organisation-sheet")
            #expect(sheet.text.contains("本项满分 25 分，填写扣分（0–25）"))
            #expect(sheet.text.contains("<span>未达标</span>"))
            let tried = try await browser.post("/admin/forms/organisation-sheet", form: [("q.org_life", "30")])
            #expect(tried.status == .unprocessableContent)
            #expect(tried.text.contains("分值超出本项允许的范围。"))
            #expect(try await harness.count("SELECT count(*)::int FROM responses") == 0)
            #expect(try await browser.get("/admin/forms/no-such-form").status == .notFound)
        }
    }

    @Test func hostileTextInAFormFileIsEscaped() async throws {
        let directory = NSTemporaryDirectory() + "kaoping-hostile-forms-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
        id: hostile
        version: 1
        title: "<script>alert('title')</script>"
        scales:
          - key: s
            options:
              - {key: a, label: "<b onmouseover=x>好</b>", points: 100}
        sections:
          - key: s1
            title: "\\"><img src=x onerror=alert(1)>"
            items:
              - {key: q, type: rating, scale: s, label: "Q & A <i>", help: "</p><iframe src=//evil>"}
        """.write(toFile: directory + "/hostile.yaml", atomically: true, encoding: .utf8)
        try await TestApp.run(configure: { $0.formsDirectory = directory }) { client, harness in
            try await harness.createUser("admin", password: "escape everything")
            var browser = Browser(client)
            _ = try await browser.post("/admin/login", form: [("username", "admin"), ("password", "escape everything")])
            let page = try await browser.get("/admin/forms/hostile")
            #expect(page.status == .ok)
            let text = page.text
            for raw in ["<script>alert", "<b onmouseover", "<img src=x", "<i>", "<iframe"] {
                #expect(!text.contains(raw), "unescaped: \(raw)")
            }
            #expect(text.contains("&lt;script&gt;"))
            #expect(text.contains("Q &amp; A &lt;i&gt;"))
            #expect(text.contains("&lt;iframe src=//evil&gt;"))
        }
    }

    @Test func viewersCannotOpenThePreview() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("evaluator", password: "evaluator password", role: .evaluator)
            var browser = Browser(client)
            _ = try await browser.post("/admin/login", form: [("username", "evaluator"), ("password", "evaluator password")])
            #expect(try await browser.get("/admin/forms").status == .forbidden)
        }
    }

    @Test func aBrokenFormStopsStartUpWithFileAndLine() async throws {
        let directory = NSTemporaryDirectory() + "kaoping-broken-forms-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try
            "id: broken\nversion: 1\ntitle: 坏表\nsections:\n  - key: s\n    title: 一\n    items:\n      - {key: q, type: rating, scale: none, label: 问}\n"
            .write(toFile: directory + "/broken.yaml", atomically: true, encoding: .utf8)
        do {
            try await TestApp.run(configure: { $0.formsDirectory = directory }) { _, _ in
                Issue.record("the server must not start")
            }
        } catch let error as FormLoadError {
            #expect(error.description == "\(directory)/broken.yaml:8:39: unknown scale 'none' (the form defines no scales)")
        }
    }
}

@Suite("Ballots written together")
struct BallotBatcherTests {
    actor Writes {
        var batches: [[Int]] = []
        func record(_ batch: [Int]) { batches.append(batch) }
    }

    /// While one batch is being written, the ballots that arrive wait and go together in the
    /// next; a key appears once per batch; every ballot gets its own outcome.
    @Test func ballotsThatArriveDuringAWriteGoTogetherAndAKeyOncePerBatch() async throws {
        let writes = Writes()
        let batcher = BallotBatcher<Int, String>(writers: 1, largestBatch: 64, keys: { ["\($0 % 100)"] }) { batch in
            await writes.record(batch)
            try await Task.sleep(for: .milliseconds(200))
            return batch.map { "stored \($0)" }
        }
        let first = Task { try await batcher.store(0) }
        try await Task.sleep(for: .milliseconds(50))
        // Nine ballots while the first is written, one of them with the first's key (100 % 100).
        let outcomes = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for ballot in [1, 2, 3, 4, 5, 6, 7, 8, 101] { group.addTask { (ballot, try await batcher.store(ballot)) } }
            return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
        }
        #expect(try await first.value == "stored 0")
        #expect(outcomes.count == 9 && outcomes.allSatisfy { $0.value == "stored \($0.key)" })
        let batches = await writes.batches
        #expect(batches.first == [0])
        #expect(batches.count == 3, "\(batches)")
        #expect(batches.dropFirst().allSatisfy { batch in Set(batch.map { $0 % 100 }).count == batch.count })
        #expect(batches.flatMap { $0 }.sorted() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 101])
    }

    /// A batch whose transaction fails tells every ballot in it so: nobody is told "stored".
    @Test func aFailedBatchFailsEveryBallotInIt() async throws {
        struct Down: Error {}
        let batcher = BallotBatcher<Int, String>(writers: 1, largestBatch: 64, keys: { ["\($0)"] }) { _ in
            try await Task.sleep(for: .milliseconds(50))
            throw Down()
        }
        let results = await withTaskGroup(of: Bool.self) { group in
            for ballot in 0..<5 { group.addTask { (try? await batcher.store(ballot)) == nil } }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 5))
    }
}
