import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

@testable import KaopingServer

extension TestHarness {
    /// An open round whose branch b01 has `members` members, with invitations issued; returns
    /// the round and each member's link token, in staff-number order.
    func roundWithInvitations(members: Int) async throws -> (round: UUID, tokens: [String]) {
        try await database.query("INSERT INTO branches (code, name) VALUES ('b01', '办公室党支部')")
        try await database.query(
            "INSERT INTO members (staff_number, name, branch_id) SELECT 'm' || lpad(g::text, 3, '0'), '党员' || g, (SELECT id FROM branches WHERE code = 'b01') FROM generate_series(1, \(members)) g"
        )
        let catalog = try FormCatalog(directory: TestDatabaseServer.repositoryRoot + "/forms")
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let rounds = RoundRepository(database: database, forms: catalog, frozenForms: FormRepository(database: database), seal: TestApp.ballotSeal)
        let round = try await rounds.create(RoundSpec(title: "邀请测试", year: 2026, closesAt: .now + 7 * 86400), actor: .commandLine, logger: logger)
        try await rounds.open(round, actor: .commandLine, logger: logger)
        let invitations = InvitationRepository(database: database, tokens: InvitationTokens(secret: TestApp.invitationSecret))
        #expect(try await TestApp.handouts(database).issueInvitations(round: round, actor: .commandLine, logger: logger) == members)
        return (round, try await invitations.links(roundID: round).map(\.token))
    }
}

@Suite("Member invitations and anonymity", .timeLimit(.minutes(2)))
struct InvitationTests {
    @Test func tokensAreUnguessableStoredAsHashesAndWorkOnce() async throws {
        try await TestApp.run { client, harness in
            let (round, tokens) = try await harness.roundWithInvitations(members: 3)
            #expect(Set(tokens).count == 3)
            #expect(tokens.allSatisfy { $0.count == 22 })  // 132 bits, URL-safe
            // Only hashes are stored: no column holds a token.
            let stored = try await harness.database.query("SELECT encode(token_hash, 'hex') FROM invitations").map { try $0.decode(String.self) }
            #expect(stored.allSatisfy { $0.count == 64 })
            for token in tokens {
                #expect(try await harness.count("SELECT count(*)::int FROM invitations WHERE token_hash::text LIKE '%\(token)%'") == 0)
            }

            var browser = Browser(client)
            let page = try await browser.get("/s/\(tokens[0])")
            #expect(page.status == .ok)
            #expect(page.text.contains("办公室党支部"))
            let key = try #require(page.hidden("_key"))
            let thanks = try await browser.post("/s/\(tokens[0])", form: try memberAnswers() + [("_key", key)])
            #expect(thanks.status == .ok)
            #expect(thanks.text.contains("感谢您的评价"))
            // A double click: same page, still one ballot.
            #expect(try await browser.post("/s/\(tokens[0])", form: try memberAnswers() + [("_key", key)]).status == .ok)
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") + harness.count("SELECT count(*)::int FROM responses") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM invitations WHERE used") == 1)

            // The used link says so and shows no form; another page with a new key stores nothing.
            let reused = try await browser.get("/s/\(tokens[0])")
            #expect(reused.status == .gone)
            #expect(reused.text.contains("这个链接已经使用过") && reused.text.contains("<h1>感谢参与</h1>"))
            let forged = try await browser.post("/s/\(tokens[0])", form: try memberAnswers() + [("_key", RespondentController.newSubmissionKey())])
            #expect(forged.status == .gone)
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") + harness.count("SELECT count(*)::int FROM responses") == 1)

            let unknown = try await browser.get("/s/AAAAAAAAAAAAAAAAAAAAAA")
            #expect(unknown.status == .notFound)
            #expect(unknown.text.contains("这个链接无效或已作废"))

            // Reissuing a member's link kills the old one.
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let handouts = TestApp.handouts(harness.database)
            let fresh = try #require(try await handouts.reissueInvitation(round: round, staffNumber: "m002", actor: .commandLine, logger: logger))
            #expect(try await browser.get("/s/\(tokens[1])").status == .notFound)
            #expect(try await browser.get("/s/\(fresh)").status == .ok)
            // A member who has answered gets no new link.
            #expect(try await handouts.reissueInvitation(round: round, staffNumber: "m001", actor: .commandLine, logger: logger) == nil)
        }
    }

    @Test func adminsIssueInvitationsAndDownloadTheLinks() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("admin", password: "invitation links")
            let (round, tokens) = try await harness.roundWithInvitations(members: 4)
            try await harness.database.query(
                "INSERT INTO members (staff_number, name, branch_id) VALUES ('=cmd', '=HYPERLINK(\"x\")', (SELECT id FROM branches WHERE code = 'b01'))"
            )
            var browser = Browser(client)
            _ = try await browser.post("/admin/login", form: [("username", "admin"), ("password", "invitation links")])
            let path = "/admin/rounds/\(round.uuidString.lowercased())"
            let issued = try await browser.post(path + "/invitations", form: [])
            #expect(issued.location == path + "?issued=1")  // only the new member
            #expect(try await browser.get(path + "?issued=1").text.contains("已生成 1 个邀请链接。"))

            let csv = try await browser.get(path + "/invitations.csv")
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            let bytes = Array(csv.body.readableBytesView)
            #expect(bytes.starts(with: [0xEF, 0xBB, 0xBF]))
            let text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
            let lines = text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.count == 6)
            #expect(lines[0] == "支部编码,支部名称,工号,姓名,已填写,链接")
            #expect(lines.contains { $0.hasPrefix("b01,办公室党支部,'=cmd,\"'=HYPERLINK(\"\"x\"\")\",否,http://127.0.0.1:0/s/") })
            for token in tokens { #expect(text.contains("/s/\(token)\r\n")) }

            // Who has not answered yet, for reminders: everyone so far, with the CSV's protections.
            #expect(try await browser.get(path).text.contains("尚未填写的党员： 5"))
            let pending = try await browser.get(path + "/pending.csv")
            let pendingText = String(decoding: Array(pending.body.readableBytesView).dropFirst(3), as: UTF8.self)
            #expect(pendingText.hasPrefix("支部编码,支部名称,工号,姓名,手机\r\n"))
            #expect(pendingText.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 6)

            // Printable slips: one per unused link, each with a QR code and the link; no names.
            let slips = try await browser.get(path + "/slips?branch=b01")
            #expect(slips.status == .ok)
            #expect(slips.text.components(separatedBy: "<div class=\"slip\">").count - 1 == 5)
            #expect(slips.text.components(separatedBy: "<svg xmlns=\"http://www.w3.org/2000/svg\"").count - 1 == 5)
            #expect(!slips.text.contains("党员1<"))
            #expect(slips.text.contains("data-print") && slips.text.contains("branch-slips"))
            // Headed by what they are, the round and the branch, counting the slips still to hand out.
            #expect(slips.text.contains("<h1>邀请条 · 邀请测试 · 办公室党支部</h1>") && slips.text.contains("<p>未使用的 5 张邀请条</p>"))
            #expect(try await browser.get(path + "/slips").text.contains("<h1>邀请条 · 邀请测试 · 全部支部</h1>"))
            // Each slip has a short code to type instead of scanning; typed in lower case and
            // without its dash, it leads to that member's link.
            let codes = slips.text.components(separatedBy: "<p class=\"slip-code\"><code>").dropFirst().map { String($0.prefix(11)) }
            #expect(codes.count == 5 && Set(codes).count == 5 && codes.allSatisfy { $0.count == 11 && $0.dropFirst(5).first == "-" })
            var member = Browser(client)
            #expect(try await member.get("/s").text.contains("输入评价码"))
            let typed = try await member.post("/s", form: [("code", codes[0].lowercased().replacingOccurrences(of: "-", with: " "))])
            #expect(typed.status == .seeOther)
            let link = try #require(typed.location)
            #expect(link.hasPrefix("/s/") && link.count == 25)
            #expect(try await member.get(link).hidden("_key") != nil)
            // Ten wrong codes an hour from one address; then even a right one waits.
            for _ in 0..<10 {
                let wrong = try await member.post("/s", form: [("code", "22222-22222")])
                #expect(wrong.status == .unprocessableContent && wrong.text.contains("没有找到这个评价码"))
            }
            let throttled = try await member.post("/s", form: [("code", codes[1])])
            #expect(throttled.status == .tooManyRequests && throttled.text.contains("输入错误的次数过多"))
            let code = try await harness.database.query("SELECT public_code FROM round_branches").first!.decode(String.self)
            let poster = try await browser.get(path + "/posters/\(code)")
            #expect(poster.status == .ok)
            #expect(poster.text.contains("/p/\(code)</p>"))
            #expect(poster.text.contains("<path d=\"M"))
            // A whole sheet to put up: nothing to cut along.
            #expect(!poster.text.contains("虚线") && poster.text.contains("张贴在服务窗口"))
        }
    }

    /// The anonymity requirement: after submissions through invitation links, nothing in the
    /// database pairs a response with the invitation (or member) it came from.
    @Test func slipsShowOnlyCodesThatCanBeTypedAndPrintingThemWritesNothing() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("admin", password: "invitation slips")
            let (round, _) = try await harness.roundWithInvitations(members: 3)
            // Invitations issued before their short codes were stored with them.
            try await harness.database.query("UPDATE invitations SET short_code_hash = NULL")
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let fresh = try #require(
                try await TestApp.handouts(harness.database).reissueInvitation(round: round, staffNumber: "m002", actor: .commandLine, logger: logger)
            )
            var browser = Browser(client)
            _ = try await browser.post("/admin/login", form: [("username", "admin"), ("password", "invitation slips")])
            let path = "/admin/rounds/\(round.uuidString.lowercased())"
            func codes() async throws -> (codes: [String], links: Int) {
                let text = try await browser.get(path + "/slips").text
                let codes = text.components(separatedBy: "<p class=\"slip-code\"><code>").dropFirst().map { String($0.prefix(11)) }
                return (codes, text.components(separatedBy: "<p class=\"slip-url\">").count - 1)
            }
            // The reissued invitation got its code when issued; the older two show their links,
            // since their codes would find nothing, and printing stores nothing.
            let before = try await codes()
            #expect(before.codes.count == 1 && before.links == 2)
            #expect(try await harness.count("SELECT count(*)::int FROM invitations WHERE revoked_at IS NULL AND short_code_hash IS NULL") == 2)
            var member = Browser(client)
            _ = try await member.get("/s")
            #expect(try await member.post("/s", form: [("code", before.codes[0])]).location == "/s/\(fresh)")

            // Issuing again issues nothing new and stores the missing codes; every slip then has
            // one, and each leads to its member's link.
            #expect(try await browser.post(path + "/invitations", form: []).location == path + "?issued=0")
            let after = try await codes()
            #expect(after.codes.count == 3 && after.links == 0 && Set(after.codes).count == 3)
            let links = Set(try await harness.services.invitations.links(roundID: round).map { "/s/\($0.token)" })
            for code in after.codes {
                let typed = try await member.post("/s", form: [("code", code)])
                #expect(typed.status == .seeOther && links.contains(typed.location ?? ""))
            }
        }
    }

    @Test func responsesCannotBeLinkedToInvitations() async throws {
        try await TestApp.run { client, harness in
            let (round, tokens) = try await harness.roundWithInvitations(members: 8)
            // Member i answers "very poor" to i items: every response is recognisable by its score.
            let form = try FormCatalog(directory: TestDatabaseServer.repositoryRoot + "/forms").form("member-integration")!
            let scored = form.items.filter(\.isScored)
            for (index, token) in tokens.enumerated() {
                var browser = Browser(client)
                let key = try #require(try await browser.get("/s/\(token)").hidden("_key"))
                let fields = scored.enumerated().map { ("q.\($0.element.key)", $0.offset < index + 1 ? "1" : "5") }
                #expect(try await browser.post("/s/\(token)", form: fields + [("_key", key)]).status == .ok)
            }
            // The mixer in the running server moves the box whenever k (5) ballots wait; closing
            // the round flushes whatever is left.
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let rounds = try harness.roundRepository()
            _ = try await rounds.close(round, actor: .commandLine, logger: logger)
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 0)
            #expect(try await harness.count("SELECT count(*)::int FROM responses") == 8)
            #expect(try await harness.count("SELECT count(*)::int FROM answers") == 8 * scored.count)

            // No shared value: response ids are not invitation or member ids, and no column of
            // an invitation records when it was used.
            #expect(try await harness.count("SELECT count(*)::int FROM responses r JOIN invitations i ON i.id = r.id") == 0)
            #expect(try await harness.count("SELECT count(*)::int FROM responses r JOIN members m ON m.id = r.id") == 0)
            let invitationColumns = try await harness.database.query(
                "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'invitations'"
            ).map { try $0.decode(String.self) }
            #expect(!invitationColumns.contains("used_on") && !invitationColumns.contains("used_at"))
            // Submission time is a date only.
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM information_schema.columns WHERE table_name = 'responses' AND data_type LIKE 'timestamp%'"
                ) == 0
            )

            // Transaction ids: responses carry the xmin of the batch they were mixed in; a batch
            // the mixer moved holds at least k = 5, and the rest came with the closing flush. No
            // response was written by a transaction that burned an invitation.
            let batches = try await harness.database.query("SELECT count(*)::int FROM responses GROUP BY xmin::text ORDER BY 1 DESC").map {
                try $0.decode(Int.self)
            }
            #expect(batches.count <= 2 && batches.reduce(0, +) == 8, "\(batches)")
            // The closing flush is the transaction that last wrote the round's row.
            let mixed = try await harness.database.query(
                """
                SELECT count(*)::int FROM responses
                WHERE xmin::text <> (SELECT xmin::text FROM rounds WHERE id = \(round)) GROUP BY xmin::text
                """
            ).map { try $0.decode(Int.self) }
            #expect(mixed.allSatisfy { $0 >= 5 }, "\(mixed)")
            #expect(try await harness.count("SELECT count(*)::int FROM responses WHERE xmin::text IN (SELECT xmin::text FROM invitations)") == 0)
            #expect(try await harness.count("SELECT count(DISTINCT xmin::text)::int FROM answers") == batches.count)

            // Order: the responses' physical order is not the order of submission (member i
            // scored lowest-but-i); with 8 responses a match by chance has odds 1 in 40,320.
            let scoresInStorageOrder = try await harness.database.query("SELECT score FROM responses ORDER BY ctid").map {
                try $0.decode(Double.self)
            }
            let scoresInSubmissionOrder = scoresInStorageOrder.sorted(by: >)
            #expect(scoresInStorageOrder != scoresInSubmissionOrder)
            let invitationOrder = try await harness.database.query(
                "SELECT m.staff_number FROM invitations i JOIN members m ON m.id = i.member_id ORDER BY i.ctid"
            ).map { try $0.decode(String.self) }
            #expect(invitationOrder.count == 8)
        }
    }
}

@Suite("The ballot mixer", .timeLimit(.minutes(2)))
struct BallotMixerTests {
    /// Submits one member's answers through their link.
    static func answer(_ client: any TestClientProtocol, token: String) async throws {
        var browser = Browser(client)
        let key = try #require(try await browser.get("/s/\(token)").hidden("_key"))
        #expect(try await browser.post("/s/\(token)", form: try memberAnswers() + [("_key", key)]).status == .ok)
    }

    /// The mixer moves nothing below the round's k (here 7, so a mixer that used the default 5
    /// would fail), waits its pace between two mixes of a round, and only closing moves a
    /// smaller rest. Two mixers at once (two instances) move a batch once. Time is moved by
    /// moving the round's last mix back, so that a slow machine cannot pass the pace by itself.
    @Test func neverFewerThanKAndNotBeforeItsPace() async throws {
        // The app's own mixer looks once at start-up and then not for an hour: this test drives its own.
        try await TestApp.run(configureEnvironment: { $0.schedulerInterval = .seconds(3600) }) { client, harness in
            let (round, tokens) = try await harness.roundWithInvitations(members: 16)
            try await harness.database.query("UPDATE rounds SET config = jsonb_set(config, '{anonymityThreshold}', '7') WHERE id = \(round)")
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let mixer = BallotBox(database: harness.database, seal: TestApp.ballotSeal, pace: .seconds(30))
            let otherInstance = BallotBox(database: harness.database, seal: TestApp.ballotSeal, pace: .seconds(30))
            func waiting() async throws -> Int { try await harness.count("SELECT count(*)::int FROM ballot_box") }
            func paceGoesBy() async throws {
                try await harness.database.query("UPDATE rounds SET last_mixed_at = last_mixed_at - interval '30 seconds' WHERE id = \(round)")
            }

            for token in tokens[0..<6] { try await Self.answer(client, token: token) }
            #expect(try await mixer.mixFullRounds(logger: logger) == 0)
            #expect(try await waiting() == 6)
            #expect(try await harness.count("SELECT count(*)::int FROM responses") == 0)

            // At k the seven move as one batch: one transaction, and one id prefix (the first
            // eight bytes, drawn anew per batch; a response records no time to group by).
            try await Self.answer(client, token: tokens[6])
            async let first = mixer.mixFullRounds(logger: logger)
            async let second = otherInstance.mixFullRounds(logger: logger)
            #expect(try await first + second == 7)
            #expect(try await waiting() == 0)
            #expect(try await harness.count("SELECT count(*)::int FROM responses") == 7)
            #expect(try await harness.count("SELECT count(DISTINCT xmin::text)::int FROM responses") == 1)
            #expect(try await harness.count("SELECT count(DISTINCT left(id::text, 18))::int FROM responses") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM rounds WHERE last_mixed_at > now() - interval '10 seconds'") == 1)

            // Seven more at once: the pace holds them back, then they move together.
            for token in tokens[7..<14] { try await Self.answer(client, token: token) }
            #expect(try await mixer.mixFullRounds(logger: logger) == 0)
            #expect(try await waiting() == 7)
            try await paceGoesBy()
            #expect(try await mixer.mixFullRounds(logger: logger) == 7)

            // Two more wait past the pace: below k they stay until the round closes.
            for token in tokens[14..<16] { try await Self.answer(client, token: token) }
            try await paceGoesBy()
            #expect(try await mixer.mixFullRounds(logger: logger) == 0)
            #expect(try await waiting() == 2)
            let rounds = try harness.roundRepository()
            #expect(try await rounds.close(round, actor: .commandLine, logger: logger))
            #expect(try await waiting() == 0)
            let batches = try await harness.database.query("SELECT count(*)::int FROM responses GROUP BY xmin::text ORDER BY 1").map {
                try $0.decode(Int.self)
            }
            #expect(batches == [2, 7, 7])
            #expect(try await harness.count("SELECT count(DISTINCT left(id::text, 18))::int FROM responses") == 3)
        }
    }

    /// Ballots sealed under another secret are not lost and not skipped: the mixer leaves them
    /// (and goes on with other rounds), closing refuses and names the cause, and they wait for
    /// the right secret.
    @Test func aBallotSealedUnderAnotherSecretStopsTheCloseAndStaysInTheBox() async throws {
        try await TestApp.run(configureEnvironment: { $0.schedulerInterval = .seconds(3600) }) { client, harness in
            let (round, tokens) = try await harness.roundWithInvitations(members: 5)
            for token in tokens { try await BallotMixerTests.answer(client, token: token) }
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let catalog = try FormCatalog(directory: TestDatabaseServer.repositoryRoot + "/forms")
            let otherSecret = BallotSeal(secret: Array("another secret of thirty-two b!!".utf8))
            #expect(try await BallotBox(database: harness.database, seal: otherSecret).mixFullRounds(logger: logger) == 0)
            let wrong = RoundRepository(
                database: harness.database,
                forms: catalog,
                frozenForms: FormRepository(database: harness.database),
                seal: otherSecret
            )
            await #expect(throws: BallotSealError.self) { try await wrong.close(round, actor: .commandLine, logger: logger) }
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 5)
            #expect(try await harness.count("SELECT count(*)::int FROM rounds WHERE status = 'open'") == 1)
            #expect(try await harness.roundRepository().close(round, actor: .commandLine, logger: logger))
            #expect(try await harness.count("SELECT count(*)::int FROM responses") == 5)

            // Answers go with their responses (a trigger, not a foreign key: docs/design.md).
            #expect(try await harness.count("SELECT count(*)::int FROM answers") > 0)
            try await harness.database.query("DELETE FROM result_snapshots WHERE round_id = \(round)")
            try await harness.database.query("DELETE FROM responses WHERE round_id = \(round)")
            #expect(try await harness.count("SELECT count(*)::int FROM answers") == 0)
        }
    }
}

@Suite("Sealed ballot content")
struct BallotContentTests {
    @Test func theBinaryFormReadsBackExactlyAndJSONFromEarlierVersionsStillReads() throws {
        let content = BallotContent(
            score: 87.5,
            dimensions: [.init(key: "thinking", value: 90), .init(key: "results", value: 82.25)],
            straightLined: false,
            satisfied: nil,
            answers: [
                .init(item: "overall", option: "4", points: 75),
                .init(item: "works_well", text: "学习与业务结合得好，\"引号\"\n换行"),
                .init(item: "study", number: 3.5, text: "扣分说明"),
                .init(item: "no_violations", option: "fail"),
            ]
        )
        #expect(try BallotContent(decoding: content.encoded()) == content)
        var satisfied = content
        satisfied.satisfied = true
        satisfied.score = nil
        #expect(try BallotContent(decoding: satisfied.encoded()) == satisfied)
        // Cut short, or another version: refused, never half read.
        #expect(throws: BallotContentError.self) { try BallotContent(decoding: Array(content.encoded().dropLast())) }
        #expect(throws: BallotContentError.self) { try BallotContent(decoding: [9] + content.encoded().dropFirst()) }

        let json =
            #"{"answers":[{"item_key":"overall","option_key":"4","points":75},{"item_key":"works_well","text_value":"好"}],"#
            + #""score":87.5,"dimensions":{"thinking":90},"straightLined":false,"satisfied":true}"#
        let read = try BallotContent(decoding: Array(json.utf8))
        #expect(read.score == 87.5 && read.satisfied == true && read.dimensions.map(\.key) == ["thinking"])
        #expect(read.answers == [.init(item: "overall", option: "4", points: 75), .init(item: "works_well", text: "好")])
    }
}

extension InvitationTests {
    /// Thirty members answer at the same moment, five of them twice (a double click): every
    /// ballot is stored once, each member sees their thanks, and the links are all burned.
    @Test func membersAnsweringAtOnceAreEachCountedOnce() async throws {
        try await TestApp.run(configureEnvironment: { $0.schedulerInterval = .seconds(3600) }) { client, harness in
            let (_, tokens) = try await harness.roundWithInvitations(members: 30)
            var forms: [(String, String)] = []
            for token in tokens {
                var browser = Browser(client)
                forms.append((token, try #require(try await browser.get("/s/\(token)").hidden("_key"))))
            }
            let posts = forms + forms.prefix(5)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for (token, key) in posts {
                    group.addTask {
                        try await client.onOwnConnection { connection in
                            var browser = Browser(connection)
                            return try await browser.post("/s/\(token)", form: try memberAnswers() + [("_key", key)]).status
                        }
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.count == 35 && statuses.allSatisfy { $0 == .ok }, "\(statuses.map(\.code))")
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 30)
            #expect(try await harness.count("SELECT count(*)::int FROM invitations WHERE used") == 30)
            #expect(try await harness.count("SELECT count(*)::int FROM submission_keys") == 30)
        }
    }
}

extension BallotMixerTests {
    /// More than a batch waiting: one pass takes full batches until fewer than a batch remain,
    /// and never a last one below k.
    @Test func aFullBoxIsEmptiedInBatchesInOnePass() async throws {
        try await TestApp.run(configureEnvironment: { $0.schedulerInterval = .seconds(3600) }) { client, harness in
            let (_, tokens) = try await harness.roundWithInvitations(members: 20)
            for token in tokens { try await Self.answer(client, token: token) }
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let mixer = BallotBox(database: harness.database, seal: TestApp.ballotSeal, largestBatch: 8)
            #expect(try await mixer.mixFullRounds(logger: logger) == 16)
            #expect(try await harness.count("SELECT count(*)::int FROM ballot_box") == 4)
            let batches = try await harness.database.query("SELECT count(*)::int FROM responses GROUP BY xmin::text").map {
                try $0.decode(Int.self)
            }
            #expect(batches == [8, 8])
        }
    }
}
