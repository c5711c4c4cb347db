import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import KaopingServer

/// Workbooks as programs other than libxlsxwriter write them (Fixtures/make-xlsx-fixtures.py
/// writes them part by part): inline strings, booleans, phonetic guides, rich-text runs and
/// cells whose place is given only by their order.
@Suite("Excel workbooks as other programs write them", .timeLimit(.minutes(2)))
struct PinnedXLSXTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        let path = TestDatabaseServer.repositoryRoot + "/Tests/KaopingServerTests/Fixtures/" + name
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func rows(_ sheet: XLSXReader.Sheet) -> [Int: [String]] {
        Dictionary(sheet.rows.map { ($0.number, $0.cells) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func everyKindOfCellReadsAsExcelShowsIt() throws {
        let sheets = try XLSXReader.sheets(try Self.fixture("cells-as-written.xlsx"))
        #expect(sheets.map(\.name) == ["Sheet1"])
        let sheet = try #require(sheets.first)
        // Row 3 holds only formatting and an empty string: it is no row. Row 4 is not there.
        #expect(sheet.rows.map(\.number) == [1, 2, 5, 6])
        let rows = Self.rows(sheet)
        // An inline string, TRUE and FALSE as Excel shows booleans, a number's binary rounding
        // gone, an error as its code, and the results of formulas, never their text.
        #expect(rows[1] == ["文本", "TRUE", "FALSE", "0.3", "#DIV/0!", "合计", "3"])
        // A cell without a reference takes the column after the one before it, here after C2;
        // shared strings lose their phonetic guides and keep their runs' text, spaces included.
        #expect(rows[2] == ["甲", "", "中文", "粗体 ", "42"])
        // An inline string keeps its spaces, and its phonetic guide is not part of its text.
        #expect(rows[5] == ["", " 两端空格 ", "东京"])
        // A row without a number follows the one before it.
        #expect(rows[6] == ["7"])
    }

    @Test func phoneticGuidesOfSharedStringsAreNotPartOfTheText() throws {
        let sheets = try XLSXReader.sheets(try Self.fixture("branches-phonetic.xlsx"))
        #expect(sheets.map(\.name) == ["支部名单", "说明"])
        let rows = Self.rows(sheets[0])
        #expect(rows[1] == ["支部编码", "支部名称", "上级组织", "支部书记"])
        #expect(rows[2] == ["b01", "办公室党支部", "机关党委", "王芳"])
        // The last cell holds only a style: the row ends at the last cell with text.
        #expect(rows[3] == ["b02", "财务处党支部", "机关党委"])
        #expect(Self.rows(sheets[1])[1] == ["此表不读"])

        let preview = OrganisationCSV.branches(try Self.fixture("branches-phonetic.xlsx"))
        #expect(preview.encoding == .workbook)
        #expect(preview.problems.isEmpty, "\(preview.problems)")
        let byCode = Dictionary(preview.rows.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byCode["b01"]?.name == "办公室党支部" && byCode["b01"]?.parent == "机关党委" && byCode["b01"]?.secretary == "王芳")
        #expect(byCode["b02"]?.name == "财务处党支部" && byCode["b02"]?.parent == "机关党委" && byCode["b02"]?.secretary == nil)
    }

    /// Every element under a namespace prefix (<x:row>, <x:si>, <pr:Relationship>), as
    /// libraries built on the Open XML SDK write them: read as the same list without prefixes.
    @Test func elementsUnderANamespacePrefixReadAsWithout() throws {
        let sheets = try XLSXReader.sheets(try Self.fixture("branches-prefixed.xlsx"))
        #expect(sheets.map(\.name) == ["支部名单", "说明"])
        let sheet = try #require(sheets.first)
        #expect(sheet.rows.map(\.number) == [1, 2, 3, 5])
        let rows = Self.rows(sheet)
        #expect(rows[1] == ["支部编码", "支部名称", "上级组织", "支部书记"])
        // Phonetic guides of shared and inline strings are left out, rich-text runs joined.
        #expect(rows[2] == ["b01", "办公室党支部", "机关党委", "王芳"])
        #expect(rows[3] == ["b02", "财务处党支部", "机关党委"])
        // A formula's result, never its text; an inline string's spaces kept.
        #expect(rows[5] == ["b03", "人事处党支部", "机关党委", "李 明"])
        #expect(Self.rows(sheets[1])[1] == ["此表不读"])

        let preview = OrganisationCSV.branches(try Self.fixture("branches-prefixed.xlsx"))
        #expect(preview.encoding == .workbook)
        #expect(preview.problems.isEmpty, "\(preview.problems)")
        #expect(preview.rows.map(\.code) == ["b01", "b02", "b03"])
        let byCode = Dictionary(preview.rows.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byCode["b01"]?.name == "办公室党支部" && byCode["b01"]?.parent == "机关党委" && byCode["b01"]?.secretary == "王芳")
        #expect(byCode["b02"]?.name == "财务处党支部" && byCode["b02"]?.parent == "机关党委" && byCode["b02"]?.secretary == nil)
        #expect(byCode["b03"]?.name == "人事处党支部" && byCode["b03"]?.parent == "机关党委" && byCode["b03"]?.secretary == "李 明")
    }

    @Test func inlineStringsAndRowsWithoutNumbersReadWithExcelsLineNumbers() throws {
        let sheets = try XLSXReader.sheets(try Self.fixture("members-inline.xlsx"))
        let rows = Self.rows(try #require(sheets.first))
        #expect(sheets.first?.rows.map(\.number) == [1, 2, 4])
        #expect(rows[1] == ["工号", "姓名", "支部编码", "手机", "在职"])
        #expect(rows[2] == ["00123", "李华", "b01", "13800138000", "TRUE"])
        #expect(rows[4] == ["00456", "张伟", "b02", "", "FALSE"])

        // A member of an unknown branch is named at the line Excel shows, 4, not the third row read.
        let preview = OrganisationCSV.members(try Self.fixture("members-inline.xlsx"), knownBranches: ["b01"], knownStaff: [])
        #expect(preview.problems.map(\.line) == [4])
        #expect(preview.rows.map(\.staffNumber) == ["00123"])
    }

    /// Both workbooks uploaded in the admin area land in the database with the values a person
    /// sees in Excel.
    @Test func workbooksFromOtherProgramsImportThroughTheAdminArea() async throws {
        try await TestApp.run { client, harness in
            try await harness.createUser("admin", password: "workbooks of all kinds")
            var browser = Browser(client)
            _ = try await browser.post("/admin/login", form: [("username", "admin"), ("password", "workbooks of all kinds")])

            let branches = try await browser.upload(kind: "branches", file: try Self.fixture("branches-phonetic.xlsx"), name: "支部.xlsx")
            let branchesPreview = try #require(branches.location)
            let shown = try await browser.get(branchesPreview)
            #expect(shown.text.contains("<td>财务处党支部</td>"))
            #expect(!shown.text.contains("ザイムショ") && !shown.text.contains("バンコウシツ"))
            #expect(try await browser.post(branchesPreview + "/apply", form: []).location == "/admin/org?imported=branches&created=2&updated=0")

            let members = try await browser.upload(kind: "members", file: try Self.fixture("members-inline.xlsx"), name: "党员.xlsx")
            let membersPreview = try #require(members.location)
            #expect(try await browser.post(membersPreview + "/apply", form: []).location == "/admin/org?imported=members&created=2&updated=0")

            let branchRows = try await harness.database.query(
                """
                SELECT b.code, b.name, coalesce(o.name, ''), coalesce(b.secretary_name, '')
                FROM branches b LEFT JOIN organisations o ON o.id = b.organisation_id ORDER BY b.code
                """
            )
            var stored: [String: [String]] = [:]
            for result in branchRows {
                let (code, name, parent, secretary) = try result.decode((String, String, String, String).self)

                stored[code] = [name, parent, secretary]
            }
            #expect(stored == ["b01": ["办公室党支部", "机关党委", "王芳"], "b02": ["财务处党支部", "机关党委", ""]])

            let memberRows = try await harness.database.query(
                "SELECT m.staff_number, m.name, b.code, coalesce(m.phone, '') FROM members m JOIN branches b ON b.id = m.branch_id"
            )
            var people: [String: [String]] = [:]
            for result in memberRows {
                let (staff, name, branch, phone) = try result.decode((String, String, String, String).self)

                people[staff] = [name, branch, phone]
            }
            #expect(people == ["00123": ["李华", "b01", "13800138000"], "00456": ["张伟", "b02", ""]])
        }
    }
}
