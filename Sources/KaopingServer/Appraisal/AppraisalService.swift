import Foundation
import KaopingAggregation
import Logging
import PostgresNIO

/// Everything the office and its people do in a members' appraisal, one function each, for the
/// pages, the API and `kaoping appraisal …` alike. Office actions take the acting person and
/// write their audit entry in their own transaction; a member's self-assessment and ballot are
/// not audited (nothing may tie a person to a moment of voting beyond the link's "voted").
public struct AppraisalService: Sendable {
    let database: Database
    public let repository: AppraisalRepository

    public init(database: Database, repository: AppraisalRepository) {
        self.database = database
        self.repository = repository
    }

    // MARK: The round

    public func create(_ spec: AppraisalSpec, actor: AuditActor, logger: Logger) async throws -> UUID {
        let problems = spec.settings.problems()
        guard problems.isEmpty else { throw RoundError.invalid(problems) }
        return try await database.transaction(logger: logger) { connection in
            let id = try await repository.create(spec, createdBy: actor.userID, on: connection, logger: logger)
            try await AuditLog.record(
                .init(action: "appraisal.created", actor: actor, subject: id.lowercased, details: ["title": spec.title]),
                on: connection,
                logger: logger
            )
            return id
        }
    }

    public func open(_ id: UUID, actor: AuditActor, logger: Logger) async throws {
        try await database.transaction(logger: logger) { connection in
            let status = try await AppraisalRepository.lockedStatus(id, on: connection, logger: logger)
            guard status.canOpen else { throw AppraisalError.wrongStatus(status) }
            try await repository.open(id, on: connection, logger: logger)
            try await AuditLog.record(.init(action: "appraisal.opened", actor: actor, subject: id.lowercased), on: connection, logger: logger)
        }
    }

    public func close(_ id: UUID, actor: AuditActor, logger: Logger) async throws {
        try await database.transaction(logger: logger) { connection in
            let status = try await AppraisalRepository.lockedStatus(id, on: connection, logger: logger)
            guard status.canClose, try await repository.close(id, on: connection, logger: logger) else {
                throw AppraisalError.wrongStatus(status)
            }
            try await AuditLog.record(.init(action: "appraisal.closed", actor: actor, subject: id.lowercased), on: connection, logger: logger)
        }
    }

    /// Opens the scheduled rounds whose time has come and closes the open ones that are due,
    /// each exactly once across instances (a row lock, skipped when another instance holds it).
    public func runDue(logger: Logger) async throws -> (opened: [UUID], closed: [UUID]) {
        var opened: [UUID] = []
        var closed: [UUID] = []
        for id in try await repository.due() {
            let done = try await database.transaction(logger: logger) { connection -> String? in
                var action: String?
                for try await (status, opensDue, closesDue) in try await connection.query(
                    """
                    SELECT status, coalesce(opens_at <= now(), false), coalesce(closes_at <= now(), false) FROM appraisal_rounds
                    WHERE id = \(id) FOR UPDATE SKIP LOCKED
                    """,
                    logger: logger
                ).decode((AppraisalStatus, Bool, Bool).self) {
                    if status == .scheduled && opensDue { action = "appraisal.opened" }
                    if status == .open && closesDue { action = "appraisal.closed" }
                }
                switch action {
                case "appraisal.opened": try await repository.open(id, on: connection, logger: logger)
                case "appraisal.closed": guard try await repository.close(id, on: connection, logger: logger) else { return nil }
                default: return nil
                }
                try await AuditLog.record(.init(action: action!, actor: .scheduler, subject: id.lowercased), on: connection, logger: logger)
                return action
            }
            if done == "appraisal.opened" { opened.append(id) }
            if done == "appraisal.closed" { closed.append(id) }
        }
        return (opened, closed)
    }

    /// Gives every member and representative of the round without a live link one; returns how many.
    public func issueLinks(_ id: UUID, actor: AuditActor, logger: Logger) async throws -> Int {
        try await database.transaction(logger: logger) { connection in
            let status = try await AppraisalRepository.lockedStatus(id, on: connection, logger: logger)
            guard status.takesHandouts else { throw AppraisalError.wrongStatus(status) }
            let issued = try await repository.issue(id, status: status, on: connection, logger: logger)
            if issued > 0 {
                try await AuditLog.record(
                    .init(action: "appraisal.links_issued", actor: actor, subject: id.lowercased, details: ["issued": String(issued)]),
                    on: connection,
                    logger: logger
                )
            }
            return issued
        }
    }

    /// What came of a list of representatives: added (those already listed are kept), or the
    /// file's problems by line, with nothing added.
    public enum RepresentativesOutcome: Sendable {
        case added(Int, listed: Int)
        case problems([ImportProblem], workbook: Bool)
    }

    /// Adds the non-party representatives (群众代表) of a round's branches from a CSV file or an
    /// Excel workbook; all rows or none. Their links are issued with the members'.
    public func addRepresentatives(_ id: UUID, file: [UInt8], actor: AuditActor, logger: Logger) async throws -> RepresentativesOutcome {
        guard let round = try await repository.round(id) else { throw RoundError.notFound }
        guard round.settings.representativesVote else { throw AppraisalError.noRepresentatives }
        guard round.status.takesHandouts else { throw AppraisalError.wrongStatus(round.status) }
        let preview = OrganisationCSV.representatives(file, knownBranches: try await repository.branchCodes(id))
        guard preview.canImport else { return .problems(preview.problems, workbook: preview.encoding == .workbook) }
        return try await database.transaction(logger: logger) { connection in
            let status = try await AppraisalRepository.lockedStatus(id, on: connection, logger: logger)
            guard status.takesHandouts else { throw AppraisalError.wrongStatus(status) }
            let added = try await repository.addRepresentatives(id, preview.rows, on: connection, logger: logger)
            try await AuditLog.record(
                .init(
                    action: "appraisal.representatives_added",
                    actor: actor,
                    subject: id.lowercased,
                    details: ["added": String(added), "listed": String(preview.rows.count)]
                ),
                on: connection,
                logger: logger
            )
            return .added(added, listed: preview.rows.count)
        }
    }

    // MARK: What a member or representative does

    /// The members a voter votes on: the others of their branch still in it, or of their party
    /// group where the round votes by group.
    public func roster(for voter: AppraisalVoter, round: AppraisalRound, includingVoter: Bool = false) async throws -> [AppraisalSubject] {
        Self.roster(try await repository.subjects(round.id, branchID: voter.branchID), voter: voter, round: round, includingVoter: includingVoter)
    }

    static func roster(
        _ everyone: [AppraisalSubject],
        voter: AppraisalVoter,
        round: AppraisalRound,
        includingVoter: Bool = false
    ) -> [AppraisalSubject] {
        let byGroup = round.settings.byPartyGroup && voter.partyGroup != nil
        return everyone.filter { subject in
            !subject.hasLeft && (includingVoter || subject.memberID != voter.memberID) && (!byGroup || subject.partyGroup == voter.partyGroup)
        }
    }

    /// Casts a voter's ballot: every member of their roster must have a choice, and nothing
    /// else may be chosen. Returns the rows without a choice, or how the ballot box took it.
    public func vote(
        _ choices: [UUID: String],
        voter: AppraisalVoter,
        round: AppraisalRound,
        submissionKey: String
    ) async throws -> VoteOutcome {
        guard !voter.hasLeft else { return .notOnRoll }
        let everyone = try await repository.subjects(round.id, branchID: voter.branchID)
        let roster = Self.roster(everyone, voter: voter, round: round)
        let allowed = Set(round.settings.categories.map(\.key) + [AppraisalSettings.abstain])
        let onRoster = Set(roster.map(\.memberID))
        // A member who left after the page was shown may still have a choice on it: dropped.
        let gone = Set(everyone.filter(\.hasLeft).map(\.memberID))
        let choices = choices.filter { !gone.contains($0.key) }
        guard choices.keys.allSatisfy(onRoster.contains), choices.values.allSatisfy(allowed.contains) else { return .malformed }
        let missing = roster.filter { choices[$0.memberID] == nil }.map(\.memberID)
        guard missing.isEmpty else { return .incomplete(missing) }
        let ballot = AppraisalBallot(votes: roster.map { AppraisalBallot.Vote(member: $0.memberID, choice: choices[$0.memberID]!) })
        return .cast(try await repository.storeBallot(ballot, voter: voter, submissionKey: submissionKey))
    }

    public enum VoteOutcome: Sendable, Equatable {
        case cast(AppraisalRepository.BallotOutcome)
        /// Members of the roster left without a choice.
        case incomplete([UUID])
        /// A choice about someone not on the roster, or a choice that is no category.
        case malformed
        /// The voter left the branch while the round ran.
        case notOnRoll
    }

    /// Writes a member's self-assessment; false when the round no longer takes them.
    public func writeSelfAssessment(_ text: String, voter: AppraisalVoter) async throws -> Bool {
        guard let member = voter.memberID, !voter.hasLeft else { return false }
        return try await repository.saveSelfAssessment(voter.roundID, memberID: member, text: text)
    }

    // MARK: The committee

    /// What a branch's committee page shows: the members, their tallies, self-assessments and
    /// the proposals as they stand.
    public struct BranchBook: Sendable {
        public let round: AppraisalRound
        public let branchID: UUID
        public let branchCode: String
        public let branchName: String
        public let review: AppraisalReviewState
        public let reviewComment: String
        public let subjects: [AppraisalSubject]
        public let tallies: [UUID: AppraisalTally]
        public let selfAssessments: [UUID: String]
        public let proposals: [UUID: AppraisalRepository.StoredProposal]

        /// The members proposals are made for: those still in the branch.
        public var appraised: [AppraisalSubject] { subjects.filter { !$0.hasLeft } }
    }

    public func book(_ round: AppraisalRound, branchCode: String) async throws -> BranchBook? {
        guard let branch = try await repository.branch(round.id, code: branchCode) else { return nil }
        async let subjects = repository.subjects(round.id, branchID: branch.id)
        async let tallies = repository.tallies(round.id, branchID: branch.id, settings: round.settings)
        async let texts = repository.selfAssessments(round.id, branchID: branch.id)
        async let proposals = repository.proposals(round.id, branchID: branch.id)
        return BranchBook(
            round: round,
            branchID: branch.id,
            branchCode: branchCode,
            branchName: branch.name,
            review: branch.review,
            reviewComment: branch.comment,
            subjects: try await subjects,
            tallies: try await tallies,
            selfAssessments: try await texts,
            proposals: try await proposals
        )
    }

    /// The whole round as the party committee reads it: every branch with its members, their
    /// tallies and the proposals as they stand. Read with four statements whatever the size.
    public struct Results: Sendable {
        public struct Member: Sendable {
            public let subject: AppraisalSubject
            public let tally: AppraisalTally
            public let proposal: AppraisalRepository.StoredProposal?
        }

        public struct Branch: Sendable {
            public let code: String
            public let name: String
            public let review: AppraisalReviewState
            public let members: [Member]

            /// How many of the members still in the branch are proposed (or, approved, placed)
            /// in each category, in the settings' order: the branch's figures, never who.
            public func counts(_ settings: AppraisalSettings) -> [Int] {
                var counts = Array(repeating: 0, count: settings.categories.count)
                for member in members where !member.subject.hasLeft {
                    if let key = member.proposal?.category, let index = settings.index(of: key) { counts[index] += 1 }
                }
                return counts
            }
        }

        public let round: AppraisalRound
        public let branches: [Branch]
    }

    public func results(_ round: AppraisalRound) async throws -> Results {
        async let branches = repository.branches(round.id)
        async let subjects = repository.allSubjects(round.id)
        async let tallies = repository.tallies(round.id, settings: round.settings)
        async let proposals = repository.allProposals(round.id)
        let (tally, proposal) = (try await tallies, try await proposals)
        var byBranch: [UUID: [Results.Member]] = [:]
        for (branch, subject) in try await subjects {
            byBranch[branch, default: []].append(
                Results.Member(subject: subject, tally: tally[subject.memberID] ?? AppraisalTally(), proposal: proposal[subject.memberID])
            )
        }
        return Results(
            round: round,
            branches: try await branches.map { Results.Branch(code: $0.code, name: $0.name, review: $0.review, members: byBranch[$0.id] ?? []) }
        )
    }

    /// A file of the round for the party committee (`AppraisalDownload`).
    public func download(_ download: AppraisalDownload, round: AppraisalRound, language: Language) async throws -> DownloadFile {
        let results = try await results(round)
        let name = download.fileName(round, language: language)
        let content: DownloadFile.Content =
            download == .workbook
            ? .temporaryFile(path: try AppraisalTable.workbook(results, language: language))
            : .text(AppraisalTable.csv(download, results, language: language))
        return DownloadFile(name: name.display, fallbackName: name.fallback, contentType: download.contentType, content: content)
    }

    /// A proposal as the committee's form sent it: a category key (empty for none yet).
    public struct ProposalInput: Sendable, Equatable {
        public var category: String
        public var note: String
        public var explanation: String

        public init(category: String, note: String = "", explanation: String = "") {
            self.category = category
            self.note = note
            self.explanation = explanation
        }
    }

    public enum ProposalOutcome: Sendable, Equatable {
        /// Kept as a draft (`submit` false) or sent to the approver.
        case saved(submitted: Bool)
        /// Not accepted: the checks' refusals, with the flags they raised.
        case refused(AppraisalReview)
    }

    /// Saves the committee's proposals for a branch; with `submit`, checks them first and,
    /// if they pass, sends them to the approver. A draft is kept as typed (a category may be
    /// missing) but only for members still in the branch; the checks run on every submission.
    public func propose(
        _ inputs: [UUID: ProposalInput],
        book: BranchBook,
        submit: Bool,
        actor: AuditActor,
        logger: Logger
    ) async throws -> ProposalOutcome {
        guard book.round.status == .closed else { throw AppraisalError.notClosed }
        guard book.review.isEditable else { throw AppraisalError.reviewState(book.review) }
        let settings = book.round.settings
        let entries = book.appraised.map { subject in
            let input = inputs[subject.memberID]
            return AppraisalReview.Entry(
                member: subject.staffNumber,
                proposal: input.flatMap { given in
                    settings.index(of: given.category).map { AppraisalProposal(category: $0, note: given.note, explanation: given.explanation) }
                },
                tally: book.tallies[subject.memberID] ?? AppraisalTally()
            )
        }
        let review = AppraisalReview.check(entries, settings: settings)
        if submit && !review.isAccepted { return .refused(review) }
        let stored: [(member: UUID, proposal: AppraisalRepository.StoredProposal)] = book.appraised.compactMap { subject in
            guard let input = inputs[subject.memberID], settings.index(of: input.category) != nil else { return nil }
            return (
                subject.memberID,
                AppraisalRepository.StoredProposal(
                    category: input.category,
                    note: input.note,
                    explanation: input.explanation,
                    flags: (review.flags[subject.staffNumber] ?? []).map(\.key)
                )
            )
        }
        try await database.transaction(logger: logger) { connection in
            let state = try await AppraisalRepository.lockedReview(book.round.id, branchID: book.branchID, on: connection, logger: logger)
            guard state.isEditable else { throw AppraisalError.reviewState(state) }
            try await repository.saveProposals(book.round.id, proposals: stored, by: actor.userID, on: connection, logger: logger)
            if submit {
                try await repository.setReview(
                    book.round.id,
                    branchID: book.branchID,
                    to: .submitted,
                    comment: "",
                    by: actor.userID,
                    on: connection,
                    logger: logger
                )
            }
            try await AuditLog.record(
                .init(
                    action: submit ? "appraisal.proposals_submitted" : "appraisal.proposals_saved",
                    actor: actor,
                    subject: book.round.id.lowercased,
                    details: ["branch": book.branchCode, "proposals": String(stored.count)]
                ),
                on: connection,
                logger: logger
            )
        }
        return .saved(submitted: submit)
    }

    /// The party committee approves a branch's submitted proposals (each member then reads their
    /// own result), or returns them with a comment the committee reads.
    public func decide(_ round: AppraisalRound, branchCode: String, approve: Bool, comment: String, actor: AuditActor, logger: Logger) async throws {
        guard let branch = try await repository.branch(round.id, code: branchCode) else { throw RoundError.notFound }
        if !approve && comment.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw AppraisalError.commentRequired }
        try await database.transaction(logger: logger) { connection in
            let state = try await AppraisalRepository.lockedReview(round.id, branchID: branch.id, on: connection, logger: logger)
            guard state == .submitted else { throw AppraisalError.reviewState(state) }
            try await repository.setReview(
                round.id,
                branchID: branch.id,
                to: approve ? .approved : .returned,
                comment: comment,
                by: actor.userID,
                on: connection,
                logger: logger
            )
            try await AuditLog.record(
                .init(
                    action: approve ? "appraisal.approved" : "appraisal.returned",
                    actor: actor,
                    subject: round.id.lowercased,
                    details: ["branch": branchCode, "comment": comment]
                ),
                on: connection,
                logger: logger
            )
        }
    }
}

/// What the appraisal refuses, said in the person's language.
public enum AppraisalError: Error, Equatable, CustomStringConvertible {
    case wrongStatus(AppraisalStatus)
    /// Proposals are made once the vote has closed.
    case notClosed
    /// The branch's proposals are not where the action needs them (submitted, approved, …).
    case reviewState(AppraisalReviewState)
    /// Returning proposals needs a comment that says why.
    case commentRequired
    /// The round was set up without representatives.
    case noRepresentatives

    public var description: String { message(.english) }

    public func message(_ language: Language) -> String {
        switch self {
        case .wrongStatus(let status): language.text("appraisal_error_status", ["status": language.text("appraisal_status_\(status.rawValue)")])
        case .notClosed: language.text("appraisal_error_not_closed")
        case .reviewState(let state): language.text("appraisal_error_review", ["state": language.text("appraisal_review_\(state.rawValue)")])
        case .commentRequired: language.text("appraisal_error_comment")
        case .noRepresentatives: language.text("appraisal_error_no_representatives")
        }
    }
}
