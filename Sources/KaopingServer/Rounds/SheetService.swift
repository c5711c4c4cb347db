import Foundation
import KaopingForms
import Logging

/// An organisation evaluator's score sheets: which branch's sheet they may open, what is shown
/// again of a saved draft, and saving a draft or submitting, each written with its audit entry in
/// one transaction.
public struct SheetService: Sendable {
    let database: Database
    let sheets: SheetRepository
    let forms: FormRepository
    /// Whose live results a submitted sheet makes out of date.
    let results: ResultsRepository

    public init(database: Database, sheets: SheetRepository, forms: FormRepository, results: ResultsRepository) {
        self.database = database
        self.sheets = sheets
        self.forms = forms
        self.results = results
    }

    /// A branch's sheet in a round, as one evaluator sees it.
    public struct Target: Sendable {
        public let round: UUID
        public let branchCode: String
        public let branchID: UUID
        public let branchName: String
        public let formVersionID: UUID
        public let form: FormDefinition
        /// Open and before its closing time: the sheet can still change.
        public let roundOpen: Bool
        /// The round's title and year, which the sheet names at its head.
        public let roundTitle: String
        public let roundYear: Int
    }

    /// Nil unless the evaluator is assigned to the branch in that round.
    public func target(round: UUID, branchCode: String, evaluator: User) async throws -> Target? {
        guard let found = try await sheets.target(roundID: round, branchCode: branchCode, userID: evaluator.id),
            let form = try await forms.definition(id: found.formVersionID)
        else { return nil }
        return Target(
            round: round,
            branchCode: branchCode,
            branchID: found.branchID,
            branchName: found.branchName,
            formVersionID: found.formVersionID,
            form: form,
            roundOpen: found.roundOpen,
            roundTitle: found.roundTitle,
            roundYear: found.roundYear
        )
    }

    /// What the sheet shows when opened.
    public struct Opened: Sendable {
        public let status: String?
        public let submission: ParsedSubmission?
        /// A draft saved with problems: shown as typed, with this many problems marked.
        public let draftProblems: Int?
    }

    public func opened(_ target: Target, evaluator: User, limits: SubmissionLimits) async throws -> Opened {
        let stored = try await sheets.sheet(roundID: target.round, branchID: target.branchID, userID: evaluator.id)
        if let typed = stored?.draftValues, var parsed = try? target.form.parseSubmission(typed.map { ($0.key, $0.value) }, limits: limits) {
            // A draft may leave items empty.
            parsed.problems.removeAll { $0.problem == .required }
            return Opened(status: stored?.status, submission: parsed, draftProblems: parsed.problems.count)
        }
        guard let stored else { return Opened(status: nil, submission: nil, draftProblems: nil) }
        let answers = (try? target.form.parseSubmission(stored.values.map { ($0.key, $0.value) }, limits: limits))?.answers ?? [:]
        return Opened(status: stored.status, submission: ParsedSubmission(answers: answers, values: stored.values, problems: []), draftProblems: nil)
    }

    public enum SaveOutcome: Sendable {
        /// Stored whole; `submitted` when it now counts in the results.
        case saved(submitted: Bool)
        /// A submission with problems: nothing stored, the sheet shown again with them marked.
        case refused(ParsedSubmission, status: String?)
        /// A draft stored with its problems, everything kept as typed.
        case savedWithProblems(ParsedSubmission)
    }

    public enum SaveProblem: Error {
        /// The round has closed (or its closing time has passed).
        case closed
        /// The fields cannot be read as this form's answers at all.
        case malformed
    }

    /// Saves a draft or submits. A submitted sheet counts in the results as it is: a change to
    /// it is checked as strictly as a submission, never saved half-done.
    public func save(
        _ target: Target,
        fields: [(name: String, value: String)],
        submitting: Bool,
        evaluator: User,
        limits: SubmissionLimits,
        logger: Logger
    ) async throws -> SaveOutcome {
        guard target.roundOpen else { throw SaveProblem.closed }
        let stored = try await sheets.sheet(roundID: target.round, branchID: target.branchID, userID: evaluator.id)
        let submit = submitting || stored?.status == "submitted"
        var parsed: ParsedSubmission
        do {
            parsed = try target.form.parseSubmission(fields, limits: limits)
        } catch {
            throw SaveProblem.malformed
        }
        if !submit { parsed.problems.removeAll { $0.problem == .required } }
        if !parsed.isValid && submit { return .refused(parsed, status: stored?.status) }
        // A draft with a value out of range or not a number is saved all the same: what is
        // right as entries, and everything as typed.
        let answers = parsed.answers
        let draftValues = parsed.isValid ? nil : parsed.values
        let complete = parsed.isValid
        try await database.transaction(logger: logger) { connection in
            try await sheets.save(
                roundID: target.round,
                branchID: target.branchID,
                userID: evaluator.id,
                formVersionID: target.formVersionID,
                form: target.form,
                answers: answers,
                submit: submit,
                draftValues: draftValues,
                on: connection,
                logger: logger
            )
            try await AuditLog.record(
                .init(
                    action: submit ? "sheet.submitted" : "sheet.saved",
                    actor: .account(evaluator),
                    subject: target.round.uuidString.lowercased(),
                    details: ["branch": target.branchCode, "complete": complete ? "yes" : "no"]
                ),
                on: connection,
                logger: logger
            )
        }
        if submit { results.forgetLive(roundID: target.round) }
        return parsed.isValid ? .saved(submitted: submit) : .savedWithProblems(parsed)
    }
}
