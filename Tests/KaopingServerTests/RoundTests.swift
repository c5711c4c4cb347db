import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KaopingAggregation
import Logging
import PostgresNIO
import Prometheus
import Testing

@testable import KaopingServer

@Suite("Rounds", .timeLimit(.minutes(2)))
struct RoundTests {
    @Test func specFilesParseWithDefaultsAndBeijingTimes() throws {
        let spec = try RoundSpec.parse(
            yaml: """
                title: 2026 年度考评
                year: 2026
                opens: 2026-12-01 09:00
                closes: 2026-12-15 18:00
                branches: [b01, b02]
                groups:
                  members: {weight: 0.6}
                  public: {form: public-satisfaction, weight: 0.4, quorum: 20}
                """
        )
        #expect(spec.opensAt == Date(timeIntervalSince1970: 1_796_086_800))  // 2026-12-01 01:00 UTC
        #expect(ChinaTime.format(try #require(spec.closesAt)) == "2026-12-15 18:00")
        // Beijing time, single-digit months and hours padded, and the summer time China kept until 1991.
        #expect(ChinaTime.format(Date(timeIntervalSince1970: 1_767_200_340)) == "2026-01-01 00:59")
        #expect(ChinaTime.format(Date(timeIntervalSince1970: 584_560_800)) == "1988-07-11 03:00")
        #expect(spec.branches == ["b01", "b02"])
        #expect(spec.configuration.groups.count == 2)
        #expect(spec.configuration.groups[.members]?.form == "member-integration")
        #expect(spec.configuration.groups[.members]?.quorum.share == 0.5)
        #expect(spec.configuration.groups[.public]?.quorum.minimum == 20)

        #expect(throws: RoundSpec.ParseError.self) { try RoundSpec.parse(yaml: "title: x\nyear: 2026\nopens: tomorrow\n") }
        // A quota as people write it; one third stays exact.
        #expect(try RoundSpec.parse(yaml: "title: x\nyear: 2026\ntop-grade-quota: 1/3\n").configuration.topGradeQuota == 1.0 / 3.0)
        #expect(try RoundSpec.parse(yaml: "title: x\nyear: 2026\ntop-grade-quota: 30%\n").configuration.topGradeQuota == 0.3)
        #expect(try RoundSpec.parse(yaml: "title: x\nyear: 2026\ntop-grade-quota: 0.25\n").configuration.topGradeQuota == 0.25)
        #expect(throws: RoundSpec.ParseError.self) { try RoundSpec.parse(yaml: "title: x\nyear: 2026\ntop-grade-quota: a third\n") }
        // The example in docs/rounds.md is a valid spec.
        let guide = try String(contentsOfFile: TestDatabaseServer.repositoryRoot + "/docs/rounds.md", encoding: .utf8)
        let example = try #require(guide.components(separatedBy: "```yaml\n").dropFirst().first?.components(separatedBy: "```").first)
        #expect(try RoundSpec.parse(yaml: example).configuration.topGradeQuota == 1.0 / 3.0)
        #expect(
            try RoundSpec.parse(yaml: example).configuration.integration
                == IntegrationSettings(performanceYear: 2026, partyWeight: 0.2, baselineBarsAwards: true, businessLine: 80, partyLine: 85)
        )
        // Integration settings as people write them, and named when wrong.
        let integration = try RoundSpec.parse(yaml: "title: x\nyear: 2026\nintegration: {party-weight: 25%, baseline-bars-awards: false}\n")
        #expect(integration.configuration.integration == IntegrationSettings(partyWeight: 0.25, baselineBarsAwards: false))
        #expect(try RoundSpec.parse(yaml: "title: x\nyear: 2026\n").configuration.integration == nil)
        do {
            _ = try RoundSpec.parse(yaml: "title: x\nyear: 2026\nintegration: {party-weight: 2, performance-year: 1990, party-line: -1}\n")
            Issue.record("a share of 2 was accepted")
        } catch {
            #expect(
                error.problems.map { $0.text(.chinese) } == ["绩效年度须在 2000 至 2100 之间", "党建占综合得分的比重须在 0 至 1 之间", "象限分界线须在 0 至 100 之间"]
            )
        }
        // A spec the parser accepted would leave these errors nil, and the checks fail.
        let backwards = #expect(throws: RoundSpec.ParseError.self) {
            try RoundSpec.parse(yaml: "title: x\nyear: 2026\nopens: 2026-12-02 09:00\ncloses: 2026-12-01 09:00\ngroups:\n  judges: {}\n")
        }
        let backwardsEnglish = backwards?.problems.map { $0.text(.english) } ?? []
        #expect(backwardsEnglish.contains("closes must be after opens"))
        #expect(backwards?.problems.map { $0.text(.chinese) }.contains("截止时间必须晚于开始时间") == true)
        #expect(backwardsEnglish.contains("unknown rater group 'judges' (organisation, members or public)"))
        // Each of the two problems alone is refused too, not only the pair.
        let backwardsOnly = #expect(throws: RoundSpec.ParseError.self) {
            try RoundSpec.parse(yaml: "title: x\nyear: 2026\nopens: 2026-12-02 09:00\ncloses: 2026-12-02 09:00\n")
        }
        #expect(backwardsOnly?.problems.map { $0.text(.english) } == ["closes must be after opens"])
        let oneMinute = try RoundSpec.parse(yaml: "title: x\nyear: 2026\nopens: 2026-12-02 09:00\ncloses: 2026-12-02 09:01\n")
        #expect(try #require(oneMinute.closesAt).timeIntervalSince(try #require(oneMinute.opensAt)) == 60)
        let judgesOnly = #expect(throws: RoundSpec.ParseError.self) {
            try RoundSpec.parse(yaml: "title: x\nyear: 2026\ngroups:\n  judges: {}\n  members: {}\n")
        }
        #expect(judgesOnly?.problems.map { $0.text(.english) } == ["unknown rater group 'judges' (organisation, members or public)"])
        let untitled = #expect(throws: RoundSpec.ParseError.self) { try RoundSpec.parse(yaml: "year: 2026\n") }
        #expect(untitled?.problems.map { $0.text(.english) } == ["missing 'title'"])
        #expect(untitled?.problems.map { $0.text(.chinese) } == ["文件格式有误：missing 'title'"])
        // A title of spaces is no title either.
        let blank = #expect(throws: RoundSpec.ParseError.self) { try RoundSpec.parse(yaml: "title: '  '\nyear: 2026\n") }
        #expect(blank?.problems.map { $0.text(.english) } == ["title is empty"])
    }

    @Test func openingFreezesFormsAndConfigurationAndClosingHappensOnce() async throws {
        try await RoundFixture.with { fixture in
            let id = try await fixture.rounds.create(RoundSpec(title: "测试轮次", year: 2026), actor: .commandLine, logger: fixture.logger)
            #expect(try await fixture.status(id) == "draft")
            await #expect(throws: RoundError.noClosingTime) {
                try await fixture.rounds.open(id, actor: .commandLine, logger: fixture.logger)
            }
            // A closing time that passed while the round waited as a draft: said, not a
            // constraint's error, and the round stays a draft.
            try await fixture.database.query("UPDATE rounds SET closes_at = now() - interval '1 second' WHERE id = \(id)")
            await #expect(throws: RoundError.closingTimePassed) {
                try await fixture.rounds.open(id, actor: .commandLine, logger: fixture.logger)
            }
            #expect(try await fixture.status(id) == "draft")
            try await fixture.rounds.extend(id, closesAt: .now + 7 * 86400, actor: .commandLine, logger: fixture.logger)
            #expect(try await fixture.database.query("SELECT count(*)::int FROM round_branches WHERE round_id = \(id)").first!.decode(Int.self) == 2)
            #expect(
                try await fixture.database.query("SELECT count(*)::int FROM round_groups WHERE round_id = \(id) AND form_version_id IS NULL").first!
                    .decode(Int.self) == 3
            )

            try await fixture.rounds.open(id, actor: .commandLine, logger: fixture.logger)
            let round = try #require(try await fixture.rounds.round(id))
            #expect(round.status == .open)
            #expect(round.configHash?.count == 64)
            #expect(
                try await fixture.database.query("SELECT count(*)::int FROM round_groups WHERE round_id = \(id) AND form_version_id IS NOT NULL")
                    .first!.decode(Int.self) == 3
            )
            #expect(
                try await fixture.database.query(
                    "SELECT eligible_members FROM round_branches rb JOIN branches b ON b.id = rb.branch_id WHERE b.code = 'b01' AND rb.round_id = \(id)"
                ).first!.decode(Int.self) == 6
            )
            await #expect(throws: RoundError.wrongStatus(current: .open, action: .opened)) {
                try await fixture.rounds.open(id, actor: .commandLine, logger: fixture.logger)
            }

            #expect(try await fixture.rounds.close(id, actor: .commandLine, logger: fixture.logger))
            #expect(try await fixture.status(id) == "closed")
            let snapshot = try await fixture.database.query("SELECT results::text FROM result_snapshots WHERE round_id = \(id) AND kind = 'final'")
                .map { try $0.decode(String.self) }
            #expect(snapshot.count == 1)
            #expect(snapshot.first?.contains("\"code\": \"b01\"") == true)
            #expect(snapshot.first?.contains("\"methodVersion\": \"v1\"") == true)
            await #expect(throws: RoundError.wrongStatus(current: .closed, action: .closed)) {
                try await fixture.rounds.close(id, actor: .commandLine, logger: fixture.logger)
            }
            await #expect(throws: RoundError.reasonRequired) {
                try await fixture.rounds.reopen(id, closesAt: .now + 3600, reason: "  ", actor: .commandLine, logger: fixture.logger)
            }
            try await fixture.rounds.reopen(id, closesAt: .now + 3600, reason: "补充测评", actor: .commandLine, logger: fixture.logger)
            #expect(try await fixture.status(id) == "open")
            #expect(
                try await fixture.database.query("SELECT count(*)::int FROM result_snapshots WHERE round_id = \(id)").first!.decode(Int.self) == 0
            )
            let reason = try await fixture.database.query("SELECT details->>'reason' FROM audit_log WHERE action = 'round.reopened'").first!.decode(
                String.self
            )
            #expect(reason == "补充测评")
        }
    }

    @Test func creationRefusesUnknownBranchesAndWrongForms() async throws {
        try await RoundFixture.with { fixture in
            await #expect(throws: RoundError.unknownBranches(["b99"])) {
                _ = try await fixture.rounds.create(
                    RoundSpec(title: "x", year: 2026, branches: ["b01", "b99"]),
                    actor: .commandLine,
                    logger: fixture.logger
                )
            }
            let configuration: RoundConfiguration = {
                var configuration = RoundConfiguration()
                configuration.groups[.organisation]?.form = "member-integration"  // a survey cannot be the score sheet
                return configuration
            }()
            await #expect(throws: RoundError.formNotAvailable("member-integration")) {
                _ = try await fixture.rounds.create(
                    RoundSpec(title: "x", year: 2026, configuration: configuration),
                    actor: .commandLine,
                    logger: fixture.logger
                )
            }
            let rounds = try await fixture.database.query("SELECT count(*)::int FROM rounds").first!.decode(Int.self)
            #expect(rounds == 0)
        }
    }

    @Test func dueRoundsOpenAndCloseExactlyOnceWithInstancesRacing() async throws {
        try await RoundFixture.with { fixture in
            let id = try await fixture.rounds.create(
                RoundSpec(title: "定时", year: 2026, opensAt: .now - 60, closesAt: .now + 3600),
                actor: .commandLine,
                logger: fixture.logger
            )
            #expect(try await fixture.status(id) == "scheduled")
            let rounds = fixture.rounds
            let logger = fixture.logger
            let openings = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 { group.addTask { try await rounds.runDue(logger: logger).opened.count } }
                return try await group.reduce(0, +)
            }
            #expect(openings == 1)
            #expect(try await fixture.status(id) == "open")

            try await fixture.database.query("UPDATE rounds SET closes_at = now() - interval '1 second' WHERE id = \(id)")
            let closings = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 { group.addTask { try await rounds.runDue(logger: logger).closed.count } }
                return try await group.reduce(0, +)
            }
            #expect(closings == 1)
            #expect(try await fixture.status(id) == "closed")
            #expect(
                try await fixture.database.query("SELECT count(*)::int FROM result_snapshots WHERE round_id = \(id)").first!.decode(Int.self) == 1
            )
            #expect(
                try await fixture.database.query("SELECT count(*)::int FROM audit_log WHERE action = 'round.closed'").first!.decode(Int.self) == 1
            )
        }
    }

    @Test func twoServersOnOneDatabaseCloseTheRoundOnTimeAndOnce() async throws {
        let url = try await TestDatabaseServer.shared.makeMigratedDatabase()
        // Two live servers, each with its own scheduler, on the same database.
        try await TestApp.run(database: url, configureEnvironment: { $0.schedulerInterval = .milliseconds(200) }) { client, harness in
            try await TestApp.run(database: url, configureEnvironment: { $0.schedulerInterval = .milliseconds(200) }) { _, _ in
                let (round, branch) = try await harness.openRound()
                let link = try await harness.memberLinks(round: round, branch: branch)[0]
                var browser = Browser(client)
                let key = try #require(try await browser.get(link).hidden("_key"))
                try await harness.database.query("UPDATE rounds SET closes_at = now() + interval '1 second' WHERE id = \(round)")
                var status = "open"
                for _ in 0..<50 where status != "closed" {
                    try await Task.sleep(for: .milliseconds(200))
                    status = try await harness.database.query("SELECT status FROM rounds WHERE id = \(round)").first!.decode(String.self)
                }
                #expect(status == "closed")
                let lag = try await harness.database.query("SELECT extract(epoch FROM closed_at - closes_at)::float8 FROM rounds WHERE id = \(round)")
                    .first!.decode(Double.self)
                #expect(lag >= 0 && lag < 5, "closed \(lag) s after its time")
                #expect(try await harness.count("SELECT count(*)::int FROM result_snapshots") == 1)

                // The late submission is refused with the closing time, and nothing is stored.
                try await Task.sleep(for: .milliseconds(2100))  // past the two-second lookup cache
                let late = try await browser.post(link, form: try memberAnswers() + [("_key", key)])
                #expect(late.status == .forbidden)
                #expect(late.text.contains("（北京时间）结束"))
                #expect(try await harness.count("SELECT count(*)::int FROM responses") + harness.count("SELECT count(*)::int FROM ballot_box") == 0)
            }
        }
        await TestDatabaseServer.shared.drop(url)
    }

    @Test func administratorsFollowAndCloseARoundInTheAdminArea() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("admin", password: "rounds in the browser")
            try await harness.database.query("INSERT INTO branches (code, name) VALUES ('b01', '办公室党支部')")
            try await harness.database.query(
                "INSERT INTO members (staff_number, name, branch_id) SELECT 'm' || g, '党员', (SELECT id FROM branches WHERE code = 'b01') FROM generate_series(1, 4) g"
            )
            let catalog = try FormCatalog(directory: TestDatabaseServer.repositoryRoot + "/forms")
            let rounds = RoundRepository(
                database: harness.database,
                forms: catalog,
                frozenForms: FormRepository(database: harness.database),
                seal: TestApp.ballotSeal
            )
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let id = try await rounds.create(RoundSpec(title: "2026 年度考评", year: 2026), actor: .commandLine, logger: logger)
            let path = "/admin/rounds/\(id.uuidString.lowercased())"

            var browser = Browser(client)
            _ = try await browser.post("/admin/login", form: [("username", "admin"), ("password", "rounds in the browser")])
            let list = try await browser.get("/admin/rounds")
            #expect(list.text.contains("<a href=\"\(path)\">2026 年度考评</a></td><td>草稿</td>"))

            // Without a closing time the round would never end: it cannot be opened.
            let noClosing = try await browser.get(path + "/open")
            #expect(try await browser.get(try #require(noClosing.location)).text.contains("这个轮次没有截止时间"))
            _ = try await browser.post(path + "/extend", form: [("closes", "2099-12-10 18:00")])
            // The button leads to a page that says what opening does; a bare post is sent there.
            #expect(try await browser.post(path + "/open", form: []).location == path + "/open")
            #expect(try await harness.count("SELECT count(*)::int FROM rounds WHERE status = 'open'") == 0)
            let confirmOpen = try await browser.get(path + "/open")
            #expect(confirmOpen.status == .ok)
            #expect(confirmOpen.text.contains("确认立即开始"))
            #expect(confirmOpen.text.contains("轮次将于 2099-12-10 18:00（北京时间）自动结束。"))
            #expect(confirmOpen.text.contains("name=\"confirmed\" value=\"yes\""))
            #expect(try await browser.post(path + "/open", form: [("confirmed", "yes")]).location == path)
            let page = try await browser.get(path)
            #expect(page.text.contains("进行中"))
            #expect(
                page.text.contains(
                    "<td data-label=\"支部编码\">b01</td><td data-label=\"支部名称\">办公室党支部</td><td class=\"num\" data-label=\"应评党员\">4</td><td class=\"num\" data-label=\"党员已评\">0</td><td class=\"num\" data-label=\"参评率\">0%</td>"
                )
            )
            #expect(page.text.contains("票数核对：各支部党员答卷数均未超过应评人数。"))

            let badTime = try await browser.post(path + "/extend", form: [("closes", "next week")])
            #expect(try await browser.get(try #require(badTime.location)).text.contains("请按“2026-12-20 18:00”的格式"))
            _ = try await browser.post(path + "/extend", form: [("closes", "2099-12-20 18:00")])
            #expect(try await browser.get(path).text.contains("截止：2099-12-20 18:00"))

            let confirmClose = try await browser.get(path + "/close")
            #expect(confirmClose.text.contains("确认立即结束"))
            #expect(confirmClose.text.contains("尚未作答的 0 名党员将无法再作答，原定截止时间 2099-12-20 18:00 作废"))
            #expect(try await browser.post(path + "/close", form: []).location == path + "/close")
            #expect(try await browser.get(path).text.contains("进行中"))
            #expect(try await browser.post(path + "/close", form: [("confirmed", "yes")]).location == path)
            #expect(try await browser.get(path).text.contains("已结束"))
            let again = try await browser.post(path + "/close", form: [("confirmed", "yes")])
            #expect(try await browser.get(try #require(again.location)).text.contains("已结束的轮次不能结束"))
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'round.closed' AND actor_name = 'admin'") == 1)

            // Reopening needs a new closing time and a reason, which the audit log keeps.
            let noReason = try await browser.post(path + "/reopen", form: [("closes", "2099-12-31 18:00"), ("reason", " ")])
            #expect(try await browser.get(try #require(noReason.location)).text.contains("重新开放已结束的轮次必须填写原因"))
            #expect(try await browser.get(path).text.contains("action=\"\(path)/reopen\""))
            #expect(try await browser.post(path + "/reopen", form: [("closes", "2099-12-31 18:00"), ("reason", "两个支部的党员因出差未能参评")]).location == path)
            let reopened = try await browser.get(path)
            #expect(reopened.text.contains("进行中"))
            #expect(!reopened.text.contains("action=\"\(path)/reopen\""))
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'round.reopened' AND actor_name = 'admin' AND details->>'reason' = '两个支部的党员因出差未能参评'"
                ) == 1
            )
        }
    }

    @Test func administratorsCreateARoundOnAPageCheckedLikeASpecFile() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("admin", password: "a round on a page")
            try await harness.database.query("INSERT INTO branches (code, name) VALUES ('b01', '办公室党支部'), ('b02', '财务处党支部'), ('b03', '人事处党支部')")
            var browser = Browser(client)
            _ = try await browser.post("/admin/login", form: [("username", "admin"), ("password", "a round on a page")])
            #expect(try await browser.get("/admin/rounds").text.contains("href=\"/admin/rounds/new\""))
            let blank = try await browser.get("/admin/rounds/new")
            #expect(blank.status == .ok)
            // The spec's defaults are filled in.
            #expect(blank.text.contains("name=\"members_weight\" type=\"text\" inputmode=\"decimal\" value=\"0.3\""))
            #expect(blank.text.contains("name=\"grade0_name\" type=\"text\" maxlength=\"20\" value=\"优秀\""))
            #expect(blank.text.contains("<option value=\"organisation-sheet\" selected>"))

            var fields: [(String, String)] = [
                ("title", "2026 年度党支部考评"), ("year", "2026"), ("opens", "2099-12-01T09:00"), ("closes", "2099-12-15T18:00"),
                ("organisation_use", "1"), ("organisation_form", "organisation-sheet"), ("organisation_weight", "0.6"), ("organisation_quorum", "1"),
                ("organisation_quorum_share", "0"), ("organisation_trim", "0"), ("organisation_trim_from", "0"),
                ("members_use", "1"), ("members_form", "member-integration"), ("members_weight", "0.4"), ("members_quorum", "3"),
                ("members_quorum_share", "50%"), ("members_trim", "1"), ("members_trim_from", "7"),
                ("public_form", "public-satisfaction"), ("public_weight", "0.2"),
                ("grade0_name", "好"), ("grade0_min", "85"), ("grade1_name", "中"), ("grade1_min", "90"), ("grade2_name", "差"), ("grade2_min", "0"),
                ("veto_grade", "中"), ("bonus_cap", "5"), ("top_grade_quota", ""), ("anonymity_threshold", "2"), ("missing_groups", "require"),
                ("public_cap", ""), ("branches", "codes"), ("branch_codes", "b01，b03"),
            ]
            let wrong = try await browser.post("/admin/rounds", form: fields)
            #expect(wrong.status == .unprocessableContent)
            #expect(wrong.text.contains("轮次未创建，请修改以下问题："))
            #expect(wrong.text.contains("等次必须从高到低排列：好（85.0）不高于中（90.0）"))
            #expect(wrong.text.contains("匿名阈值不能小于 3，否则可能识别出个人"))
            // What was typed is kept, including the unticked public group.
            #expect(wrong.text.contains("value=\"2026 年度党支部考评\""))
            #expect(wrong.text.contains("name=\"public_use\" value=\"1\">"))
            #expect(wrong.text.contains("value=\"2099-12-15T18:00\""))
            #expect(wrong.text.contains(">b01，b03</textarea>"))
            #expect(try await harness.count("SELECT count(*)::int FROM rounds") == 0)

            let notANumber = try await browser.post("/admin/rounds", form: fields.map { $0.0 == "members_weight" ? ($0.0, "三成") : $0 })
            #expect(notANumber.text.contains("党员评价权重：“三成”不是数字"))

            fields = fields.map { field in
                switch field.0 {
                case "grade1_min": ("grade1_min", "70")
                case "anonymity_threshold": ("anonymity_threshold", "6")
                default: field
                }
            }
            // A 2026 round closing in 2099 is a slip the page asks about before anything is stored.
            let asked = try await browser.post("/admin/rounds", form: fields)
            #expect(asked.status == .unprocessableContent)
            #expect(asked.text.contains("这是 2026 年度的考评，截止时间却在 2099 年"))
            #expect(asked.text.contains("name=\"accept_warnings\""))
            #expect(try await harness.count("SELECT count(*)::int FROM rounds") == 0)
            let created = try await browser.post("/admin/rounds", form: fields + [("accept_warnings", "1")])
            #expect(created.status == .seeOther)
            let id = try await harness.database.query("SELECT id FROM rounds").first!.decode(UUID.self)
            #expect(created.location == "/admin/rounds/\(id.uuidString.lowercased())")
            let row = try await harness.database.query(
                """
                SELECT status, to_char(opens_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), config->>'anonymityThreshold', config->>'missingGroups',
                       config->'groups'->'members'->'quorum'->>'share', config->'groups' ? 'public', (SELECT string_agg(b.code, ',' ORDER BY b.code)
                       FROM round_branches rb JOIN branches b ON b.id = rb.branch_id WHERE rb.round_id = rounds.id)
                FROM rounds
                """
            ).first!
            let (status, opensUTC, threshold, missing, share, hasPublic, codes) = try row.decode(
                (String, String, String, String, String, Bool, String).self
            )
            #expect(status == "scheduled")
            #expect(opensUTC == "2099-12-01 01:00")  // 09:00 in Beijing
            #expect(threshold == "6")
            #expect(missing == "require")
            #expect(share == "0.5")
            #expect(!hasPublic)
            #expect(codes == "b01,b03")
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'round.created' AND actor_name = 'admin'") == 1)

            let unknown = try await browser.post("/admin/rounds", form: fields.map { $0.0 == "branch_codes" ? ($0.0, "b01 b09") : $0 })
            #expect(unknown.status == .unprocessableContent)
            #expect(unknown.text.contains("没有编码为“b09”的支部"))
        }
    }
}
