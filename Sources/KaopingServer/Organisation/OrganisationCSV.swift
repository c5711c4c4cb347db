import Foundation

/// One problem in an uploaded list, tied to its line in the file.
public struct ImportProblem: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case unreadable(String)
        case emptyFile
        case missingColumn(String)
        case missingValue(String)
        case invalidCode(String, String)
        case tooLong(String)
        case duplicate(String, firstLine: Int)
        case unknownBranch(String)
        case invalidPhone(String)
        case alreadyExists(String)
    }

    public let line: Int
    public let kind: Kind

    /// The problem with its line, for a file.
    public func message(_ language: Language) -> String {
        language.text("import_line", ["line": line, "problem": detail(language)])
    }

    /// The problem alone, for a field of a form in the admin area.
    public func detail(_ language: Language) -> String {
        switch kind {
        case .unreadable(let reason): language.text("import_unreadable", ["reason": reason])
        case .emptyFile: language.text("import_empty")
        case .missingColumn(let column): language.text("import_missing_column", ["column": column])
        case .missingValue(let column): language.text("import_missing_value", ["column": column])
        case .invalidCode(let column, let value): language.text("import_invalid_code", ["column": column, "value": value])
        case .tooLong(let column): language.text("import_too_long", ["column": column])
        case .duplicate(let value, let first): language.text("import_duplicate", ["value": value, "first": first])
        case .unknownBranch(let code): language.text("import_unknown_branch", ["code": code])
        case .invalidPhone(let value): language.text("import_invalid_phone", ["value": value])
        case .alreadyExists(let value): language.text("import_already_exists", ["value": value])
        }
    }
}

public struct BranchRow: Sendable, Equatable {
    public let line: Int
    public let code: String
    public let name: String
    public let parent: String?
    public let secretary: String?
}

public struct MemberRow: Sendable, Equatable {
    public let line: Int
    public let staffNumber: String
    public let name: String
    public let branchCode: String
    public let phone: String?
}

/// What an uploaded list holds: the good rows, every problem, and how the file was read.
public struct ImportPreview<Row: Sendable>: Sendable {
    public let rows: [Row]
    public let problems: [ImportProblem]
    public let encoding: CSVText.Encoding?

    /// Lists are imported whole or not at all.
    public var canImport: Bool { problems.isEmpty && !rows.isEmpty }
}

/// Reading branch and member lists exported from Excel. Column headers may be Chinese or
/// English; columns may come in any order; extra columns are ignored.
public enum OrganisationCSV {
    struct Column {
        let key: String
        let label: String
        let headers: [String]
        let required: Bool
    }

    static let branchColumns = [
        Column(key: "code", label: "支部编码", headers: ["支部编码", "支部代码", "编码", "code", "branch code", "branch_code"], required: true),
        Column(key: "name", label: "支部名称", headers: ["支部名称", "名称", "支部", "name", "branch name", "branch_name"], required: true),
        Column(key: "parent", label: "上级组织", headers: ["上级组织", "上级党组织", "所属组织", "parent", "parent organisation", "organisation"], required: false),
        Column(key: "secretary", label: "支部书记", headers: ["支部书记", "书记", "secretary"], required: false),
    ]

    static let memberColumns = [
        Column(key: "staff", label: "工号", headers: ["工号", "职工号", "人员编号", "编号", "staff number", "staff_number", "staff no"], required: true),
        Column(key: "name", label: "姓名", headers: ["姓名", "name"], required: true),
        Column(key: "branch", label: "支部编码", headers: ["支部编码", "支部代码", "所在支部编码", "branch code", "branch_code", "branch"], required: true),
        Column(key: "phone", label: "手机", headers: ["手机", "手机号", "手机号码", "电话", "phone", "mobile"], required: false),
    ]

    public static func branches(_ bytes: [UInt8]) -> ImportPreview<BranchRow> {
        read(bytes, columns: branchColumns, row: branchRow) { $0.code }
    }

    /// One branch from its values (keys `code`, `name`, `parent`, `secretary`), checked the same
    /// way whether it comes from a file or from the form in the admin area.
    static func branchRow(line: Int, _ value: [String: String], problems: inout [ImportProblem]) -> BranchRow? {
        var rowProblems: [ImportProblem] = []
        let code = code(value["code"], column: "支部编码", line: line, problems: &rowProblems)
        let name = text(value["name"], column: "支部名称", line: line, required: true, problems: &rowProblems)
        let parent = text(value["parent"], column: "上级组织", line: line, required: false, problems: &rowProblems)
        let secretary = text(value["secretary"], column: "支部书记", line: line, required: false, problems: &rowProblems)
        problems += rowProblems
        guard let code, let name, rowProblems.isEmpty else { return nil }
        return BranchRow(line: line, code: code, name: name, parent: parent, secretary: secretary)
    }

    /// - Parameter knownBranches: codes of the branches already in the database.
    public static func members(_ bytes: [UInt8], knownBranches: Set<String>) -> ImportPreview<MemberRow> {
        read(bytes, columns: memberColumns) { line, value, problems in
            memberRow(line: line, value, knownBranches: knownBranches, problems: &problems)
        } uniqueKey: {
            $0.staffNumber
        }
    }

    /// One member from its values (keys `staff`, `name`, `branch`, `phone`).
    static func memberRow(line: Int, _ value: [String: String], knownBranches: Set<String>, problems: inout [ImportProblem]) -> MemberRow? {
        var rowProblems: [ImportProblem] = []
        let staff = code(value["staff"], column: "工号", line: line, problems: &rowProblems)
        let name = text(value["name"], column: "姓名", line: line, required: true, problems: &rowProblems)
        let branch = code(value["branch"], column: "支部编码", line: line, problems: &rowProblems)
        if let branch, !knownBranches.contains(branch) {
            rowProblems.append(ImportProblem(line: line, kind: .unknownBranch(branch)))
        }
        let phone = text(value["phone"], column: "手机", line: line, required: false, problems: &rowProblems)
        if let given = phone {
            let digits = given.filter(\.isNumber)
            let allowed = given.allSatisfy { $0.isNumber || " +-()".contains($0) }
            if !allowed || !(5...15).contains(digits.count) {
                rowProblems.append(ImportProblem(line: line, kind: .invalidPhone(given)))
            }
        }
        problems += rowProblems
        guard let staff, let name, let branch, rowProblems.isEmpty else { return nil }
        return MemberRow(line: line, staffNumber: staff, name: name, branchCode: branch, phone: phone)
    }

    private static func read<Row>(
        _ bytes: [UInt8],
        columns: [Column],
        row makeRow: (Int, [String: String], inout [ImportProblem]) -> Row?,
        uniqueKey: (Row) -> String
    ) -> ImportPreview<Row> {
        let decoded: (text: String, encoding: CSVText.Encoding)
        do {
            decoded = try CSVText.decode(bytes)
        } catch {
            return ImportPreview(rows: [], problems: [ImportProblem(line: 1, kind: .unreadable(error.description))], encoding: nil)
        }
        let records: [CSVParser.Record]
        do {
            records = try CSVParser.parse(decoded.text)
        } catch {
            return ImportPreview(
                rows: [],
                problems: [ImportProblem(line: error.line, kind: .unreadable(error.description))],
                encoding: decoded.encoding
            )
        }
        guard let header = records.first else {
            return ImportPreview(rows: [], problems: [ImportProblem(line: 1, kind: .emptyFile)], encoding: decoded.encoding)
        }
        var positions: [String: Int] = [:]
        var problems: [ImportProblem] = []
        let headers = header.fields.map { $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }
        for column in columns {
            if let index = headers.firstIndex(where: { column.headers.contains($0) }) {
                positions[column.key] = index
            } else if column.required {
                problems.append(ImportProblem(line: header.line, kind: .missingColumn(column.label)))
            }
        }
        guard problems.isEmpty else { return ImportPreview(rows: [], problems: problems, encoding: decoded.encoding) }
        if records.count == 1 {
            return ImportPreview(rows: [], problems: [ImportProblem(line: header.line, kind: .emptyFile)], encoding: decoded.encoding)
        }
        var rows: [Row] = []
        var seen: [String: Int] = [:]
        for record in records.dropFirst() {
            var values: [String: String] = [:]
            for (key, index) in positions where index < record.fields.count {
                values[key] = record.fields[index].trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard let row = makeRow(record.line, values, &problems) else { continue }
            let key = uniqueKey(row)
            if let first = seen[key] {
                problems.append(ImportProblem(line: record.line, kind: .duplicate(key, firstLine: first)))
                continue
            }
            seen[key] = record.line
            rows.append(row)
        }
        return ImportPreview(rows: rows, problems: problems, encoding: decoded.encoding)
    }

    private static func code(_ value: String?, column: String, line: Int, problems: inout [ImportProblem]) -> String? {
        guard let value, !value.isEmpty else {
            problems.append(ImportProblem(line: line, kind: .missingValue(column)))
            return nil
        }
        let allowed = value.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)
        }
        guard allowed, value.count <= 64 else {
            problems.append(ImportProblem(line: line, kind: .invalidCode(column, value)))
            return nil
        }
        return value
    }

    private static func text(_ value: String?, column: String, line: Int, required: Bool, problems: inout [ImportProblem]) -> String? {
        guard let value, !value.isEmpty else {
            if required { problems.append(ImportProblem(line: line, kind: .missingValue(column))) }
            return nil
        }
        guard value.count <= 100 else {
            problems.append(ImportProblem(line: line, kind: .tooLong(column)))
            return nil
        }
        return value
    }
}
