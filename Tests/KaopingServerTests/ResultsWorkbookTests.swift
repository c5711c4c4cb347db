import Foundation
import Testing

@testable import KaopingServer

@Suite("The results workbook's cells", .timeLimit(.minutes(2)))
struct ResultsWorkbookTests {
    /// The public's satisfied share is a number Excel can sort and sum (shown with a percent
    /// format), the figure the CSV writes as text; scores and counts are numbers as before.
    /// In the worked example 8 of b01's 12 public respondents are satisfied.
    @Test func theSatisfiedShareIsANumberWithTheCSVsFigure() async throws {
        try await TestApp.run { client, harness in
            let (round, _) = try await harness.workedExampleRound()
            let id = round.uuidString.lowercased()
            try await harness.createUser("admin", password: "shares as numbers")
            var admin = Browser(client)
            _ = try await admin.post("/admin/login", form: [("username", "admin"), ("password", "shares as numbers")])

            let csv = try await admin.get("/admin/rounds/\(id)/results.csv").text.dropFirst().components(separatedBy: "\r\n")
                .map { $0.components(separatedBy: ",") }
            let satisfied = try #require(csv[0].firstIndex { $0.contains("满意") })
            let fromCSV = try #require(csv.first { $0.count > 1 && $0[1] == "b01" })
            #expect(fromCSV[satisfied] == "66.7%")

            let workbook = try await admin.get("/admin/rounds/\(id)/results.xlsx")
            let sheets = try XLSXReader.sheets(Array(workbook.body.readableBytesView))
            let summary = try #require(sheets.first { $0.name == "汇总" })
            #expect(summary.rows[0].cells[satisfied] == csv[0][satisfied])
            let row = try #require(summary.rows.first { $0.cells[1] == "b01" }).cells
            #expect(row[satisfied] == "0.667")
            #expect(Double(row[satisfied]).map { abs($0 - 8.0 / 12) < 0.0005 } == true)
            #expect(Double(row[4]) == Double(fromCSV[4]))  // the combined score

            // Each group's satisfied share on its own sheet, the same number.
            let groups = try #require(sheets.first { $0.name == "各主体得分" })
            let groupSatisfied = try #require(groups.rows[0].cells.firstIndex { $0.contains("满意") })
            // A row ends at its last cell: the members' groups have no satisfied share.
            #expect(groups.rows.contains { $0.cells.first == "b01" && $0.cells.count > groupSatisfied && $0.cells[groupSatisfied] == "0.667" })
        }
    }
}
