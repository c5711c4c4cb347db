import Foundation
import KaopingAggregation

/// One value of a downloaded table, kept as what it is, so that each format writes it its own
/// way: the CSV as the text the pages show (`text`), the workbook as a number Excel can sort
/// and sum (`Spreadsheet` reads `value`). A missing value is an empty cell in both.
struct TableCell: Sendable, Equatable {
    enum Value: Sendable, Equatable {
        case text(String)
        case integer(Int)
        /// A score or points, shown with two decimals.
        case decimal(Double)
        /// A weight or a maximum, shown whole when it is whole and with two decimals otherwise.
        case number(Double)
        /// A part of 1 (satisfied respondents), shown as a percentage with one decimal.
        case share(Double)
        case empty
    }

    let value: Value
    /// Made once, with the cell: a streamed export reuses the cell of a value that repeats.
    let text: String

    private init(_ value: Value, text: String) {
        self.value = value
        self.text = text
    }

    static let empty = TableCell(.empty, text: "")

    static func text(_ text: String?) -> TableCell {
        text.map { TableCell(.text($0), text: $0) } ?? .empty
    }

    static func integer(_ value: Int?) -> TableCell {
        value.map { TableCell(.integer($0), text: String($0)) } ?? .empty
    }

    /// Rounded half away from zero, as everywhere else (74.395 is 74.40), in both formats: the
    /// workbook holds the figure as shown, so that a sum done in Excel agrees with the pages.
    static func decimal(_ value: Double?) -> TableCell {
        value.map { TableCell(.decimal(Statistics.rounded2($0)), text: String(format: "%.2f", Statistics.rounded2($0))) } ?? .empty
    }

    static func number(_ value: Double?) -> TableCell {
        value.map { value in
            let text = value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
            return TableCell(.number(Statistics.rounded2(value)), text: text)
        } ?? .empty
    }

    /// The workbook holds the share to the tenth of a percent the text shows, rounded as that
    /// text is (to the nearest, a tie to the even digit), so that both show the same figure.
    static func share(_ value: Double?) -> TableCell {
        value.map { share in
            TableCell(.share((share * 1000).rounded(.toNearestOrEven) / 1000), text: String(format: "%.1f%%", share * 100))
        } ?? .empty
    }
}
