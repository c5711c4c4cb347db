import Foundation
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

@testable import KaopingAggregation
@testable import KaopingServer

/// What a committee reads: items by their labels (codes only in columns of their own), ranks
/// that do not flatter the bottom, cautions that say what holds, grades that name their scale,
/// and pages that send an office to nothing it cannot open.
@Suite("Words and figures a committee reads", .timeLimit(.minutes(2)))
struct WordsAndFiguresTests {
    /// A closed round of branches c01, c02 … with the given party-building combined scores (rank
    /// by them, best first), and one business unit each (u01 … of the same number) with the given
    /// business scores and grades in the round's year, 2026.
    static func closedRound(
        _ harness: TestHarness,
        party: [Double],
        business: [Double],
        grades: [String?] = []
    ) async throws -> UUID {
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        let database = harness.database
        let codes = party.indices.map { String(format: "c%02d", $0 + 1) }
        try await database.query(
            "INSERT INTO branches (code, name) SELECT c, c || '党支部' FROM unnest(\(codes)) AS c"
        )
        let rounds = try harness.roundRepository()
        let id = try await rounds.create(RoundSpec(title: "2026 年度支部考评", year: 2026, closesAt: .now + 86400), actor: .commandLine, logger: quiet)
        try await rounds.open(id, actor: .commandLine, logger: quiet)
        let ranks = party.map { score in 1 + party.filter { $0 > score }.count }
        let subjects = codes.indices.map { index in
            BranchHistoryTests.subject(codes[index], party[index], "一般", rank: ranks[index])
        }.sorted { ($0.rank ?? 0) < ($1.rank ?? 0) }
        let result = RoundResult(
            methodVersion: "v1",
            configurationHash: "h",
            subjects: subjects,
            diagnostics: Diagnostics(alpha: [:], lowAgreement: [])
        )
        try await database.query("UPDATE rounds SET status = 'closed', closed_at = now() WHERE id = \(id)")
        try await database.query(
            """
            INSERT INTO result_snapshots (round_id, kind, method_version, config_hash, results)
            VALUES (\(id), 'final', 'v1', 'h', \(try RoundRepository.json(result))::jsonb)
            """
        )
        let logger = quiet
        try await database.withConnection { connection in
            try await BranchHistoryRepository.record(roundID: id, connection: connection, logger: logger)
        }
        let performance = PerformanceRepository(database: database)
        _ = try await performance.importUnits(
            codes.indices.map { UnitRow(line: $0 + 2, code: "u" + codes[$0].dropFirst(), name: "处室\($0 + 1)", branchCode: codes[$0], headcount: 10) },
            logger: quiet
        )
        _ = try await performance.importResults(
            year: 2026,
            business.indices.map { index in
                PerformanceRow(
                    line: index + 2,
                    unitCode: "u" + codes[index].dropFirst(),
                    score: business[index],
                    grade: index < grades.count ? grades[index] : nil,
                    indicators: [:]
                )
            },
            source: "绩效办",
            fileName: "2026.csv",
            actor: .commandLine,
            logger: quiet
        )
        return id
    }

    static func admin(_ client: any TestClientProtocol, _ harness: TestHarness) async throws -> Browser {
        try await harness.createUser("admin", password: "words for the committee")
        var admin = Browser(client)
        _ = try await admin.signIn("admin", "words for the committee")
        return admin
    }

    // MARK: Labels, not codes

    /// The worked example's b02 failed 支部党员未发生严重违纪违法问题 (no_violations): the ranking's
    /// 说明 names it so, in English on the English page, and shows no code.
    @Test func theRankingNamesAFailedItemByItsLabelNotItsCode() async throws {
        try await TestApp.run { client, harness in
            let (round, _) = try await harness.workedExampleRound()
            let id = round.uuidString.lowercased()
            var admin = try await Self.admin(client, harness)
            let page = try await admin.get("/admin/rounds/\(id)/results").text
            #expect(page.contains("<span class=\"flag\">否决</span> 支部党员未发生严重违纪违法问题"))
            #expect(!page.contains("no_violations"))
            let english = try await admin.get("/admin/rounds/\(id)/results?lang=en").text
            #expect(english.contains("No serious violation of discipline or law by branch members"))
            #expect(!english.contains("no_violations"))
        }
    }

    /// The evaluators' sheets CSV: the 项目 column holds each item's label in the frozen score
    /// sheet, and the 项目代码 column beside it the code; no 项目 cell is a code.
    @Test func theSheetsCSVItemColumnHoldsLabelsWithTheCodesBeside() async throws {
        try await TestApp.run { client, harness in
            let (round, _) = try await harness.workedExampleRound()
            let id = round.uuidString.lowercased()
            var admin = try await Self.admin(client, harness)
            let lines = try await admin.get("/admin/rounds/\(id)/sheets.csv").text.dropFirst().components(separatedBy: "\r\n").filter { !$0.isEmpty }
            let header = lines[0].components(separatedBy: ",")
            let item = try #require(header.firstIndex(of: "项目"))
            #expect(header[item + 1] == "项目代码")
            let rows = lines.dropFirst().map { $0.components(separatedBy: ",") }
            // b01: two deductions, three bonus items, three baselines; b02: one deduction, three baselines.
            #expect(rows.count == 8 + 4)
            let labels = Dictionary(rows.map { ($0[item + 1], $0[item]) }, uniquingKeysWith: { first, _ in first })
            #expect(labels["org_life"] == "组织生活：按要求落实“三会一课”、主题党日、组织生活会和民主评议党员")
            #expect(labels["dues_collected"] == "按时足额收缴党费")
            #expect(labels["awards"] == "支部或党员获得上级党组织表彰")
            // Every item of the sheet is named, none by its code.
            #expect(rows.allSatisfy { !$0[item].isEmpty && $0[item] != $0[item + 1] && $0[item].unicodeScalars.contains { $0.value >= 0x4E00 } })
        }
    }

    // MARK: Ranks

    /// Twelve branches: the second-last reads "后 16.7%" (within the last 2 of 12), never "前 91.7%".
    @Test func theSecondLastOfTwelveReadsAsNearTheBottom() async throws {
        try await TestApp.run { client, harness in
            let party = (0..<12).map { 95 - Double($0) * 3 }
            _ = try await Self.closedRound(harness, party: party, business: party)
            var admin = try await Self.admin(client, harness)
            let secondLast = try await admin.get("/admin/org/branches/c11/history").text
            #expect(secondLast.contains(">第 11 / 12 名（后 16.7%）</td>"))
            #expect(!secondLast.contains("91.7%"))
            #expect(secondLast.contains(Language.chinese.text("history_rank_help")))
            #expect(try await admin.get("/admin/org/branches/c12/history").text.contains(">第 12 / 12 名（后 8.3%）</td>"))
            #expect(try await admin.get("/admin/org/branches/c06/history").text.contains(">第 6 / 12 名（前 50.0%）</td>"))
            #expect(try await admin.get("/admin/org/branches/c07/history").text.contains(">第 7 / 12 名（后 50.0%）</td>"))
            #expect(try await admin.get("/admin/org/branches/c02/history?lang=en").text.contains(">2 of 12 (top 16.7%)</td>"))
        }
    }

    // MARK: Cautions

    /// Business scores that follow the party-building ones but for the first two swapped: a
    /// rank correlation of 1 − 12 / (n(n² − 1)), 0.983 for 9 branches, whose interval excludes 0.
    static func nearlyAgreeing(_ n: Int) -> (party: [Double], business: [Double]) {
        let party = (0..<n).map { 95 - Double($0) * 2 }
        var business = party.map { $0 - 10 }
        business.swapAt(0, 1)
        return (party, business)
    }

    static let fewText = "少于 10 个，据此还不能判断两者是否一致"
    static let zeroText = "等级相关的 95% 置信区间包含 0"

    @Test(arguments: [9, 10, 12])
    func theTooFewBranchesCautionHoldsBelowTenOnly(branches: Int) async throws {
        try await TestApp.run { client, harness in
            let (party, business) = Self.nearlyAgreeing(branches)
            let round = try await Self.closedRound(harness, party: party, business: business)
            var admin = try await Self.admin(client, harness)
            let page = try await admin.get("/admin/rounds/\(round.uuidString.lowercased())/integration").text
            #expect(page.contains("斯皮尔曼等级相关 ρ <strong>0.98</strong>") || page.contains("斯皮尔曼等级相关 ρ <strong>0.99</strong>"))
            if branches < 10 {
                #expect(page.contains("提示：只有 \(branches) 个支部同时有党建和业务得分，" + Self.fewText))
            } else {
                #expect(!page.contains(Self.fewText) && !page.contains("少于 10"))
            }
            #expect(!page.contains(Self.zeroText))
        }
    }

    /// Twelve branches whose two ranks are unrelated (ρ = −0.02, interval −0.59 to 0.56): the
    /// caution says the interval includes 0, and not that there are fewer than 10 branches.
    @Test func twelveUnrelatedBranchesAreCautionedForTheIntervalOnly() async throws {
        try await TestApp.run { client, harness in
            let party = (0..<12).map { 95 - Double($0) * 2 }
            let businessRanks = [6, 12, 1, 9, 3, 7, 11, 2, 5, 10, 4, 8]
            let business = businessRanks.map { 100 - Double($0) * 3 }
            let round = try await Self.closedRound(harness, party: party, business: business)
            var admin = try await Self.admin(client, harness)
            let page = try await admin.get("/admin/rounds/\(round.uuidString.lowercased())/integration").text
            #expect(page.contains("斯皮尔曼等级相关 ρ <strong>-0.02</strong>"))
            #expect(page.contains("提示：" + Self.zeroText))
            #expect(!page.contains("少于 10"))
        }
    }

    // MARK: Grades and their scales

    /// A unit the performance office graded 合格 at 74.40 and a branch whose business score is
    /// the same 74.40: by the round's bands both are 一般, in the column that says so; the
    /// office's 合格 stays in its own column, where a branch has nothing.
    @Test func theSameBusinessScoreOnTheSameScaleGetsTheSameGrade() async throws {
        try await TestApp.run { client, harness in
            let round = try await Self.closedRound(harness, party: [92, 85], business: [74.4, 88], grades: ["合格", "优秀"])
            let id = round.uuidString.lowercased()
            var admin = try await Self.admin(client, harness)
            // (Each branch is named in the round's results as the fixture's subjects are: 财务处党支部.)
            let lines = try await admin.get("/admin/rounds/\(id)/integrated.csv").text.components(separatedBy: "\r\n")
            let header = lines[0].dropFirst().components(separatedBy: ",")
            #expect(Array(header[6...8]) == ["业务绩效得分", "业务绩效等次（绩效考评原等次）", "业务绩效等次（按本轮等次线）"])
            #expect(lines.contains { $0.hasPrefix("单位,u01,处室1,c01,财务处党支部,10,74.40,合格,一般,92.00,") })
            #expect(lines.contains { $0.hasPrefix("支部,c01,财务处党支部,c01,财务处党支部,10,74.40,,一般,92.00,") })
            // 88 is 良好 by the round's bands, whatever the office called it.
            #expect(lines.contains { $0.hasPrefix("单位,u02,处室2,c02,财务处党支部,10,88.00,优秀,良好,85.00,") })
            #expect(lines.contains { $0.hasPrefix("支部,c02,财务处党支部,c02,财务处党支部,10,88.00,,良好,85.00,") })
            let page = try await admin.get("/admin/rounds/\(id)/integrated").text
            #expect(page.contains(Language.chinese.text("integrated_grades_note")))
            #expect(page.contains(">业务绩效等次（按本轮等次线）</th>") && page.contains(">业务绩效等次（绩效考评原等次）</th>"))
        }
    }

    /// A sheet frozen before the two business grades had columns of their own kept a branch's
    /// band grade as its business grade: it is read into the band column.
    @Test func aSheetFrozenBeforeReadsItsBranchGradeAsTheBandGrade() throws {
        let json = """
            {"baselineBarsAwards":true,"branches":[{"awardsBarred":false,"branchCode":"b1","branchName":"甲","businessGrade":"一般",\
            "businessScore":74.4,"code":"b1","failedBaselines":[],"name":"甲"}],"partyWeight":0.2,"performanceYear":2025,\
            "units":[{"awardsBarred":false,"branchCode":"b1","branchName":"甲","businessGrade":"合格","businessScore":74.4,"code":"u1",\
            "failedBaselines":[],"name":"办公室"}]}
            """
        let sheet = try JSONDecoder().decode(IntegratedSheet.self, from: Data(json.utf8))
        #expect(sheet.branches[0].businessBandGrade == "一般" && sheet.branches[0].businessGrade == nil)
        #expect(sheet.units[0].businessGrade == "合格" && sheet.units[0].businessBandGrade == nil)
    }

    // MARK: Form versions

    // MARK: Nothing an office cannot use

    /// No admin page names a document, a form file or a command-line flag (a link's address may
    /// end in .yaml: the interface reference is served so).
    @Test func noAdminPageNamesADocumentAFileOrAFlag() async throws {
        try await TestApp.run { client, harness in
            let (round, _) = try await harness.workedExampleRound()
            let id = round.uuidString.lowercased()
            var admin = try await Self.admin(client, harness)
            let pages = [
                "/admin", "/admin/rounds", "/admin/rounds/new", "/admin/rounds/\(id)", "/admin/rounds/\(id)/results",
                "/admin/rounds/\(id)/results/b01", "/admin/rounds/\(id)/diagnostics", "/admin/rounds/\(id)/integration",
                "/admin/rounds/\(id)/integrated", "/admin/rounds/\(id)/watch", "/admin/org", "/admin/org/branches/b01",
                "/admin/org/branches/b01/history", "/admin/forms", "/admin/forms/member-integration", "/admin/tokens", "/admin/accounts",
            ]
            let address = try Regex(#"(href|src|action)="[^"]*""#)
            for path in pages {
                for language in ["zh", "en"] {
                    let reply = try await admin.get(path + "?lang=" + language)
                    #expect(reply.status == .ok, "\(path)")
                    let text = reply.text.replacing(address, with: "")
                    for named in ["docs/", ".yaml", ".md", "--public-url", "--spec", "--year", "kaoping import", "kaoping round"] {
                        #expect(!text.contains(named), "\(path)?lang=\(language) names \(named)")
                    }
                }
            }
        }
    }
}
