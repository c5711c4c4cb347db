import Foundation
import Logging
import PostgresNIO
import Testing

@testable import KaopingServer

/// What the `kaoping` program tells an operator, down to the counts: created apart from updated,
/// the round that `close-due` closed, a results workbook's cells, and lists given as workbooks.
@Suite("Command line, pinned", .timeLimit(.minutes(3)))
struct PinnedCommandLineTests {
    typealias Program = CommandLineTests.Program
    static let english = ["LANG": "en_US.UTF-8", "LC_ALL": "en_US.UTF-8"]

    static func fixture(_ name: String) -> String {
        TestDatabaseServer.repositoryRoot + "/Tests/KaopingServerTests/Fixtures/" + name
    }

    @Test func importsCountWhatTheyCreatedApartFromWhatTheyUpdated() async throws {
        try await CommandLineTests.withProgram { kaoping in
            let first = try kaoping.write("branches.csv", "支部编码,支部名称\nb01,办公室党支部\nb02,财务处党支部\n")
            #expect(
                try await kaoping.run(["import", "branches", first], environment: Self.english).out
                    == "branches: 2 created, 0 updated (read as UTF-8)\n"
            )
            // b02 renamed, b03 new, b01 left out of the file (it stays as it was).
            let second = try kaoping.write("branches2.csv", "支部编码,支部名称\nb02,财务审计处党支部\nb03,人事处党支部\n")
            #expect(
                try await kaoping.run(["import", "branches", second], environment: Self.english).out
                    == "branches: 1 created, 1 updated (read as UTF-8)\n"
            )
            // In Chinese when the terminal is; the same file again creates nothing.
            #expect(
                try await kaoping.run(["import", "branches", second], environment: ["LANG": "zh_CN.UTF-8", "LC_ALL": "zh_CN.UTF-8"]).out
                    == "支部：新增 0 个，更新 2 个（文件编码 UTF-8）\n"
            )

            let members = try kaoping.write("members.csv", "工号,姓名,支部编码\n1001,张伟,b01\n1002,李娜,b01\n1003,王强,b02\n")
            #expect(
                try await kaoping.run(["import", "members", members], environment: Self.english).out
                    == "members: 3 created, 0 updated (read as UTF-8)\n"
            )
            let moved = try kaoping.write("members2.csv", "\u{FEFF}工号,姓名,支部编码\r\n1002,李娜,b03\r\n1004,赵敏,b03\r\n1005,钱进,b02\r\n")
            #expect(
                try await kaoping.run(["import", "members", moved], environment: Self.english).out
                    == "members: 2 created, 1 updated (read as UTF-8 (BOM))\n"
            )

            let units = try kaoping.write("units.csv", "单位编码,单位名称,支部编码\nu1,办公室,b01\nu2,财务处,b02\n")
            #expect(try await kaoping.run(["import", "units", units], environment: Self.english).out.contains("units: 2 created, 0 updated"))
            let units2 = try kaoping.write("units2.csv", "单位编码,单位名称,支部编码,人数\nu2,财务审计处,b02,12\nu3,人事处,b03,8\nu4,档案室,b03,3\n")
            #expect(try await kaoping.run(["import", "units", units2], environment: Self.english).out.contains("units: 2 created, 1 updated"))

            try await kaoping.withDatabase { database in
                var branches: [String: String] = [:]
                for result in try await database.query("SELECT code, name FROM branches") {
                    let (code, name) = try result.decode((String, String).self)

                    branches[code] = name
                }
                #expect(branches == ["b01": "办公室党支部", "b02": "财务审计处党支部", "b03": "人事处党支部"])
                var members: [String: String] = [:]
                let rows = try await database.query("SELECT m.staff_number, b.code FROM members m JOIN branches b ON b.id = m.branch_id")
                for result in rows {
                    let (staff, branch) = try result.decode((String, String).self)
                    members[staff] = branch
                }
                #expect(members == ["1001": "b01", "1002": "b03", "1003": "b02", "1004": "b03", "1005": "b02"])
                // The audit log keeps the same two counts for each import.
                var audited: [String] = []
                let audit = try await database.query(
                    "SELECT details->>'created', details->>'updated' FROM audit_log WHERE action = 'org.import.members' ORDER BY id"
                )
                for result in audit {
                    let (created, updated) = try result.decode((String, String).self)
                    audited.append("\(created)/\(updated)")
                }
                #expect(audited == ["3/0", "2/1"])
            }
        }
    }

    @Test func closeDueOpensAndClosesExactlyTheRoundsThatAreDue() async throws {
        try await CommandLineTests.withProgram { kaoping in
            try await kaoping.run(["import", "branches", try kaoping.write("branches.csv", "支部编码,支部名称\nb01,办公室党支部\n")])
            func create(_ title: String, _ times: String) async throws -> String {
                let spec = try kaoping.write("\(title).yaml", "title: \(title)\nyear: 2026\n\(times)")
                return try await kaoping.run(["round", "create", "--accept-warnings", "--spec", spec]).out.trimmingCharacters(
                    in: .whitespacesAndNewlines
                )
            }
            let due = try await create("到期", "closes: 2099-12-01 18:00\n")
            let running = try await create("未到期", "closes: 2099-12-01 18:00\n")
            let scheduled = try await create("待开始", "opens: 2099-11-01 09:00\ncloses: 2099-12-01 18:00\n")
            let later = try await create("以后开始", "opens: 2099-11-01 09:00\ncloses: 2099-12-01 18:00\n")
            try await kaoping.run(["round", "open", due])
            try await kaoping.run(["round", "open", running])
            #expect(try await kaoping.run(["close-due"]).out == "nothing due\n")

            // One round past its closing time, one scheduled round past its opening time.
            try await kaoping.withDatabase { database in
                try await database.query(
                    "UPDATE rounds SET opens_at = now() - interval '1 hour', closes_at = now() - interval '1 minute' WHERE id = \(UUID(uuidString: due)!)"
                )
                try await database.query("UPDATE rounds SET opens_at = now() - interval '1 minute' WHERE id = \(UUID(uuidString: scheduled)!)")
            }
            #expect(try await kaoping.run(["close-due"]).out == "opened \(scheduled.lowercased())\nclosed \(due.lowercased())\n")
            #expect(try await kaoping.run(["close-due"]).out == "nothing due\n")

            try await kaoping.withDatabase { database in
                var statuses: [String: String] = [:]
                for result in try await database.query("SELECT id, status FROM rounds") {
                    let (id, status) = try result.decode((UUID, String).self)

                    statuses[id.uuidString.lowercased()] = status
                }
                #expect(
                    statuses == [
                        due.lowercased(): "closed", running.lowercased(): "open", scheduled.lowercased(): "open", later.lowercased(): "scheduled",
                    ]
                )
                // The closed round has its final results, once; no other round has any.
                var snapshots: [String] = []
                for result in try await database.query("SELECT round_id, kind FROM result_snapshots") {
                    let (id, kind) = try result.decode((UUID, String).self)

                    snapshots.append("\(id.uuidString.lowercased()) \(kind)")
                }
                #expect(snapshots == ["\(due.lowercased()) final"])
            }
        }
    }

    /// The results workbook written by `kaoping export results --format xlsx`, opened again:
    /// its sheets, and each branch's figures in the columns their headers name.
    @Test func resultsWorkbookFromTheCommandLineHoldsTheFigures() async throws {
        try await CommandLineTests.withProgram { kaoping in
            try await kaoping.run(["import", "branches", try kaoping.write("branches.csv", "支部编码,支部名称\nb01,办公室党支部\nb02,财务处党支部\n")])
            var members = "工号,姓名,支部编码\n"
            for index in 1...6 { members += "10\(index),甲\(index),b01\n" }
            for index in 1...4 { members += "20\(index),乙\(index),b02\n" }
            try await kaoping.run(["import", "members", try kaoping.write("members.csv", members)])
            let spec = try kaoping.write("round.yaml", "title: 导出轮次\nyear: 2026\ncloses: 2099-12-01 18:00\n")
            let round = try await kaoping.run(["round", "create", "--accept-warnings", "--spec", spec]).out.trimmingCharacters(
                in: .whitespacesAndNewlines
            )
            try await kaoping.run(["round", "open", round])
            // b01: five members, mean (95 + 90 + 85 + 80 + 70) / 5 = 84; b02: four, (60 + 70 + 80 + 94) / 4 = 76.
            try await kaoping.withDatabase { database in
                for (code, scores) in [("b01", [95, 90, 85, 80, 70]), ("b02", [60, 70, 80, 94])] {
                    try await database.query(
                        PostgresQuery(
                            unsafeSQL: """
                                INSERT INTO responses (round_id, branch_id, rater_group, form_version_id, score, submitted_on)
                                SELECT r.round_id, r.branch_id, 'members', g.form_version_id, s, current_date
                                FROM round_branches r JOIN branches b ON b.id = r.branch_id
                                JOIN round_groups g ON g.round_id = r.round_id AND g.rater_group = 'members',
                                     unnest(ARRAY[\(scores.map(String.init).joined(separator: ","))]::float8[]) s
                                WHERE r.round_id = '\(round.lowercased())' AND b.code = '\(code)'
                                """
                        )
                    )
                }
            }
            try await kaoping.run(["round", "close", round])
            let path = kaoping.directory + "/导出.xlsx"
            #expect(try await kaoping.run(["export", "results", round, "--format", "xlsx", "--out", path]).out.isEmpty)
            let sheets = try XLSXReader.sheets(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            #expect(Array(sheets.map(\.name).prefix(5)) == ["汇总", "各主体得分", "维度得分", "组织评价表", "意见"])

            let summary = try #require(sheets.first)
            let header = try #require(summary.rows.first?.cells)
            func column(_ name: String) throws -> Int { try #require(header.firstIndex(of: name), "no column \(name)") }
            var byCode: [String: [String]] = [:]
            for row in summary.rows.dropFirst() { byCode[row.cells[try column("支部编码")]] = row.cells }
            #expect(byCode.keys.sorted() == ["b01", "b02"])
            let b01 = try #require(byCode["b01"])
            let b02 = try #require(byCode["b02"])
            let (rank, score, n, combined) = (try column("名次"), try column("党员评价得分"), try column("党员评价有效份数"), try column("综合得分"))
            #expect(b01[rank] == "1" && b02[rank] == "2")
            #expect(b01[score] == "84" && b02[score] == "76")
            #expect(b01[n] == "5" && b02[n] == "4")
            // Only the members answered: the combined score is theirs.
            #expect(b01[combined] == "84" && b02[combined] == "76")
            #expect(summary.rows.map(\.number) == [1, 2, 3])

            // The group sheet: one line per branch and group that has a score.
            let groups = sheets[1]
            let groupHeader = try #require(groups.rows.first?.cells)
            let groupColumn = try #require(groupHeader.firstIndex(of: "评价主体"))
            let memberLines = groups.rows.dropFirst().filter { $0.cells[groupColumn] == "党员评价" }
            #expect(memberLines.count == 2)
            let scoreColumn = try #require(groupHeader.firstIndex(of: "得分"))
            #expect(
                Dictionary(memberLines.map { ($0.cells[0], $0.cells[scoreColumn]) }, uniquingKeysWith: { first, _ in first }) == [
                    "b01": "84", "b02": "76",
                ]
            )

            // Without --out a workbook has nowhere to go.
            #expect(
                try await kaoping.spawn(["export", "results", round, "--format", "xlsx", "--out", "-"], expect: 2).err.contains(
                    "an xlsx workbook needs --out FILE"
                )
            )
        }
    }

    /// `kaoping import` takes a workbook as it takes a CSV file: phonetic guides left out,
    /// inline strings and leading zeros kept, bad rows named at the line Excel shows.
    @Test func importTakesExcelWorkbooks() async throws {
        try await CommandLineTests.withProgram { kaoping in
            // Members before their branches: both rows refused, by Excel's row numbers (row 3 is blank).
            let refused = try await kaoping.run(["import", "members", Self.fixture("members-inline.xlsx")], expect: 1, environment: Self.english)
            #expect(refused.err.contains("members-inline.xlsx: line 2: "))
            #expect(refused.err.contains("members-inline.xlsx: line 4: "))
            #expect(!refused.err.contains("line 3"))
            #expect(refused.err.contains("nothing was imported"))

            #expect(
                try await kaoping.run(["import", "branches", Self.fixture("branches-phonetic.xlsx")], environment: Self.english).out
                    == "branches: 2 created, 0 updated (read as Excel (.xlsx))\n"
            )
            #expect(
                try await kaoping.run(["import", "members", Self.fixture("members-inline.xlsx")], environment: Self.english).out
                    == "members: 2 created, 0 updated (read as Excel (.xlsx))\n"
            )
            try await kaoping.withDatabase { database in
                var branches: [String: [String]] = [:]
                let rows = try await database.query(
                    """
                    SELECT b.code, b.name, coalesce(o.name, ''), coalesce(b.secretary_name, '')
                    FROM branches b LEFT JOIN organisations o ON o.id = b.organisation_id
                    """
                )
                for result in rows {
                    let (code, name, parent, secretary) = try result.decode((String, String, String, String).self)

                    branches[code] = [name, parent, secretary]
                }
                #expect(branches == ["b01": ["办公室党支部", "机关党委", "王芳"], "b02": ["财务处党支部", "机关党委", ""]])
                var members: [String: [String]] = [:]
                let people = try await database.query(
                    "SELECT m.staff_number, m.name, b.code, coalesce(m.phone, '') FROM members m JOIN branches b ON b.id = m.branch_id"
                )
                for result in people {
                    let (staff, name, branch, phone) = try result.decode((String, String, String, String).self)

                    members[staff] = [name, branch, phone]
                }
                #expect(members == ["00123": ["李华", "b01", "13800138000"], "00456": ["张伟", "b02", ""]])
            }
        }
    }
}
