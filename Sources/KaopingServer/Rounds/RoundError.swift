// Rounds: round specs, a round's life (draft, scheduled, open, closed, reopened) with the
// scheduler's exactly-once opening and closing, and the evaluators' score sheets.

import KaopingAggregation

public enum RoundError: Error, Equatable, CustomStringConvertible {
    case notFound
    case invalid([RoundConfiguration.Problem])
    case wrongStatus(current: RoundStatus, action: RoundAction)
    case unknownBranches([String])
    case noBranches
    case formNotAvailable(String)
    case reasonRequired
    case noClosingTime
    /// A new closing time that is not later than now.
    case closingTimePassed
    /// Dates that are allowed but usually a slip, which the person must confirm first.
    case needsConfirmation([RoundDateWarning])

    /// In English, for logs and the command line.
    public var description: String { message(.english) }

    /// The refusal in the administrator's language.
    public func message(_ language: Language) -> String {
        switch self {
        case .notFound: language.text("round_error_not_found")
        case .invalid(let problems): problems.map { $0.text(language) }.joined(separator: language.text("list_separator"))
        case .wrongStatus(let current, let action):
            language.text(
                "round_error_wrong_status",
                [
                    "status": language.text("round_error_status_\(current.rawValue)"),
                    "action": language.text("round_error_action_\(action.rawValue)"),
                ]
            )
        case .unknownBranches(let codes):
            language.text("round_error_unknown_branches", ["codes": language.quotedList(codes)])
        case .noBranches: language.text("round_error_no_branches")
        case .formNotAvailable(let form): language.text("round_error_form_not_available", ["form": form])
        case .reasonRequired: language.text("round_error_reason_required")
        case .noClosingTime: language.text("round_error_no_closing_time")
        case .closingTimePassed: language.text("rounds_bad_time")
        case .needsConfirmation(let warnings): warnings.map { $0.text(language) }.joined(separator: language.text("list_separator"))
        }
    }
}

extension RoundDateWarning {
    /// The warning in the administrator's language.
    public func text(_ language: Language) -> String {
        switch self {
        case .closesOutsideYear(let year, let closingYear):
            language.text("round_warning_closing_year", ["year": String(year), "closing": String(closingYear), "next": String(year + 1)])
        case .noPerformanceResults(let year):
            language.text("round_warning_no_performance", ["year": String(year)])
        }
    }
}
