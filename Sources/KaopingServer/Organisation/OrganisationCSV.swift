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
        case invalidNumber(String, String)
        case unknownUnit(String)
        case noScoreOrGrade
        /// A long number that Excel showed, and then saved, in scientific notation (1.38001E+10):
        /// its digits are gone from the file.
        case excelScientific(String, String)
        /// A code or number Excel took for a number and dropped its leading zeros from; the
        /// code it matches once they are back, when one is known.
        case leadingZerosLost(String, String, matching: String?)
    }

    public let line: Int
    public let kind: Kind

    /// The problem with its line, for a file. `workbook`: the file was an Excel workbook, so
    /// the advice to upload one instead of CSV does not apply.
    public func message(_ language: Language, workbook: Bool = false) -> String {
        language.text("import_line", ["line": line, "problem": detail(language, workbook: workbook)])
    }

    /// The problem alone, for a field of a form in the admin area.
    public func detail(_ language: Language, workbook: Bool = false) -> String {
        // Excel's habits are told apart by where the list came from: a CSV file can be sent
        // again as the workbook; a workbook only needs its column formatted as Text.
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
        case .invalidNumber(let column, let value): language.text("import_invalid_number", ["column": column, "value": value])
        case .unknownUnit(let code): language.text("import_unknown_unit", ["code": code])
        case .noScoreOrGrade: language.text("import_no_score_or_grade")
        case .excelScientific(let column, let value):
            language.text(workbook ? "import_excel_scientific_workbook" : "import_excel_scientific", ["column": column, "value": value])
        case .leadingZerosLost(let column, let value, let matching?):
            language.text(
                workbook ? "import_leading_zeros_known_workbook" : "import_leading_zeros_known",
                ["column": column, "value": value, "known": matching]
            )
        case .leadingZerosLost(let column, let value, nil):
            language.text(workbook ? "import_leading_zeros_workbook" : "import_leading_zeros", ["column": column, "value": value])
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
    /// The member's party group (党小组): nil when the file has no such column (an import then
    /// keeps the group the member has), empty when its cell is blank (the group is cleared).
    public var partyGroup: String? = nil
}

/// A non-party representative (群众代表) who votes in a branch's members' appraisal.
public struct RepresentativeRow: Sendable, Equatable {
    public let line: Int
    public let branchCode: String
    public let name: String
    public let phone: String?
    public let partyGroup: String?
}

/// A business unit (处室, 科室) and the branch that covers it.
public struct UnitRow: Sendable, Equatable {
    public let line: Int
    public let code: String
    public let name: String
    public let branchCode: String
    public let headcount: Int?
}

/// One unit's performance result for a year, with whatever indicator columns the file had.
public struct PerformanceRow: Sendable, Equatable {
    public let line: Int
    public let unitCode: String
    public let score: Double?
    public let grade: String?
    public let indicators: [String: String]
}

/// What an uploaded list holds: the good rows, every problem, and how the file was read.
public struct ImportPreview<Row: Sendable>: Sendable {
    public let rows: [Row]
    public let problems: [ImportProblem]
    public let encoding: CSVText.Encoding?
    /// The file's columns that are not part of the list, by their headers as written: ignored,
    /// and the preview says so.
    public var ignoredColumns: [String] = []

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
        Column(key: "group", label: "党小组", headers: ["党小组", "所在党小组", "party group", "party_group"], required: false),
    ]

    static let unitColumns = [
        Column(
            key: "code",
            label: "单位编码",
            headers: ["单位编码", "处室编码", "科室编码", "部门编码", "unit code", "unit_code", "code"],
            required: true
        ),
        Column(key: "name", label: "单位名称", headers: ["单位名称", "处室名称", "科室名称", "部门名称", "名称", "unit name", "unit_name", "name"], required: true),
        Column(key: "branch", label: "支部编码", headers: ["支部编码", "支部代码", "所在支部编码", "branch code", "branch_code", "branch"], required: true),
        Column(key: "headcount", label: "人数", headers: ["人数", "编制人数", "在编人数", "headcount"], required: false),
    ]

    static let performanceColumns = [
        Column(key: "unit", label: "单位编码", headers: ["单位编码", "处室编码", "科室编码", "部门编码", "unit code", "unit_code", "unit"], required: true),
        Column(key: "score", label: "得分", headers: ["得分", "绩效得分", "考核得分", "考评得分", "score"], required: false),
        Column(key: "grade", label: "等次", headers: ["等次", "等级", "考核等次", "考评等次", "grade"], required: false),
        // A unit's name may come along; it is not an indicator.
        Column(key: "name", label: "单位名称", headers: ["单位名称", "处室名称", "科室名称", "部门名称", "unit name", "unit_name"], required: false),
    ]

    static let representativeColumns = [
        Column(key: "branch", label: "支部编码", headers: ["支部编码", "支部代码", "所在支部编码", "branch code", "branch_code", "branch"], required: true),
        Column(key: "name", label: "姓名", headers: ["姓名", "name"], required: true),
        Column(key: "phone", label: "手机", headers: ["手机", "手机号", "手机号码", "电话", "phone", "mobile"], required: false),
        Column(key: "group", label: "党小组", headers: ["党小组", "所在党小组", "party group", "party_group"], required: false),
    ]

    /// Representatives for a members' appraisal: branch code, name, and optionally phone and the
    /// party group whose members they vote on.
    /// - Parameter knownBranches: codes of the branches taking part in the round.
    public static func representatives(_ bytes: [UInt8], knownBranches: Set<String>) -> ImportPreview<RepresentativeRow> {
        let stripped = ZeroStrippedCodes(knownBranches)
        return read(bytes, columns: representativeColumns) { line, value, problems in
            var rowProblems: [ImportProblem] = []
            let branch = code(value["branch"], column: "支部编码", line: line, problems: &rowProblems)
            let name = text(value["name"], column: "姓名", line: line, required: true, problems: &rowProblems)
            if let branch, !knownBranches.contains(branch) {
                rowProblems.append(unknownReference(branch, column: "支部编码", line: line, stripped: stripped) { .unknownBranch($0) })
            }
            let phone = text(value["phone"], column: "手机", line: line, required: false, problems: &rowProblems)
            let group = text(value["group"], column: "党小组", line: line, required: false, problems: &rowProblems)
            problems += rowProblems
            guard let branch, let name, rowProblems.isEmpty else { return nil }
            return RepresentativeRow(line: line, branchCode: branch, name: name, phone: phone, partyGroup: group)
        } uniqueKey: {
            $0.branchCode + "\u{1F}" + $0.name
        }
    }

    /// - Parameter knownBranches: codes of the branches already in the database.
    public static func units(_ bytes: [UInt8], knownBranches: Set<String>) -> ImportPreview<UnitRow> {
        let stripped = ZeroStrippedCodes(knownBranches)
        return read(bytes, columns: unitColumns) { line, value, problems in
            unitRow(line: line, value, knownBranches: knownBranches, stripped: stripped, problems: &problems)
        } uniqueKey: {
            $0.code
        }
    }

    /// One unit from its values (keys `code`, `name`, `branch`, `headcount`), checked the same
    /// way whether it comes from a file or from the form in the admin area.
    static func unitRow(
        line: Int,
        _ value: [String: String],
        knownBranches: Set<String>,
        stripped: ZeroStrippedCodes? = nil,
        problems: inout [ImportProblem]
    ) -> UnitRow? {
        var rowProblems: [ImportProblem] = []
        let unit = code(value["code"], column: "单位编码", line: line, problems: &rowProblems)
        let name = text(value["name"], column: "单位名称", line: line, required: true, problems: &rowProblems)
        let branch = code(value["branch"], column: "支部编码", line: line, problems: &rowProblems)
        if let branch, !knownBranches.contains(branch) {
            rowProblems.append(
                unknownReference(branch, column: "支部编码", line: line, stripped: stripped ?? ZeroStrippedCodes(knownBranches)) {
                    .unknownBranch($0)
                }
            )
        }
        var headcount: Int?
        if let given = value["headcount"], !given.isEmpty {
            headcount = Int(given).flatMap { $0 >= 0 ? $0 : nil }
            if headcount == nil { rowProblems.append(ImportProblem(line: line, kind: .invalidNumber("人数", given))) }
        }
        problems += rowProblems
        guard let unit, let name, let branch, rowProblems.isEmpty else { return nil }
        return UnitRow(line: line, code: unit, name: name, branchCode: branch, headcount: headcount)
    }

    /// Performance results as the performance office exports them: a unit code, a score (0–100)
    /// and/or a grade, and any other columns, kept as indicators under their headers.
    /// - Parameter knownUnits: codes of the units already in the database.
    public static func performance(_ bytes: [UInt8], knownUnits: Set<String>) -> ImportPreview<PerformanceRow> {
        let stripped = ZeroStrippedCodes(knownUnits)
        return read(bytes, columns: performanceColumns, keepingOtherColumns: true) { line, value, problems in
            performanceRow(line: line, value, knownUnits: knownUnits, stripped: stripped, problems: &problems)
        } uniqueKey: {
            $0.unitCode
        }
    }

    /// One unit's result from its values (keys `unit`, `score`, `grade`, and indicators under
    /// `otherColumnPrefix` + their name), checked the same way from a file or from the API.
    static func performanceRow(
        line: Int,
        _ value: [String: String],
        knownUnits: Set<String>,
        stripped: ZeroStrippedCodes? = nil,
        problems: inout [ImportProblem]
    ) -> PerformanceRow? {
        var rowProblems: [ImportProblem] = []
        let unit = Self.code(value["unit"], column: "单位编码", line: line, problems: &rowProblems)
        if let unit, !knownUnits.contains(unit) {
            rowProblems.append(
                unknownReference(unit, column: "单位编码", line: line, stripped: stripped ?? ZeroStrippedCodes(knownUnits)) {
                    .unknownUnit($0)
                }
            )
        }
        var score: Double?
        if let given = value["score"], !given.isEmpty {
            score = Double(given).flatMap { (0...100).contains($0) ? $0 : nil }
            if score == nil { rowProblems.append(ImportProblem(line: line, kind: .invalidNumber("得分", given))) }
        }
        let grade = Self.text(value["grade"], column: "等次", line: line, required: false, problems: &rowProblems)
        if value["score"]?.isEmpty ?? true, grade == nil { rowProblems.append(ImportProblem(line: line, kind: .noScoreOrGrade)) }
        var indicators: [String: String] = [:]
        for (key, text) in value where key.hasPrefix(otherColumnPrefix) && !text.isEmpty {
            indicators[String(key.dropFirst(otherColumnPrefix.count))] = text
        }
        problems += rowProblems
        guard let unit, rowProblems.isEmpty else { return nil }
        return PerformanceRow(line: line, unitCode: unit, score: score, grade: grade, indicators: indicators)
    }

    /// Where `read` puts the value of a column it does not know, under its header as written.
    static let otherColumnPrefix = "\u{1}"

    /// - Parameter existing: codes of the branches already in the database, to recognise a code
    ///   Excel stripped of its leading zeros (7 for 007) instead of adding it as a new branch.
    public static func branches(_ bytes: [UInt8], existing: Set<String> = []) -> ImportPreview<BranchRow> {
        let stripped = ZeroStrippedCodes(existing)
        return read(bytes, columns: branchColumns) { line, value, problems in
            guard let row = branchRow(line: line, value, problems: &problems) else { return nil }
            if !existing.contains(row.code), let original = stripped.original(of: row.code) {
                problems.append(ImportProblem(line: line, kind: .leadingZerosLost("支部编码", row.code, matching: original)))
                return nil
            }
            return row
        } uniqueKey: {
            $0.code
        }
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
    /// - Parameter knownStaff: staff numbers of the members already in the database, to
    ///   recognise one Excel stripped of its leading zeros.
    public static func members(_ bytes: [UInt8], knownBranches: Set<String>, knownStaff: Set<String> = []) -> ImportPreview<MemberRow> {
        let strippedBranches = ZeroStrippedCodes(knownBranches)
        let strippedStaff = ZeroStrippedCodes(knownStaff)
        return read(bytes, columns: memberColumns) { line, value, problems in
            var zerosLost: ImportProblem?
            if let staff = value["staff"], !knownStaff.contains(staff), let original = strippedStaff.original(of: staff) {
                zerosLost = ImportProblem(line: line, kind: .leadingZerosLost("工号", staff, matching: original))
            }
            if let zerosLost { problems.append(zerosLost) }
            let row = memberRow(line: line, value, knownBranches: knownBranches, stripped: strippedBranches, problems: &problems)
            return zerosLost == nil ? row : nil
        } uniqueKey: {
            $0.staffNumber
        }
    }

    /// One member from its values (keys `staff`, `name`, `branch`, `phone`, `group`).
    static func memberRow(
        line: Int,
        _ value: [String: String],
        knownBranches: Set<String>,
        stripped: ZeroStrippedCodes? = nil,
        problems: inout [ImportProblem]
    ) -> MemberRow? {
        var rowProblems: [ImportProblem] = []
        let staff = code(value["staff"], column: "工号", line: line, problems: &rowProblems)
        let name = text(value["name"], column: "姓名", line: line, required: true, problems: &rowProblems)
        let branch = code(value["branch"], column: "支部编码", line: line, problems: &rowProblems)
        if let branch, !knownBranches.contains(branch) {
            rowProblems.append(
                unknownReference(branch, column: "支部编码", line: line, stripped: stripped ?? ZeroStrippedCodes(knownBranches)) {
                    .unknownBranch($0)
                }
            )
        }
        let phone = text(value["phone"], column: "手机", line: line, required: false, problems: &rowProblems)
        if let given = phone, Self.isExcelScientific(given) {
            rowProblems.append(ImportProblem(line: line, kind: .excelScientific("手机", given)))
        } else if let given = phone, Self.isLandlineWithoutItsZero(given) {
            rowProblems.append(ImportProblem(line: line, kind: .leadingZerosLost("手机", given, matching: nil)))
        } else if let given = phone {
            let digits = given.filter(\.isNumber)
            let allowed = given.allSatisfy { $0.isNumber || " +-()".contains($0) }
            if !allowed || !(5...15).contains(digits.count) {
                rowProblems.append(ImportProblem(line: line, kind: .invalidPhone(given)))
            }
        }
        problems += rowProblems
        guard let staff, let name, let branch, rowProblems.isEmpty else { return nil }
        let group = value["group"].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        return MemberRow(line: line, staffNumber: staff, name: name, branchCode: branch, phone: phone, partyGroup: group)
    }

    private static func read<Row>(
        _ bytes: [UInt8],
        columns: [Column],
        keepingOtherColumns: Bool = false,
        row makeRow: (Int, [String: String], inout [ImportProblem]) -> Row?,
        uniqueKey: (Row) -> String
    ) -> ImportPreview<Row> {
        let (records, encoding): ([CSVParser.Record], CSVText.Encoding)
        switch Self.records(bytes) {
        case .success(let read): (records, encoding) = read
        case .failure(let problem): return ImportPreview(rows: [], problems: [problem.problem], encoding: problem.encoding)
        }
        guard let header = records.first else {
            return ImportPreview(rows: [], problems: [ImportProblem(line: 1, kind: .emptyFile)], encoding: encoding)
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
        guard problems.isEmpty else { return ImportPreview(rows: [], problems: problems, encoding: encoding) }
        if records.count == 1 {
            return ImportPreview(rows: [], problems: [ImportProblem(line: header.line, kind: .emptyFile)], encoding: encoding)
        }
        var rows: [Row] = []
        var seen: [String: Int] = [:]
        for record in records.dropFirst() {
            // Excel saves rows it once formatted as empty lines of commas (",,,"): not rows at all.
            if record.fields.allSatisfy({ $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) { continue }
            var values: [String: String] = [:]
            for (key, index) in positions where index < record.fields.count {
                values[key] = record.fields[index].trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if keepingOtherColumns {
                let known = Set(positions.values)
                for (index, field) in record.fields.enumerated() where !known.contains(index) && index < header.fields.count {
                    let name = header.fields[index].trimmingCharacters(in: .whitespacesAndNewlines)
                    if !name.isEmpty { values[otherColumnPrefix + name] = field.trimmingCharacters(in: .whitespacesAndNewlines) }
                }
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
        if rows.isEmpty && problems.isEmpty { problems.append(ImportProblem(line: header.line, kind: .emptyFile)) }
        // Columns no one reads (a remark, a contact person) are said, not silently dropped; a
        // performance file keeps them as indicators.
        let used = Set(positions.values)
        let ignored =
            keepingOtherColumns
            ? []
            : header.fields.enumerated().compactMap { index, field -> String? in
                let name = field.trimmingCharacters(in: .whitespacesAndNewlines)
                return used.contains(index) || name.isEmpty ? nil : name
            }
        return ImportPreview(rows: rows, problems: problems, encoding: encoding, ignoredColumns: ignored)
    }

    struct Unreadable: Error {
        let problem: ImportProblem
        let encoding: CSVText.Encoding?
    }

    /// The rows of an uploaded list: the first sheet of an Excel workbook, or CSV text in UTF-8
    /// (with or without a byte-order mark) or GB18030.
    static func records(_ bytes: [UInt8]) -> Result<([CSVParser.Record], CSVText.Encoding), Unreadable> {
        if XLSXReader.looksLikeWorkbook(bytes) {
            do {
                let rows = try XLSXReader.sheets(bytes).first?.rows ?? []
                return .success((rows.map { CSVParser.Record(line: $0.number, fields: $0.cells) }, .workbook))
            } catch {
                return .failure(Unreadable(problem: ImportProblem(line: 1, kind: .unreadable(error.description)), encoding: .workbook))
            }
        }
        let decoded: (text: String, encoding: CSVText.Encoding)
        do {
            decoded = try CSVText.decode(bytes)
        } catch {
            return .failure(Unreadable(problem: ImportProblem(line: 1, kind: .unreadable(error.description)), encoding: nil))
        }
        do {
            return .success((try CSVParser.parse(decoded.text), decoded.encoding))
        } catch {
            return .failure(Unreadable(problem: ImportProblem(line: error.line, kind: .unreadable(error.description)), encoding: decoded.encoding))
        }
    }

    private static func code(_ value: String?, column: String, line: Int, problems: inout [ImportProblem]) -> String? {
        guard let value, !value.isEmpty else {
            problems.append(ImportProblem(line: line, kind: .missingValue(column)))
            return nil
        }
        if isExcelScientific(value) {
            problems.append(ImportProblem(line: line, kind: .excelScientific(column, value)))
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

    /// A code that names nothing known: unknown, or, if it is a known code without its leading
    /// zeros, what Excel did to it.
    private static func unknownReference(
        _ value: String,
        column: String,
        line: Int,
        stripped: ZeroStrippedCodes,
        unknown: (String) -> ImportProblem.Kind
    ) -> ImportProblem {
        if let original = stripped.original(of: value) {
            return ImportProblem(line: line, kind: .leadingZerosLost(column, value, matching: original))
        }
        return ImportProblem(line: line, kind: unknown(value))
    }

    /// A Chinese number written as digits alone is a mobile (11 digits from 1) or a landline
    /// with its area code (from 0). Nine to eleven digits from 2 to 9 are a landline whose 0
    /// Excel removed: 2112345678 was 021-12345678.
    static func isLandlineWithoutItsZero(_ value: String) -> Bool {
        guard (9...11).contains(value.count), value.allSatisfy({ $0.isASCII && $0.isNumber }), let first = value.first else { return false }
        return ("2"..."9").contains(first)
    }

    /// "1.38001E+10", "1E+11": how Excel shows a long number in a General column, and writes it
    /// to CSV that way.
    static func isExcelScientific(_ value: String) -> Bool {
        let parts = value.uppercased().split(separator: "E+", omittingEmptySubsequences: false)
        guard parts.count == 2, let mantissa = parts.first, let exponent = parts.last, !exponent.isEmpty, exponent.allSatisfy(\.isASCII),
            exponent.allSatisfy(\.isNumber)
        else { return false }
        let digits = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        return (1...2).contains(digits.count) && digits.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
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

/// Known codes that start with zeros, by what Excel leaves of them when it takes them for
/// numbers (007 → 7), to tell a stripped code from an unknown one.
struct ZeroStrippedCodes {
    private var byStripped: [String: String] = [:]

    init(_ codes: some Sequence<String>) {
        for code in codes where code.first == "0" && code.allSatisfy({ $0.isASCII && $0.isNumber }) {
            let stripped = String(code.drop { $0 == "0" })
            if !stripped.isEmpty { byStripped[stripped] = code }
        }
    }

    /// The known code `value` was before Excel removed its leading zeros, if there is one.
    func original(of value: String) -> String? {
        guard value.first != "0", value.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return byStripped[value]
    }
}
