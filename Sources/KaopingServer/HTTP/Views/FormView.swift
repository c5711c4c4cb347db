import Foundation
import KaopingForms

/// A form on a page (a respondent's, an evaluator's score sheet, an administrator's preview):
/// the form's own content, what was sent (shown again) and what was wrong with it, and how
/// this page uses it.
struct FormPage: PageModel {
    struct Option {
        let optionId: String
        let value: String
        let label: String
        let checked: Bool
        let unscored: Bool
    }

    struct Item {
        let key: String
        let id: String
        let inputId: String
        let field: String
        let number: Int
        let label: String
        let required: Bool
        let value: String
        let isChoice: Bool
        let isText: Bool
        let isLongText: Bool
        let isPoints: Bool
        let isBaseline: Bool
        let help: String?
        let hasHelp: Bool
        let helpId: String?
        let error: String?
        let hasError: Bool
        let errorId: String?
        let describedBy: String?
        let options: [Option]
        let maxLength: Int?
        let limitText: String?
        let noteField: String?
        let noteId: String?
        let note: String?
        let noteLabel: String?
        let pointsText: String?
        /// "deduction" or "bonus" for points items: the running total reads these inputs.
        let pointsKind: String?
        let maximum: String?
    }

    struct Section {
        let title: String
        let intro: String?
        let items: [Item]
    }

    struct Problem {
        let anchor: String
        let label: String
        let message: String
    }

    // The form and what was sent.
    let formTitle: String
    let formIntro: String?
    let sections: [Section]
    let problems: [Problem]
    let hasProblems: Bool
    let isSurvey: Bool
    let fresh: Bool

    // How this page uses it.
    var action: String?
    /// The CSRF token; in a page rendered once for many people, the slot it is filled into.
    var csrf: String?
    var submissionKey: String?
    var branchName: String?
    var roundTitle: String?
    /// A respondent's form says by when to answer: the round's closing time, in Beijing time.
    var deadline: String?
    var draftKey: String?
    var anonymous = false
    var respondent = false
    var script: String?
    var unavailable = false
    var preview = false
    var previewValid = false
    var sheetMode = false
    var readOnly = false
    var sheetStatus: String?
    /// A submitted sheet is corrected with one button, checked as strictly as a submission.
    var sheetSubmitted = false
    var sheetNotice: String?
    /// A draft was saved: what is left to correct is listed under the notice, not as a failed
    /// submission.
    var draftSaved = false
    var sheetTotal: SheetTotal?
    var previousSheet: SheetLink?
    var nextSheet: SheetLink?
}

/// The sheet's score so far, as the method computes it, and what the live total needs.
struct SheetTotal {
    let text: String
    let bonusCap: String
    let deductionMaxima: String
}

/// Another branch's sheet of the same round.
struct SheetLink {
    let link: String
    let name: String
}

/// Turns a form definition, and what was sent, into the page's `FormPage`.
struct FormView {
    let form: FormDefinition
    let language: Language
    let limits: SubmissionLimits

    /// - Parameters:
    ///   - submitted: what was posted (shown again), or `nil` for a fresh form.
    func page(submitted: ParsedSubmission?) -> FormPage {
        let problems = Dictionary(submitted?.problems.map { ($0.item, $0.problem) } ?? [], uniquingKeysWith: { first, _ in first })
        let sent = submitted?.values ?? [:]
        var number = 0
        let sections = form.sections.map { section in
            FormPage.Section(
                title: section.title.text(language),
                intro: section.intro?.text(language),
                items: section.items.map { item in
                    number += 1
                    return self.item(item, number: number, sent: sent, problem: problems[item.key])
                }
            )
        }
        let problemList = (submitted?.problems ?? []).compactMap { entry -> FormPage.Problem? in
            guard let item = form.item(entry.item) else { return nil }
            return .init(anchor: "item-\(item.key)", label: item.label.text(language), message: message(entry.problem))
        }
        return FormPage(
            formTitle: form.title.text(language),
            formIntro: form.intro?.text(language),
            sections: sections,
            problems: problemList,
            hasProblems: !problemList.isEmpty,
            isSurvey: form.kind == .survey,
            fresh: submitted == nil
        )
    }

    func message(_ problem: AnswerProblem) -> String {
        language.text("problem_\(problem.rawValue)")
    }

    private func item(_ item: FormItem, number: Int, sent: [String: String], problem: AnswerProblem?) -> FormPage.Item {
        let field = FormDefinition.answerField(item.key)
        let value = sent[field] ?? ""
        let helpId = item.help == nil ? nil : "help-\(item.key)"
        let errorId = problem == nil ? nil : "error-\(item.key)"
        let describedBy = [helpId, errorId].compactMap { $0 }
        var options = item.options.enumerated().map { index, option in
            FormPage.Option(
                optionId: "input-\(item.key)-\(index)",
                value: option.key,
                label: option.label.text(language),
                checked: option.key == value,
                unscored: option.points == nil
            )
        }
        let limit = item.type.isText ? item.maxLength ?? limits.maxTextLength : nil
        var pointsText: String?
        var noteLabel: String?
        var isChoice = item.type.hasOptions
        let maximum = item.type.isScoreSheetItem ? Self.format(item.maximum ?? 100) : nil
        let noteField = item.type.isScoreSheetItem ? FormDefinition.noteField(item.key) : nil
        switch item.type {
        case .deduction:
            pointsText = language.text("form_max_points", ["max": maximum ?? ""])
            noteLabel = language.text("form_note_deduction")
        case .bonus:
            pointsText = language.text("form_bonus_points", ["max": maximum ?? ""])
            noteLabel = language.text("form_note_bonus")
        case .baseline:
            noteLabel = language.text("form_note_baseline")
            options = [("pass", "form_pass"), ("fail", "form_fail")].enumerated().map { index, entry in
                FormPage.Option(
                    optionId: "input-\(item.key)-\(index)",
                    value: entry.0,
                    label: language.text(entry.1),
                    checked: entry.0 == value,
                    unscored: false
                )
            }
            isChoice = true
        default:
            break
        }
        return FormPage.Item(
            key: item.key,
            id: "item-\(item.key)",
            inputId: "input-\(item.key)",
            field: field,
            number: number,
            label: item.label.text(language),
            required: item.required,
            value: value,
            isChoice: isChoice,
            isText: item.type.isText,
            isLongText: item.type == .longText,
            isPoints: item.type == .deduction || item.type == .bonus,
            isBaseline: item.type == .baseline,
            help: item.help?.text(language),
            hasHelp: item.help != nil,
            helpId: helpId,
            error: problem.map(message),
            hasError: problem != nil,
            errorId: errorId,
            describedBy: describedBy.isEmpty ? nil : describedBy.joined(separator: " "),
            options: options,
            maxLength: limit,
            limitText: limit.map { language.text("form_limit", ["n": $0]) },
            noteField: noteField,
            noteId: item.type.isScoreSheetItem ? "note-\(item.key)" : nil,
            note: noteField.map { sent[$0] ?? "" },
            noteLabel: noteLabel,
            pointsText: pointsText,
            pointsKind: item.type == .deduction ? "deduction" : item.type == .bonus ? "bonus" : nil,
            maximum: maximum
        )
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
