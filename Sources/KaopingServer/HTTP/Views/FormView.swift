import Foundation
import KaopingForms

/// Turns a form definition, and what was sent, into the values the form template shows.
struct FormView {
    let form: FormDefinition
    let language: Language
    let limits: SubmissionLimits

    /// - Parameters:
    ///   - submitted: what was posted (shown again), or `nil` for a fresh form.
    func values(submitted: ParsedSubmission?) -> [String: Any] {
        let problems = Dictionary(submitted?.problems.map { ($0.item, $0.problem) } ?? [], uniquingKeysWith: { first, _ in first })
        let sent = submitted?.values ?? [:]
        var number = 0
        var sections: [[String: Any]] = []
        for section in form.sections {
            var items: [[String: Any]] = []
            for item in section.items {
                number += 1
                items.append(self.item(item, number: number, sent: sent, problem: problems[item.key]))
            }
            var values: [String: Any] = ["title": section.title.text(language), "items": items]
            if let intro = section.intro { values["intro"] = intro.text(language) }
            sections.append(values)
        }
        let problemList: [[String: Any]] = (submitted?.problems ?? []).compactMap { entry in
            guard let item = form.item(entry.item) else { return nil }
            return ["anchor": "item-\(item.key)", "label": item.label.text(language), "message": message(entry.problem)]
        }
        var values: [String: Any] = [
            "formTitle": form.title.text(language),
            "sections": sections,
            "problems": problemList,
            "hasProblems": !problemList.isEmpty,
            "isSurvey": form.kind == .survey,
            "fresh": submitted == nil,
        ]
        if let intro = form.intro { values["formIntro"] = intro.text(language) }
        return values
    }

    func message(_ problem: AnswerProblem) -> String {
        language.text("problem_\(problem.rawValue)")
    }

    private func item(_ item: FormItem, number: Int, sent: [String: String], problem: AnswerProblem?) -> [String: Any] {
        let field = FormDefinition.answerField(item.key)
        let value = sent[field] ?? ""
        var describedBy: [String] = []
        var values: [String: Any] = [
            "key": item.key,
            "id": "item-\(item.key)",
            "inputId": "input-\(item.key)",
            "field": field,
            "number": number,
            "label": item.label.text(language),
            "required": item.required,
            "value": value,
            "isChoice": item.type.hasOptions,
            "isText": item.type.isText,
            "isLongText": item.type == .longText,
            "isPoints": item.type == .deduction || item.type == .bonus,
            "isBaseline": item.type == .baseline,
        ]
        if let help = item.help {
            values["help"] = help.text(language)
            values["hasHelp"] = true
            values["helpId"] = "help-\(item.key)"
            describedBy.append("help-\(item.key)")
        }
        if let problem {
            values["error"] = message(problem)
            values["hasError"] = true
            values["errorId"] = "error-\(item.key)"
            describedBy.append("error-\(item.key)")
        }
        if item.type.hasOptions {
            values["options"] = item.options.enumerated().map { index, option -> [String: Any] in
                [
                    "optionId": "input-\(item.key)-\(index)",
                    "value": option.key,
                    "label": option.label.text(language),
                    "checked": option.key == value,
                    "unscored": option.points == nil,
                ]
            }
        }
        if item.type.isText {
            let limit = item.maxLength ?? limits.maxTextLength
            values["maxLength"] = limit
            values["limitText"] = language.text("form_limit", ["n": limit])
        }
        if item.type.isScoreSheetItem {
            let maximum = Self.format(item.maximum ?? 100)
            let noteField = FormDefinition.noteField(item.key)
            values["noteField"] = noteField
            values["noteId"] = "note-\(item.key)"
            values["note"] = sent[noteField] ?? ""
            switch item.type {
            case .deduction:
                values["pointsText"] = language.text("form_max_points", ["max": maximum])
                values["noteLabel"] = language.text("form_note_deduction")
            case .bonus:
                values["pointsText"] = language.text("form_bonus_points", ["max": maximum])
                values["noteLabel"] = language.text("form_note_bonus")
            default:
                values["noteLabel"] = language.text("form_note_baseline")
                values["options"] = [("pass", "form_pass"), ("fail", "form_fail")].enumerated().map { index, entry -> [String: Any] in
                    ["optionId": "input-\(item.key)-\(index)", "value": entry.0, "label": language.text(entry.1), "checked": entry.0 == value]
                }
                values["isChoice"] = true
            }
            values["maximum"] = maximum
        }
        if !describedBy.isEmpty { values["describedBy"] = describedBy.joined(separator: " ") }
        return values
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
