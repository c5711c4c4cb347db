import Foundation
import Testing

@testable import KaopingServer

/// A downloaded table's cells, written by both writers with no database: the CSV shows each
/// value as the pages do, the workbook holds it as a number with the same figure.
@Suite("Cells of downloaded tables")
struct TableCellTests {
    /// The cells written to a workbook and read back as Excel shows them, one row.
    static func readBack(_ cells: [TableCell]) throws -> [String] {
        let path = NSTemporaryDirectory() + "kaoping-cells-\(UUID().uuidString).xlsx"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let book = try Spreadsheet(path: path)
        try book.addSheet("cells", header: cells.indices.map { "c\($0)" }, rows: [cells])
        try book.close()
        let sheets = try XLSXReader.sheets(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        let row = try #require(sheets.first?.rows.first { $0.number == 2 })
        return row.cells + Array(repeating: "", count: max(0, cells.count - row.cells.count))
    }

    @Test func aScoreShowsTwoDecimalsRoundedHalfAwayFromZeroAndIsThatNumberInTheWorkbook() throws {
        // 74.395 is stored as 74.39499…: rounded as written, not as stored.
        let score = TableCell.decimal(74.395)
        #expect(score.text == "74.40")
        #expect(CSVWriter.row([score]) == "74.40\r\n")
        #expect(score.value == .decimal(74.40))
        #expect(try Self.readBack([score]) == ["74.4"])  // a number: text would read "74.40"
        #expect(TableCell.decimal(-0.005).text == "-0.01")
        #expect(TableCell.decimal(7).text == "7.00")
    }

    @Test func aShareIsAPercentageInTheCSVAndAFractionInTheWorkbook() throws {
        let share = TableCell.share(15.0 / 16)
        #expect(share.text == "93.8%")
        #expect(share.value == .share(0.938))
        #expect(try Self.readBack([share]) == ["0.938"])
        // Halfway between two tenths the text keeps the even one; the workbook the same figure.
        #expect(TableCell.share(1.0 / 16).text == "6.2%")
        #expect(TableCell.share(1.0 / 16).value == .share(0.062))
        #expect(TableCell.share(2.0 / 3).text == "66.7%")
        #expect(TableCell.share(2.0 / 3).value == .share(0.667))
    }

    @Test func aWeightIsShownWholeWhenItIsWhole() {
        #expect(TableCell.number(0.2).text == "0.20")
        #expect(TableCell.number(1).text == "1")
        #expect(TableCell.integer(2026).text == "2026")
    }

    @Test func aMissingValueIsAnEmptyCellInBothFormats() throws {
        let missing: [TableCell] = [.text("x"), .decimal(nil), .integer(nil), .share(nil), .number(nil), .text(nil), .text("y")]
        #expect(missing.dropFirst().dropLast().allSatisfy { $0 == .empty })
        #expect(CSVWriter.row(missing) == "x,,,,,,y\r\n")
        #expect(try Self.readBack(missing) == ["x", "", "", "", "", "", "y"])
    }

    @Test func textThatLooksLikeAFormulaIsNeutralisedInTheCSVAndKeptAsTextInTheWorkbook() throws {
        #expect(CSVWriter.row([.text("-5"), .text("=SUM(A1)"), .text("甲,乙")]) == "'-5,'=SUM(A1),\"甲,乙\"\r\n")
        #expect(try Self.readBack([.text("-5"), .text("=SUM(A1)")]) == ["-5", "=SUM(A1)"])
    }

    @Test func aWholeTableHasTheByteOrderMarkTheHeaderAndCRLFLines() {
        let csv = CSVWriter.document(header: ["名次", "得分"], rows: [[.integer(1), .decimal(91)], [.integer(nil), .decimal(nil)]])
        #expect(csv == "\u{FEFF}名次,得分\r\n1,91.00\r\n,\r\n")
    }
}
