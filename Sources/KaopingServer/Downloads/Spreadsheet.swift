import CXlsxWriter
import Foundation

/// An .xlsx file written by libxlsxwriter in its constant-memory mode: rows go to temporary
/// files as they are written, so a sheet of a million rows costs no more memory than a short
/// one. Rows must be written top to bottom.
final class Spreadsheet {
    struct WriteError: Error, CustomStringConvertible {
        let description: String
    }

    private let workbook: UnsafeMutablePointer<lxw_workbook>
    private let headerFormat: UnsafeMutablePointer<lxw_format>
    private let decimalFormat: UnsafeMutablePointer<lxw_format>
    private let percentFormat: UnsafeMutablePointer<lxw_format>
    private let textFormat: UnsafeMutablePointer<lxw_format>
    private var closed = false

    init(path: String) throws {
        var options = lxw_workbook_options(constant_memory: 1, tmpdir: nil, use_zip64: 1)
        guard let workbook = workbook_new_opt(path, &options) else { throw WriteError(description: "cannot create \(path)") }
        self.workbook = workbook
        headerFormat = workbook_add_format(workbook)
        format_set_bold(headerFormat)
        format_set_bg_color(headerFormat, 0xE8E8E8)
        decimalFormat = workbook_add_format(workbook)
        format_set_num_format(decimalFormat, "0.00")
        percentFormat = workbook_add_format(workbook)
        format_set_num_format(percentFormat, "0.0%")
        textFormat = workbook_add_format(workbook)
        format_set_num_format(textFormat, "@")
    }

    deinit {
        if !closed { workbook_close(workbook) }
    }

    /// A sheet with a bold, frozen header row with filters, columns wide enough for their text
    /// (Chinese characters count double, as they are twice as wide), and set up to print on A4
    /// landscape, as wide as one page, with the header on every page.
    ///
    /// - Parameter textColumns: columns formatted as Text, so that what is typed into them later
    ///   (a code such as 001, a phone number) stays as typed.
    func addSheet(_ name: String, header: [String], rows: some Sequence<[TableCell]>, textColumns: Set<Int> = []) throws {
        var sheet = try beginSheet(name, header: header, textColumns: textColumns)
        for row in rows { sheet.write(row) }
        sheet.finish()
    }

    /// The same, with rows that arrive as they are read (from the database), so that a sheet of
    /// every comment of a round never holds them all.
    func addSheet(
        _ name: String,
        header: [String],
        rows: some AsyncSequence<[TableCell], any Error>,
        textColumns: Set<Int> = []
    ) async throws {
        var sheet = try beginSheet(name, header: header, textColumns: textColumns)
        for try await row in rows { sheet.write(row) }
        sheet.finish()
    }

    /// One sheet being written, row after row; `finish` sizes the columns and sets up printing.
    struct SheetWriter {
        let sheet: UnsafeMutablePointer<lxw_worksheet>
        let header: [String]
        let textColumns: Set<Int>
        let decimalFormat: UnsafeMutablePointer<lxw_format>
        let percentFormat: UnsafeMutablePointer<lxw_format>
        let textFormat: UnsafeMutablePointer<lxw_format>
        var widths: [Int]
        var rowNumber: UInt32 = 1

        /// Numbers as numbers, with the format that shows them as the CSV does; the cell already
        /// holds the figure as shown (`TableCell.decimal`).
        mutating func write(_ row: [TableCell]) {
            for (column, cell) in row.enumerated() {
                let col = lxw_col_t(column)
                switch cell.value {
                case .text(let text):
                    guard !text.isEmpty else { continue }
                    worksheet_write_string(sheet, rowNumber, col, text, textColumns.contains(column) ? textFormat : nil)
                    widen(column, to: Spreadsheet.displayWidth(text))
                case .decimal(let value), .number(let value):
                    worksheet_write_number(sheet, rowNumber, col, value, decimalFormat)
                    widen(column, to: 8)
                case .share(let value):
                    worksheet_write_number(sheet, rowNumber, col, value, percentFormat)
                    widen(column, to: 8)
                case .integer(let value):
                    worksheet_write_number(sheet, rowNumber, col, Double(value), nil)
                case .empty:
                    continue
                }
            }
            rowNumber += 1
        }

        private mutating func widen(_ column: Int, to width: Int) {
            if column < widths.count { widths[column] = max(widths[column], width) }
        }

        func finish() {
            for (column, width) in widths.enumerated() {
                let format = textColumns.contains(column) ? textFormat : nil
                worksheet_set_column(sheet, lxw_col_t(column), lxw_col_t(column), Double(min(width, 60) + 2), format)
            }
            if !header.isEmpty {
                worksheet_autofilter(sheet, 0, 0, max(rowNumber - 1, 1), lxw_col_t(header.count - 1))
            }
            worksheet_set_landscape(sheet)
            worksheet_set_paper(sheet, 9)  // A4
            worksheet_fit_to_pages(sheet, 1, 0)
            worksheet_repeat_rows(sheet, 0, 0)
        }
    }

    private func beginSheet(_ name: String, header: [String], textColumns: Set<Int>) throws -> SheetWriter {
        guard let sheet = workbook_add_worksheet(workbook, name) else { throw WriteError(description: "cannot add sheet \(name)") }
        for (column, title) in header.enumerated() {
            worksheet_write_string(sheet, 0, lxw_col_t(column), title, headerFormat)
        }
        worksheet_freeze_panes(sheet, 1, 0)
        return SheetWriter(
            sheet: sheet,
            header: header,
            textColumns: textColumns,
            decimalFormat: decimalFormat,
            percentFormat: percentFormat,
            textFormat: textFormat,
            widths: header.map(Self.displayWidth)
        )
    }

    func close() throws {
        closed = true
        let error = workbook_close(workbook)
        guard error == LXW_NO_ERROR else { throw WriteError(description: String(cString: lxw_strerror(error))) }
    }

    static func displayWidth(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x2E80 ? 2 : 1) }
    }
}
