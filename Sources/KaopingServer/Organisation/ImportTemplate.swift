import Foundation

/// A blank list to fill in, for each kind of import: the columns Kaoping reads, under the
/// headers it expects, and one example row.
///
/// In the workbook the code, staff number and phone columns are formatted as Text before anyone
/// types into them, which is what keeps Excel from turning 00123 into 123 and a phone number
/// into 1.38001E+10.
public struct ImportTemplate: Sendable {
    public let kind: OrganisationUpload.Kind
    public let header: [String]
    public let example: [String]
    /// Columns (by position) that hold codes or numbers to keep as typed.
    public let textColumns: Set<Int>

    public static func of(_ kind: OrganisationUpload.Kind) -> ImportTemplate {
        switch kind {
        case .branches:
            ImportTemplate(
                kind: kind,
                header: OrganisationCSV.branchColumns.map(\.label),
                example: ["001", "机关第一党支部", "机关党委", "张明"],
                textColumns: [0]
            )
        case .members:
            ImportTemplate(
                kind: kind,
                header: OrganisationCSV.memberColumns.map(\.label),
                example: ["00123", "李华", "001", "13800138000", "第一党小组"],
                textColumns: [0, 2, 3]
            )
        case .units:
            ImportTemplate(
                kind: kind,
                header: OrganisationCSV.unitColumns.map(\.label),
                example: ["D01", "办公室", "001", "12"],
                textColumns: [0, 2]
            )
        case .performance:
            // Any further column is read as an indicator and kept with the result.
            ImportTemplate(
                kind: kind,
                header: OrganisationCSV.performanceColumns.map(\.label) + ["重点任务完成率"],
                example: ["D01", "92.5", "优秀", "办公室", "96%"],
                textColumns: [0]
            )
        }
    }

    /// The template as CSV: UTF-8 with a byte-order mark (so that Excel reads the Chinese
    /// headers), lines ended CRLF.
    public var csv: String {
        "\u{FEFF}" + CSVWriter.row(header) + CSVWriter.row(example)
    }

    /// The file name people see, and a plain one for clients that cannot show Chinese.
    public func fileName(extension suffix: String) -> (display: String, fallback: String) {
        let display =
            switch kind {
            case .branches: "支部名单模板"
            case .members: "党员名单模板"
            case .units: "单位名单模板"
            case .performance: "绩效结果模板"
            }
        return ("\(display).\(suffix)", "\(kind.rawValue)-template.\(suffix)")
    }
}

extension ImportTemplate {
    /// The template as an Excel workbook, its text columns formatted as Text.
    func workbook() throws -> [UInt8] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kaoping-template-\(UUID().uuidString).xlsx").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let book = try Spreadsheet(path: path)
        try book.addSheet(
            kind.rawValue,
            header: header,
            rows: [example.map { TableCell.text($0) }],
            textColumns: textColumns
        )
        try book.close()
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}
