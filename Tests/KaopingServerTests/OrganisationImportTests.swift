import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import KaopingServer

@Suite("Organisation lists from CSV")
struct OrganisationCSVTests {
    let branchesText = "支部编码,支部名称,上级组织,支部书记\r\nb01,办公室党支部,机关党委,王芳\r\nb02,\"财务处党支部，含\"\"审计\"\"\",机关党委,\r\n\r\n"

    @Test func utf8WithAndWithoutBOMAndGB18030AllRead() throws {
        let plain = OrganisationCSV.branches(Array(branchesText.utf8))
        let bom = OrganisationCSV.branches([0xEF, 0xBB, 0xBF] + Array(branchesText.utf8))
        let gb = OrganisationCSV.branches(try #require(CSVText.encodeGB18030(branchesText)))
        #expect(plain.encoding == .utf8)
        #expect(bom.encoding == .utf8WithBOM)
        #expect(gb.encoding == .gb18030)
        for preview in [plain, bom, gb] {
            #expect(preview.canImport, "\(preview.problems)")
            #expect(preview.rows.map(\.code) == ["b01", "b02"])
            #expect(preview.rows[1].name == "财务处党支部，含\"审计\"")
            #expect(preview.rows[0].parent == "机关党委")
            #expect(preview.rows[1].secretary == nil)
        }
        // GB18030 bytes are not UTF-8: the detection is not a guess that happens to work.
        #expect(String(validating: try #require(CSVText.encodeGB18030(branchesText)), as: UTF8.self) == nil)
    }

    @Test func englishHeadersInAnyOrderAndExtraColumns() {
        let text = "notes,name,code, \nignored,Office branch,b01,\n"
        let preview = OrganisationCSV.branches(Array(text.utf8))
        #expect(preview.canImport)
        #expect(preview.rows == [BranchRow(line: 2, code: "b01", name: "Office branch", parent: nil, secretary: nil)])
        // The column no one reads is named; a column without a header is no column.
        #expect(preview.ignoredColumns == ["notes"])
        // A performance file keeps its other columns as indicators: none is ignored.
        let performance = OrganisationCSV.performance(Array("单位编码,得分,完成率\nu1,90,98%\n".utf8), knownUnits: ["u1"])
        #expect(performance.ignoredColumns.isEmpty && performance.rows.first?.indicators == ["完成率": "98%"])
    }

    @Test func writtenFieldsAreQuotedAndDisarmedByTheirBytes() {
        #expect(CSVWriter.field("办公室党支部") == "办公室党支部")
        #expect(CSVWriter.field("甲,乙") == "\"甲,乙\"")
        #expect(CSVWriter.field("说\"好\"") == "\"说\"\"好\"\"\"")
        // "\r\n" is one character in Swift: it must still be seen as a line break.
        #expect(CSVWriter.field("第一行\r\n第二行") == "\"第一行\r\n第二行\"")
        #expect(CSVWriter.field("=1+1") == "'=1+1")
        #expect(CSVWriter.field("-5") == "'-5")
        #expect(CSVWriter.row(["a", "@x", ""]) == "a,'@x,\r\n")
    }

    @Test func streamedCSVComesInPiecesThatAddUpToTheWholeTable() {
        let rows = (1...500).map { ["b\($0)", "第\($0)党支部", "=\($0)"] }
        var pieces = CSVPieces(header: ["编码", "名称", "值"], size: 1_000)
        var sent: [String] = []
        for row in rows {
            if let piece = pieces.append(row.map { TableCell.text($0) }) { sent.append(piece) }
        }
        if let piece = pieces.rest() { sent.append(piece) }
        #expect(pieces.rest() == nil)
        #expect(sent.count > 10)
        #expect(sent.dropLast().allSatisfy { $0.utf8.count >= 1_000 && $0.utf8.count < 1_100 })
        #expect(sent.joined() == "\u{FEFF}" + CSVWriter.row(["编码", "名称", "值"]) + rows.map(CSVWriter.row).joined())
    }

    @Test func quotedFieldsMayHoldLineBreaksAndLinesAreCountedRight() {
        let text = "支部编码,支部名称\nb01,\"两行\n名称\"\nb02,\nb03,正常\n"
        let preview = OrganisationCSV.branches(Array(text.utf8))
        #expect(preview.rows.first?.name == "两行\n名称")
        #expect(preview.problems == [ImportProblem(line: 4, kind: .missingValue("支部名称"))])
    }

    @Test func everyKindOfBadRowIsReportedWithItsLine() {
        let members = """
            工号,姓名,支部编码,手机
            1001,张伟,b01,13800138000
            ,李娜,b01,
            1003,,b01,
            10 04,王强,b01,
            1005,赵敏,b99,
            1006,陈杰,b01,call me
            1001,张伟二,b01,
            1008,\(String(repeating: "名", count: 101)),b01,

            """
        let preview = OrganisationCSV.members(Array(members.utf8), knownBranches: ["b01"])
        #expect(!preview.canImport)
        #expect(preview.rows.map(\.staffNumber) == ["1001"])
        #expect(preview.problems.map(\.line) == [3, 4, 5, 6, 7, 8, 9])
        let messages = preview.problems.map { $0.message(.chinese) }
        #expect(messages[0] == "第 3 行：“工号”为空")
        #expect(messages[1] == "第 4 行：“姓名”为空")
        #expect(messages[2].hasPrefix("第 5 行：“工号”“10 04”只能包含"))
        #expect(messages[3] == "第 6 行：没有编码为“b99”的支部，请先导入支部")
        #expect(messages[4] == "第 7 行：“call me”不是有效的电话号码")
        #expect(messages[5] == "第 8 行：“1001”与第 2 行重复")
        #expect(messages[6] == "第 9 行：“姓名”超过 100 个字符")
        #expect(preview.problems[3].message(.english) == "line 6: no branch has the code 'b99'; import the branches first")
    }

    /// As Excel saves a list: rows of bare commas where formatted rows were emptied, and long
    /// numbers in a General column written as "1.38001E+10".
    @Test func excelHabitsBlankRowsAndScientificNotation() {
        let members = """
            工号,姓名,支部编码,手机
            1001,张伟,b01,13800138000
            ,,,
            1002,李娜,b01,1.38001E+10
             , , , 
            2.01901E+11,王强,b01,
            1004,赵敏,b01,139 0013 9000

            """
        let preview = OrganisationCSV.members(Array(members.utf8), knownBranches: ["b01"])
        #expect(preview.rows.map(\.staffNumber) == ["1001", "1004"])
        #expect(preview.problems.map(\.line) == [4, 6])
        #expect(
            preview.problems.first?.message(.chinese)
                == "第 4 行：“手机”“1.38001E+10”是 Excel 以科学计数法显示的长数字，文件里已经没有原来的号码。请在 Excel 中选中这一列，设置单元格格式为“文本”，重新输入号码后再保存；或直接上传 .xlsx 文件"
        )
        #expect(
            preview.problems.last?.message(.english).hasPrefix("line 6: 工号 '2.01901E+11' is a long number Excel showed in scientific notation")
                == true
        )
        // A file of nothing but blank rows has nothing to import.
        #expect(OrganisationCSV.branches(Array("支部编码,支部名称\n,\n,\n".utf8)).problems == [ImportProblem(line: 1, kind: .emptyFile)])
        #expect(OrganisationCSV.isExcelScientific("1E+11") && !OrganisationCSV.isExcelScientific("1E11") && !OrganisationCSV.isExcelScientific("E+5"))
    }

    @Test func codesAndNumbersExcelStrippedOfTheirLeadingZeros() {
        let members = """
            工号,姓名,支部编码,手机
            00123,张伟,001,13800138000
            124,李娜,1,13800138001
            123,王强,001,
            00125,赵敏,001,2112345678
            00126,钱进,001,010-12345678

            """
        let preview = OrganisationCSV.members(Array(members.utf8), knownBranches: ["001"], knownStaff: ["00123"])
        #expect(preview.rows.map(\.staffNumber) == ["00123", "00126"])
        #expect(
            preview.problems.map(\.kind) == [
                .leadingZerosLost("支部编码", "1", matching: "001"),
                .leadingZerosLost("工号", "123", matching: "00123"),
                .leadingZerosLost("手机", "2112345678", matching: nil),
            ]
        )
        #expect(preview.problems.map(\.line) == [3, 4, 5])
        #expect(preview.problems[0].message(.chinese).contains("“支部编码”“1”看起来是被 Excel 去掉了开头的 0 的“001”"))
        #expect(preview.problems[2].message(.english).contains("landline area codes start with 0"))

        // A branch list with 7 for the known 007 would add a second branch: refused by name.
        let branches = OrganisationCSV.branches(Array("支部编码,支部名称\n7,第七支部\n8,第八支部\n".utf8), existing: ["007"])
        #expect(branches.rows.map(\.code) == ["8"])
        #expect(branches.problems.map(\.kind) == [.leadingZerosLost("支部编码", "7", matching: "007")])
        // Units and performance results point at known codes the same way.
        #expect(
            OrganisationCSV.units(Array("单位编码,单位名称,支部编码\nD01,办公室,7\n".utf8), knownBranches: ["007"]).problems.map(\.kind)
                == [.leadingZerosLost("支部编码", "7", matching: "007")]
        )
        #expect(
            OrganisationCSV.performance(Array("单位编码,得分\n42,90\n".utf8), knownUnits: ["0042"]).problems.map(\.kind)
                == [.leadingZerosLost("单位编码", "42", matching: "0042")]
        )
        // Codes that merely are numbers stay fine, and unknown ones stay unknown.
        #expect(
            OrganisationCSV.units(Array("单位编码,单位名称,支部编码\nD01,办公室,9\n".utf8), knownBranches: ["007"]).problems.map(\.kind) == [.unknownBranch("9")]
        )
        #expect(!OrganisationCSV.isLandlineWithoutItsZero("13800138000") && !OrganisationCSV.isLandlineWithoutItsZero("02112345678"))
    }

    @Test func missingColumnsEmptyFilesAndUnreadableFiles() {
        let noColumn = OrganisationCSV.members(Array("工号,姓名\n1,张\n".utf8), knownBranches: [])
        #expect(noColumn.problems == [ImportProblem(line: 1, kind: .missingColumn("支部编码"))])
        let headerOnly = OrganisationCSV.branches(Array("支部编码,支部名称\n".utf8))
        #expect(headerOnly.problems == [ImportProblem(line: 1, kind: .emptyFile)])
        let empty = OrganisationCSV.branches([])
        #expect(empty.problems.first?.kind == .emptyFile)
        let unclosed = OrganisationCSV.branches(Array("支部编码,支部名称\nb01,\"未结束\n".utf8))
        #expect(unclosed.problems.first?.line == 2)
        let binary = OrganisationCSV.branches([0xFF, 0xFF, 0xFF, 0x00, 0x81])
        #expect(binary.problems.first.map { if case .unreadable = $0.kind { true } else { false } } == true)
    }
}

/// A multipart/form-data body as a browser sends it.
func multipartBody(_ fields: [(name: String, value: [UInt8], fileName: String?)], boundary: String) -> ByteBuffer {
    var body: [UInt8] = []
    for field in fields {
        var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field.name)\""
        if let fileName = field.fileName { head += "; filename=\"\(fileName)\"\r\nContent-Type: text/csv" }
        head += "\r\n\r\n"
        body += Array(head.utf8) + field.value + Array("\r\n".utf8)
    }
    body += Array("--\(boundary)--\r\n".utf8)
    return ByteBuffer(bytes: body)
}

extension Browser {
    mutating func upload(kind: String, file: [UInt8], name: String = "list.csv", year: String? = nil) async throws -> Reply {
        let token = try await currentCSRFToken()
        let boundary = "----kaoping\(UUID().uuidString.prefix(8))"
        var fields: [(name: String, value: [UInt8], fileName: String?)] = [
            ("_csrf", Array(token.utf8), nil), ("kind", Array(kind.utf8), nil), ("file", file, name),
        ]
        if let year { fields.append(("year", Array(year.utf8), nil)) }
        let body = multipartBody(fields, boundary: boundary)
        return try await send(
            "/admin/org/import",
            method: .post,
            headers: [.contentType: "multipart/form-data; boundary=\(boundary)"],
            body: body
        )
    }
}

@Suite("Importing the organisation in the admin area", .timeLimit(.minutes(2)))
struct OrganisationImportTests {
    @Test func uploadPreviewConfirmAndReimport() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("admin", password: "organisation lists")
            var browser = Browser(client)
            _ = try await browser.post("/admin/login", form: [("username", "admin"), ("password", "organisation lists")])

            let branches = "支部编码,支部名称,上级组织,支部书记\r\nb01,办公室党支部,机关党委,王芳\r\nb02,财务处党支部,机关党委,\r\n"
            let uploaded = try await browser.upload(kind: "branches", file: try #require(CSVText.encodeGB18030(branches)), name: "支部.csv")
            #expect(uploaded.status == .seeOther)
            let previewPath = try #require(uploaded.location)
            let preview = try await browser.get(previewPath)
            #expect(preview.status == .ok)
            #expect(preview.text.contains("GB18030"))
            #expect(preview.text.contains("有效行 2"))
            #expect(preview.text.contains("<td>办公室党支部</td>"))
            #expect(!preview.text.contains("导入时不读取"))
            #expect(try await harness.count("SELECT count(*)::int FROM branches") == 0)  // nothing until confirmed

            let applied = try await browser.post(previewPath + "/apply", form: [])
            #expect(applied.status == .seeOther)
            #expect(applied.location == "/admin/org?imported=branches&created=2&updated=0")
            #expect(try await harness.count("SELECT count(*)::int FROM branches") == 2)
            #expect(try await harness.count("SELECT count(*)::int FROM organisations WHERE name = '机关党委'") == 1)
            // A second click on the same confirmation imports nothing twice.
            _ = try await browser.post(previewPath + "/apply", form: [])
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'org.import.branches'") == 1)

            let page = try await browser.get("/admin/org?imported=branches&created=2&updated=0")
            #expect(page.text.contains("支部名单已导入：新增 2 个，更新 0 个。"))
            #expect(page.text.contains("href=\"/admin/org/branches/b01\""))

            // Members: one bad row blocks the whole file.
            let bad = "\u{FEFF}工号,姓名,支部编码,手机\n1001,张伟,b01,13800138000\n1002,李娜,b09,\n"
            let badPreview = try await browser.get(try #require(try await browser.upload(kind: "members", file: Array(bad.utf8)).location))
            #expect(badPreview.status == .unprocessableContent)
            #expect(badPreview.text.contains("第 3 行：没有编码为“b09”的支部，请先导入支部"))
            #expect(!badPreview.text.contains("确认导入"))

            let good = "工号,姓名,支部编码,手机\n1001,张伟,b01,13800138000\n1002,李娜,b02,\n"
            let goodPreview = try #require(try await browser.upload(kind: "members", file: Array(good.utf8)).location)
            #expect(try await browser.post(goodPreview + "/apply", form: []).location == "/admin/org?imported=members&created=2&updated=0")

            // Re-import: a corrected name and a move between branches update, never duplicate.
            let corrected = "工号,姓名,支部编码\n1001,张伟东,b02\n1002,李娜,b02\n"
            let again = try #require(try await browser.upload(kind: "members", file: Array(corrected.utf8)).location)
            #expect(try await browser.post(again + "/apply", form: []).location == "/admin/org?imported=members&created=0&updated=2")
            #expect(try await harness.count("SELECT count(*)::int FROM members") == 2)
            #expect(try await harness.count("SELECT count(*)::int FROM members m JOIN branches b ON b.id = m.branch_id WHERE b.code = 'b02'") == 2)
            let branchPage = try await browser.get("/admin/org/branches/b02")
            #expect(branchPage.text.contains("<td>张伟东</td>"))
        }
    }

    @Test func branchesAndMembersAreAddedEditedAndDeactivatedByHand() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("admin", password: "one at a time")
            var browser = Browser(client)
            _ = try await browser.post("/admin/login", form: [("username", "admin"), ("password", "one at a time")])

            let added = try await browser.post(
                "/admin/org/branches",
                form: [("code", " b07 "), ("name", "信息中心党支部"), ("parent", "机关党委"), ("secretary", "")]
            )
            #expect(added.location == "/admin/org/branches/b07?saved=1")
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM branches b JOIN organisations o ON o.id = b.organisation_id WHERE b.code = 'b07' AND o.name = '机关党委' AND b.secretary_name IS NULL"
                ) == 1
            )
            // Mistakes come back marked, with what was typed kept; a taken code is refused.
            let bad = try await browser.post("/admin/org/branches", form: [("code", "b 8"), ("name", ""), ("parent", "机关党委")])
            #expect(bad.status == .unprocessableContent)
            #expect(bad.text.contains("“支部编码”“b 8”只能包含字母、数字和 - _ ."))
            #expect(bad.text.contains("“支部名称”为空"))
            #expect(bad.text.contains("name=\"code\" type=\"text\" required maxlength=\"64\" value=\"b 8\""))
            let taken = try await browser.post("/admin/org/branches", form: [("code", "b07"), ("name", "重复")])
            #expect(taken.status == .unprocessableContent)
            #expect(taken.text.contains("“b07”已被使用"))
            #expect(try await harness.count("SELECT count(*)::int FROM branches") == 1)

            let member = try await browser.post(
                "/admin/org/branches/b07/members",
                form: [("staff", "2001"), ("name", "赵敏"), ("phone", "139 0000 1111")]
            )
            #expect(member.location == "/admin/org/branches/b07?saved=1")
            let badPhone = try await browser.post("/admin/org/branches/b07/members", form: [("staff", "2002"), ("name", "钱进"), ("phone", "call me")])
            #expect(badPhone.status == .unprocessableContent)
            #expect(badPhone.text.contains("“call me”不是有效的电话号码"))
            #expect(badPhone.text.contains("value=\"钱进\""))
            #expect(
                try await browser.post("/admin/org/branches/b07/members", form: [("staff", "2001"), ("name", "又一个")]).status == .unprocessableContent
            )
            let page = try await browser.get("/admin/org/branches/b07?saved=1")
            #expect(page.text.contains("已保存。"))
            #expect(page.text.contains("<a href=\"/admin/org/members/2001\">修改</a>"))

            // Renaming the branch keeps its code; moving a member is changing their branch code.
            #expect(
                try await browser.post("/admin/org/branches/b07", form: [("name", "信息中心第一党支部"), ("parent", ""), ("active", "1")]).status == .seeOther
            )
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM branches WHERE code = 'b07' AND name = '信息中心第一党支部' AND organisation_id IS NULL AND active"
                ) == 1
            )
            _ = try await browser.post("/admin/org/branches", form: [("code", "b08"), ("name", "后勤党支部")])
            let edit = try await browser.get("/admin/org/members/2001")
            #expect(edit.text.contains("value=\"赵敏\""))
            #expect(edit.text.contains("name=\"active\" value=\"1\" checked"))
            let unknownBranch = try await browser.post("/admin/org/members/2001", form: [("name", "赵敏"), ("branch", "b99"), ("active", "1")])
            #expect(unknownBranch.status == .unprocessableContent)
            #expect(unknownBranch.text.contains("没有编码为“b99”的支部"))
            #expect(
                try await browser.post("/admin/org/members/2001", form: [("name", "赵敏"), ("branch", "b08"), ("active", "1")]).location
                    == "/admin/org/branches/b08?saved=1"
            )
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM members m JOIN branches b ON b.id = m.branch_id WHERE m.staff_number = '2001' AND b.code = 'b08' AND m.phone IS NULL"
                ) == 1
            )

            // Deactivating a member who has an unused invitation kills the link; they get no new one.
            let round = try await harness.database.query("INSERT INTO rounds (title, year, status) VALUES ('调离测试', 2026, 'open') RETURNING id").first!
                .decode(UUID.self)
            try await harness.database.query(
                "INSERT INTO round_branches (round_id, branch_id, public_code) SELECT \(round), id, 'moved' FROM branches WHERE code = 'b08'"
            )
            let links = try await harness.memberLinks(
                round: round,
                branch: try await harness.database.query("SELECT id FROM branches WHERE code = 'b08'").first!.decode(UUID.self),
                count: 0
            )
            #expect(links.count == 1)
            #expect(try await browser.post("/admin/org/members/2001", form: [("name", "赵敏"), ("branch", "b08")]).status == .seeOther)
            #expect(try await harness.count("SELECT count(*)::int FROM members WHERE staff_number = '2001' AND NOT active") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM invitations WHERE revoked_at IS NOT NULL") == 1)
            #expect(try await browser.get(links[0]).status == .notFound)
            #expect(
                try await harness.memberLinks(
                    round: round,
                    branch: try await harness.database.query("SELECT id FROM branches WHERE code = 'b08'").first!.decode(UUID.self),
                    count: 0
                ).isEmpty
            )
            #expect(try await browser.get("/admin/org/branches/b08").text.contains("<span class=\"status\">已停用</span>"))

            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action LIKE 'org.%'") == 6)
            #expect(try await browser.get("/admin/org/members/9999").status == .notFound)
            #expect(try await browser.post("/admin/org/branches/b99", form: [("name", "无")]).status == .notFound)
        }
    }

    @Test func templatesDownloadAndComeBackAsTheyWereFilledIn() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("admin", password: "organisation lists")
            var browser = Browser(client)
            _ = try await browser.post("/admin/login", form: [("username", "admin"), ("password", "organisation lists")])
            let page = try await browser.get("/admin/org")
            #expect(
                page.text.contains("href=\"/admin/org/templates/members.xlsx\"") && page.text.contains("href=\"/admin/org/templates/branches.csv\"")
            )

            let csv = try await browser.get("/admin/org/templates/members.csv")
            #expect(csv.status == .ok && csv.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(csv.text == "\u{FEFF}工号,姓名,支部编码,手机,党小组\r\n00123,李华,001,13800138000,第一党小组\r\n")
            #expect(
                csv.headers[.contentDisposition]
                    == "attachment; filename=\"members-template.csv\"; filename*=UTF-8''%E5%85%9A%E5%91%98%E5%90%8D%E5%8D%95%E6%A8%A1%E6%9D%BF.csv"
            )
            for kind in ["branches", "members", "units", "performance"] {
                let workbook = try await browser.get("/admin/org/templates/\(kind).xlsx")
                #expect(workbook.status == .ok, "\(kind)")
                #expect(workbook.headers[.contentType] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                let rows = try XLSXReader.sheets(Array(buffer: workbook.body)).first?.rows ?? []
                let template = ImportTemplate.of(try #require(OrganisationUpload.Kind(rawValue: kind)))
                #expect(rows.count == 2 && rows[0].cells == template.header && rows[1].cells == template.example, "\(kind)")
            }
            #expect(try await browser.get("/admin/org/templates/secrets.xlsx").status == .notFound)
            #expect(try await browser.get("/admin/org/templates/members.exe").status == .notFound)

            // The templates, filled in as they come, import: leading zeros and all.
            for kind in ["branches", "members"] {
                let workbook = try await browser.get("/admin/org/templates/\(kind).xlsx")
                let uploaded = try await browser.upload(kind: kind, file: Array(buffer: workbook.body), name: "\(kind).xlsx")
                let preview = try #require(uploaded.location)
                #expect(try await browser.post(preview + "/apply", form: []).location?.contains("created=1") == true, "\(kind)")
            }
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM members m JOIN branches b ON b.id = m.branch_id WHERE m.staff_number = '00123' AND b.code = '001' AND m.phone = '13800138000'"
                ) == 1
            )
            // The same list after a round through Excel's General format: the zeros are gone,
            // and the preview says so instead of adding a second member.
            let stripped = try await browser.upload(kind: "members", file: Array("工号,姓名,支部编码,手机\r\n123,李华,1,13800138000\r\n".utf8))
            let problems = try await browser.get(try #require(stripped.location))
            #expect(problems.text.contains("看起来是被 Excel 去掉了开头的 0 的“00123”") && problems.text.contains("的“001”"))
            // From a CSV file the way out is the workbook, and the page says so.
            #expect(problems.text.contains("上传 .xlsx 文件"))

            // The same mistake in a workbook: formatting the column as Text is the advice, not
            // uploading the .xlsx the list already is. Its extra column is named as not read.
            let path = NSTemporaryDirectory() + "kaoping-test-\(UUID().uuidString).xlsx"
            defer { try? FileManager.default.removeItem(atPath: path) }
            let book = try Spreadsheet(path: path)
            try book.addSheet(
                "党员",
                header: ["工号", "姓名", "支部编码", "手机", "备注"],
                rows: [[.text("00124"), .text("王芳"), .number(1), .empty, .text("新调入")]]
            )
            try book.close()
            let fromBook = try await browser.upload(
                kind: "members",
                file: Array(try Data(contentsOf: URL(fileURLWithPath: path))),
                name: "members.xlsx"
            )
            let bookProblems = try await browser.get(try #require(fromBook.location)).text
            #expect(bookProblems.contains("“支部编码”“1”看起来是被 Excel 去掉了开头的 0 的“001”（这一列的单元格是数字格式）"))
            #expect(!bookProblems.contains(".xlsx 文件"))
            #expect(bookProblems.contains("文件中的这些列不在名单的列里，导入时不读取：“备注”。"))
        }
    }

    @Test func uploadsNeedTheCSRFTokenAndAnAdministrator() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("evaluator", password: "not an admin here", role: .evaluator)
            var browser = Browser(client)
            _ = try await browser.post("/admin/login", form: [("username", "evaluator"), ("password", "not an admin here")])
            #expect(try await browser.get("/admin/org").status == .forbidden)
            let refused = try await browser.upload(kind: "branches", file: Array("支部编码,支部名称\nb1,甲\n".utf8))
            #expect(refused.status == .forbidden)

            var stranger = Browser(client)
            _ = try await stranger.get("/admin/login")
            let boundary = "xyz"
            let body = multipartBody([("kind", Array("branches".utf8), nil), ("file", Array("支部编码,支部名称\nb1,甲\n".utf8), "a.csv")], boundary: boundary)
            let noToken = try await stranger.send(
                "/admin/org/import",
                method: .post,
                headers: [.contentType: "multipart/form-data; boundary=\(boundary)"],
                body: body
            )
            #expect(noToken.status == .forbidden)
            #expect(try await harness.count("SELECT count(*)::int FROM org_imports") == 0)
        }
    }

    /// Units and a year's performance results are uploaded, previewed and confirmed like the
    /// other lists; a performance file needs its year, and loading a year again is a new version.
    @Test func unitsAndPerformanceResultsThroughTheAdminArea() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("admin", password: "organisation lists")
            var browser = Browser(client)
            _ = try await browser.post("/admin/login", form: [("username", "admin"), ("password", "organisation lists")])
            let branches = try #require(try await browser.upload(kind: "branches", file: Array("支部编码,支部名称\nb01,办公室党支部\n".utf8)).location)
            _ = try await browser.post(branches + "/apply", form: [])

            let units = "单位编码,单位名称,支部编码,人数\nu1,办公室,b01,30\nu2,财务处,b01,10\n"
            let unitsPreview = try #require(try await browser.upload(kind: "units", file: Array(units.utf8)).location)
            let preview = try await browser.get(unitsPreview).text
            #expect(preview.contains("<td>u1</td><td>办公室</td><td>b01</td><td>30</td>"))
            #expect(try await browser.post(unitsPreview + "/apply", form: []).location == "/admin/org?imported=units&created=2&updated=0")
            #expect(try await browser.get("/admin/org?imported=units&created=2&updated=0").text.contains("单位已导入：新增 2 个，更新 0 个。"))

            let results = Array("单位编码,得分,等次,重点工作\nu1,90,优秀,完成\nu2,60,合格,\n".utf8)
            let noYear = try await browser.upload(kind: "performance", file: results)
            #expect(noYear.status == .unprocessableContent)
            #expect(noYear.text.contains("导入绩效结果需要填写年度"))

            let resultsPreview = try #require(try await browser.upload(kind: "performance", file: results, year: "2026").location)
            #expect(try await browser.get(resultsPreview).text.contains("<td>u1</td><td>90</td><td>优秀</td><td>重点工作：完成</td>"))
            let applied = try await browser.post(resultsPreview + "/apply", form: [])
            #expect(applied.location == "/admin/org?imported=performance&year=2026&version=1&units=2")
            #expect(try await browser.get(try #require(applied.location)).text.contains("2026 年度绩效结果已导入：第 1 版，2 个单位。"))
            let again = try #require(try await browser.upload(kind: "performance", file: results, year: "2026").location)
            #expect(try await browser.post(again + "/apply", form: []).location == "/admin/org?imported=performance&year=2026&version=2&units=2")
            #expect(try await PerformanceRepository(database: harness.database).businessScores(year: 2026) == ["b01": 82.5])
            let audit = try await harness.count("SELECT count(*)::int FROM audit_log WHERE action = 'performance.imported' AND actor_name = 'admin'")
            #expect(audit == 2)
        }
    }

    /// Units one at a time: added (what was typed comes back with the problem when refused),
    /// moved to another branch, given a headcount, and deactivated.
    @Test func unitsOneAtATime() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("admin", password: "organisation lists")
            var browser = Browser(client)
            _ = try await browser.post("/admin/login", form: [("username", "admin"), ("password", "organisation lists")])
            let branches = try #require(try await browser.upload(kind: "branches", file: Array("支部编码,支部名称\nb01,办公室党支部\nb02,业务党支部\n".utf8)).location)
            _ = try await browser.post(branches + "/apply", form: [])
            #expect(try await browser.get("/admin/org").text.contains("还没有单位"))

            let refused = try await browser.post("/admin/org/units", form: [("code", "u1"), ("name", "办公室"), ("branch", "b09"), ("headcount", "-3")])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("没有编码为“b09”的支部"))
            #expect(refused.text.contains("“人数”“-3”不是有效的数值"))
            #expect(refused.text.contains("value=\"办公室\""))

            let added = try await browser.post("/admin/org/units", form: [("code", "u1"), ("name", "办公室"), ("branch", "b01"), ("headcount", "12")])
            #expect(added.location == "/admin/org?saved=1")
            let list = try await browser.get("/admin/org").text
            #expect(list.contains("<td><a href=\"/admin/org/units/u1\">u1</a></td><td>办公室</td><td>b01</td><td class=\"num\">12</td>"))
            #expect(
                try await browser.post("/admin/org/units", form: [("code", "u1"), ("name", "又一个"), ("branch", "b01")]).status == .unprocessableContent
            )

            let page = try await browser.get("/admin/org/units/u1")
            #expect(page.text.contains("value=\"b01\""))
            let moved = try await browser.post(
                "/admin/org/units/u1",
                form: [("name", "办公室"), ("branch", "b02"), ("headcount", "15"), ("active", "1")]
            )
            #expect(moved.location == "/admin/org?saved=1")
            let unit = try #require(try await PerformanceRepository(database: harness.database).unit(code: "u1"))
            #expect(unit.branchCode == "b02" && unit.headcount == 15 && unit.active)
            _ = try await browser.post("/admin/org/units/u1", form: [("name", "办公室"), ("branch", "b02")])
            let inactive = try #require(try await PerformanceRepository(database: harness.database).unit(code: "u1"))
            #expect(!inactive.active && inactive.headcount == nil)
            #expect(try await harness.count("SELECT count(*)::int FROM audit_log WHERE action LIKE 'org.unit.%'") == 3)
            #expect(try await browser.get("/admin/org/units/u9").status == .notFound)
        }
    }
}

extension OrganisationImportTests {
    /// A performance file saved as an Excel workbook reads like the same file as CSV: numbers
    /// as Excel shows them, empty cells skipped, indicator columns kept, and problems at the row
    /// number Excel shows.
    @Test func performanceResultsFromAnExcelWorkbook() throws {
        let path = NSTemporaryDirectory() + "kaoping-test-\(UUID().uuidString).xlsx"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let book = try Spreadsheet(path: path)
        try book.addSheet(
            "2025年度绩效",
            header: ["单位名称", "单位编码", "得分", "等次", "重点任务完成率"],
            rows: [
                [.text("办公室"), .text("u1"), .number(91.5), .text("优秀"), .text("98%")],
                [.text("财务处"), .text("u2"), .number(0.1 + 0.2 + 80), .empty, .empty],
                [.text("业务一处"), .text("u3"), .empty, .text("良好"), .number(0.95)],
                [.text("不存在"), .text("u9"), .number(101), .empty, .empty],
            ]
        )
        try book.addSheet("说明", header: ["此表不读"], rows: [[.text("x")]])
        try book.close()
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))

        let preview = OrganisationCSV.performance(bytes, knownUnits: ["u1", "u2", "u3"])
        #expect(preview.encoding == .workbook)
        #expect(preview.rows.map(\.unitCode) == ["u1", "u2", "u3"])
        #expect(preview.rows[0].score == 91.5 && preview.rows[0].grade == "优秀" && preview.rows[0].indicators == ["重点任务完成率": "98%"])
        #expect(preview.rows[1].score == 80.3 && preview.rows[1].indicators.isEmpty)
        #expect(preview.rows[2].score == nil && preview.rows[2].grade == "良好" && preview.rows[2].indicators == ["重点任务完成率": "0.95"])
        #expect(preview.problems.map(\.line) == [5, 5])
        #expect(preview.problems.map(\.kind) == [.unknownUnit("u9"), .invalidNumber("得分", "101")])

        // Not a workbook after all: said in one problem, at line 1.
        let broken = OrganisationCSV.units(Array(bytes.prefix(200)), knownBranches: [])
        #expect(broken.rows.isEmpty && broken.problems.count == 1 && broken.problems[0].line == 1)
    }
}
