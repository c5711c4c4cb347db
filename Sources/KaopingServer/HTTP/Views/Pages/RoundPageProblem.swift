import Foundation
import KaopingAggregation

/// Why an action on a round's page was refused, carried to the page after the redirect. In the
/// address it is a key from this closed set with its values (`?problem=unknown-user&value=li`),
/// never the sentence: the page words it in the reader's language, and a link someone sends
/// cannot make the page say anything of its own.
enum RoundPageProblem: Equatable, Sendable {
    case assignment(AssignmentProblem)
    case notAssigned
    case assignmentsFinal
    case sheetSubmitted(branchCode: String)
    case round(RoundError)
    case visitCodes(VisitCodeProblem)
    /// A closing time that could not be read (one in the past is `round(.closingTimePassed)`).
    case unreadableTime

    /// The query a redirect carries.
    var query: KeyValuePairs<String, String> {
        let (key, value, extra) = parts
        switch (value, extra) {
        case (let value?, let extra?): return ["problem": key, "value": value, "extra": extra]
        case (let value?, nil): return ["problem": key, "value": value]
        default: return ["problem": key]
        }
    }

    private var parts: (String, String?, String?) {
        switch self {
        case .assignment(.noUser): ("no-user", nil, nil)
        case .assignment(.unknownUser(let name)): ("unknown-user", name, nil)
        case .assignment(.notAnEvaluator(let name, let role)): ("not-an-evaluator", name, role)
        case .assignment(.inactiveUser(let name)): ("inactive-user", name, nil)
        case .assignment(.unknownBranches(let codes)): ("assignment-branches", Self.list(codes), nil)
        case .notAssigned: ("not-assigned", nil, nil)
        case .assignmentsFinal: ("assignments-final", nil, nil)
        case .sheetSubmitted(let code): ("sheet-submitted", code, nil)
        case .round(.notFound): ("no-round", nil, nil)
        case .round(.invalid): ("invalid", nil, nil)
        case .round(.wrongStatus(let current, let action)): ("wrong-status", current.rawValue, action.rawValue)
        case .round(.unknownBranches(let codes)): ("round-branches", Self.list(codes), nil)
        case .round(.noBranches): ("no-branches", nil, nil)
        case .round(.formNotAvailable(let form)): ("form-not-available", form, nil)
        case .round(.reasonRequired): ("reason-required", nil, nil)
        case .round(.noClosingTime): ("no-closing-time", nil, nil)
        case .round(.closingTimePassed): ("closing-time-passed", nil, nil)
        case .round(.needsConfirmation(let warnings)): ("dates-to-confirm", warnings.map(Self.key).joined(separator: ","), nil)
        case .visitCodes(.unknownBranches(let codes)): ("visit-branches", Self.list(codes), nil)
        case .visitCodes(.badCount): ("visit-count", nil, nil)
        case .visitCodes(.noSuchRound): ("visit-no-round", nil, nil)
        case .unreadableTime: ("unreadable-time", nil, nil)
        }
    }

    /// The problem a page address names; nil for a key it does not know or values that do not fit.
    init?(query: [String: String]) {
        guard let key = query["problem"] else { return nil }
        let value = query["value"]
        let codes = value.map { $0.split(separator: ",").map(String.init) } ?? []
        switch key {
        case "no-user": self = .assignment(.noUser)
        case "unknown-user":
            guard let value else { return nil }
            self = .assignment(.unknownUser(value))
        case "not-an-evaluator":
            guard let value, let role = query["extra"], UserRole(rawValue: role) != nil else { return nil }
            self = .assignment(.notAnEvaluator(value, role: role))
        case "inactive-user":
            guard let value else { return nil }
            self = .assignment(.inactiveUser(value))
        case "assignment-branches": self = .assignment(.unknownBranches(codes))
        case "not-assigned": self = .notAssigned
        case "assignments-final": self = .assignmentsFinal
        case "sheet-submitted":
            guard let value else { return nil }
            self = .sheetSubmitted(branchCode: value)
        case "no-round": self = .round(.notFound)
        case "invalid": self = .round(.invalid([]))
        case "wrong-status":
            guard let status = value.flatMap(RoundStatus.init(rawValue:)), let action = query["extra"].flatMap(RoundAction.init(rawValue:)) else {
                return nil
            }
            self = .round(.wrongStatus(current: status, action: action))
        case "round-branches": self = .round(.unknownBranches(codes))
        case "no-branches": self = .round(.noBranches)
        case "form-not-available":
            guard let value else { return nil }
            self = .round(.formNotAvailable(value))
        case "reason-required": self = .round(.reasonRequired)
        case "no-closing-time": self = .round(.noClosingTime)
        case "closing-time-passed": self = .round(.closingTimePassed)
        case "dates-to-confirm":
            let warnings = codes.compactMap(Self.warning)
            guard !warnings.isEmpty, warnings.count == codes.count else { return nil }
            self = .round(.needsConfirmation(warnings))
        case "visit-branches": self = .visitCodes(.unknownBranches(codes))
        case "visit-count": self = .visitCodes(.badCount)
        case "visit-no-round": self = .visitCodes(.noSuchRound)
        case "unreadable-time": self = .unreadableTime
        default: return nil
        }
    }

    func message(_ language: Language) -> String {
        switch self {
        case .assignment(let problem): problem.message(language)
        case .notAssigned: language.text("rounds_unassign_not_assigned")
        case .assignmentsFinal: language.text("rounds_unassign_closed")
        case .sheetSubmitted(let code): language.text("rounds_unassign_submitted", ["code": code])
        case .round(let error): error.message(language)
        case .visitCodes(let problem): problem.message(language)
        case .unreadableTime: language.text("rounds_bad_time")
        }
    }

    private static func list(_ codes: [String]) -> String { codes.joined(separator: ",") }

    /// A date warning as a word of the address: `closing-2027-2026`, `performance-2026`.
    private static func key(_ warning: RoundDateWarning) -> String {
        switch warning {
        case .closesOutsideYear(let year, let closingYear): "closing-\(year)-\(closingYear)"
        case .noPerformanceResults(let year): "performance-\(year)"
        }
    }

    private static func warning(_ key: String) -> RoundDateWarning? {
        let parts = key.split(separator: "-")
        let numbers = parts.dropFirst().compactMap { Int($0) }.filter(EvaluationYear.plausible.contains)
        switch (parts.first, numbers.count, parts.count) {
        case ("closing", 2, 3): return .closesOutsideYear(year: numbers[0], closingYear: numbers[1])
        case ("performance", 1, 2): return .noPerformanceResults(year: numbers[0])
        default: return nil
        }
    }
}
