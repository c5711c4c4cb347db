import Foundation
import KaopingAggregation
import KaopingForms
import Logging
import PostgresNIO

/// The raw anonymous answers of a round as CSV, one line per answer: a response's random id,
/// its branch, rater group and date, and the answer as a person reads it (the question, the
/// option's label or the text), with the item and option codes in columns of their own. Nothing that identifies a person, no
/// time of day; a branch's group below the anonymity threshold is left out whole
/// (`Disclosure.showsBreakdown`, counted in the database rather than by computing the results,
/// so that the download needs no more memory for a million responses than for ten). Streamed
/// from the database in chunks, so memory stays flat however large the round.
public enum ResponsesExport {
    static let columns = [
        "col_response", "col_branch_code", "col_branch", "col_group", "col_date", "col_response_score", "col_question", "col_answer",
        "col_points", "col_answer_item", "col_option",
    ]

    public static func header(_ language: Language) -> [String] {
        columns.map { language.text($0) }
    }

    /// Calls `write` with successive pieces of the CSV (the first holds the byte-order mark and
    /// the header), each about `chunkSize` bytes.
    public static func csv(
        roundID: UUID,
        threshold: Int,
        database: Database,
        forms: FormRepository,
        language: Language,
        logger: Logger,
        chunkSize: Int = 64 * 1024,
        write: (String) async throws -> Void
    ) async throws {
        var csv = CSVPieces(header: header(language), size: chunkSize)
        let english = language == .english
        // The questions and option labels of every form the round's responses answered.
        var questions: [UUID: [String: FormItem]] = [:]
        for row in try await database.query("SELECT form_version_id FROM round_groups WHERE round_id = \(roundID) AND form_version_id IS NOT NULL") {
            let id = try row.decode(UUID.self)
            if let form = try await forms.definition(id: id) {
                questions[id] = Dictionary(form.items.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
            }
        }
        let groupNames = Dictionary(
            uniqueKeysWithValues: RoundConfiguration.RaterGroup.allCases.map { ($0.rawValue, language.text("group_\($0.rawValue)")) }
        )
        var shown: [String] = []
        for row in try await database.query(
            """
            SELECT b.code, r.rater_group, count(r.score)::int FROM responses r JOIN branches b ON b.id = r.branch_id
            WHERE r.round_id = \(roundID) GROUP BY 1, 2
            """,
            logger: logger
        ) {
            let (code, group, scored) = try row.decode((String, String, Int).self)
            if Disclosure.showsBreakdown(scoredResponses: scored, threshold: threshold) { shown.append("\(code)/\(group)") }
        }
        try await database.withCursor(
            """
            SELECT r.id, b.code, b.name, r.rater_group, r.form_version_id, r.submitted_on::text, r.score,
                   a.item_key, a.option_key, a.points, a.number_value, a.text_value
            FROM responses r JOIN branches b ON b.id = r.branch_id LEFT JOIN answers a ON a.response_id = r.id
            WHERE r.round_id = \(roundID) AND b.code || '/' || r.rater_group = ANY(\(shown))
            ORDER BY b.code, r.rater_group, r.id, a.item_key
            """,
            logger: logger
        ) { rows in
            // A response's first six fields repeat on each of its lines, and questions, option
            // labels and points take a few values: each such field is escaped once and the
            // line written straight into the piece, not gathered into cells first (a round's
            // answers are millions of lines).
            func field(_ text: String?) -> String { CSVWriter.field(text ?? "") }
            func decimal(_ value: Double?) -> String { CSVWriter.field(TableCell.decimal(value).text) }
            var response: (id: UUID, fields: String)?
            var questionFields: [UUID: [String: String]] = [:]
            var labelFields: [UUID: [String: [String: String]]] = [:]
            var pointsFields: [Double: String] = [:]
            for try await row in rows {
                var cells = RowCells(row)
                let id = try cells.next(UUID.self)
                let form: UUID
                if let response, response.id == id {
                    // Branch, group and date are the response's own: not decoded again.
                    try cells.skip(3)
                    form = try cells.next(UUID.self)
                    try cells.skip(2)
                } else {
                    let code = try cells.next(String.self)
                    let name = try cells.next(String.self)
                    let group = try cells.next(String.self)
                    form = try cells.next(UUID.self)
                    let date = try cells.next(String.self)
                    let score = try cells.next(Double?.self)
                    let fields = [
                        field(id.uuidString.lowercased()), field(code), field(name), field(groupNames[group] ?? group), field(date),
                        decimal(score),
                    ]
                    response = (id, fields.joined(separator: ","))
                }
                let item = try cells.next(String?.self)
                let option = try cells.next(String?.self)
                let points = try cells.next(Double?.self)
                let number = try cells.next(Double?.self)
                let text = try cells.next(String?.self)
                let question = item.flatMap { questions[form]?[$0] }
                let questionField: String
                if let item {
                    if let known = questionFields[form]?[item] {
                        questionField = known
                    } else {
                        questionField = field(question?.label.text(english: english) ?? item)
                        questionFields[form, default: [:]][item] = questionField
                    }
                } else {
                    questionField = ""
                }
                // An answer is its option's label or its text, or else its number.
                let answerField: String
                if let option, let item {
                    if let known = labelFields[form]?[item]?[option] {
                        answerField = known
                    } else {
                        answerField = field(question?.option(option)?.label.text(english: english) ?? option)
                        labelFields[form, default: [:]][item, default: [:]][option] = answerField
                    }
                } else if let option {
                    answerField = field(option)
                } else if let text {
                    answerField = field(text)
                } else {
                    answerField = decimal(number)
                }
                var pointsField = ""
                if let points {
                    if let known = pointsFields[points] {
                        pointsField = known
                    } else {
                        pointsField = decimal(points)
                        if pointsFields.count < 1_000 { pointsFields[points] = pointsField }
                    }
                }
                let piece = csv.appendLine { line in
                    line += response?.fields ?? ""
                    line += ","
                    line += questionField
                    line += ","
                    line += answerField
                    line += ","
                    line += pointsField
                    line += ","
                    line += item.map(CSVWriter.field) ?? ""
                    line += ","
                    line += option.map(CSVWriter.field) ?? ""
                }
                if let piece { try await write(piece) }
            }
        }
        if let piece = csv.rest() { try await write(piece) }
    }
}
