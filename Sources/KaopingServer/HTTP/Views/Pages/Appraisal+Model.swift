import Foundation
import KaopingAggregation

// MARK: What a member or representative sees through their link

/// The start page of a link: what is asked of this person, what they have done, and once the
/// branch's proposals are approved, the member's own result (通报本人).
struct AppraisalVoterPage: PageModel {
    let roundTitle: String
    let branchName: String
    let name: String
    let deadline: String?
    let isMember: Bool
    let hasSelfAssessment: Bool
    let voted: Bool
    let votingOpen: Bool
    let notOnRoll: Bool
    let selfAssessmentLink: String
    let ballotLink: String
    /// The member's own category and the committee's note, once approved.
    let resultCategory: String?
    let resultNote: String?
    let notice: String?
    let respondent = true

    static func make(
        voter: AppraisalVoter,
        round: AppraisalRound,
        token: String,
        hasSelfAssessment: Bool,
        result: AppraisalRepository.StoredProposal?,
        notice: String?,
        language: Language
    ) -> AppraisalVoterPage {
        AppraisalVoterPage(
            roundTitle: round.title,
            branchName: voter.branchName,
            name: voter.name,
            deadline: round.closesAt.map { language.text("form_deadline", ["time": ChinaTime.format($0)]) },
            isMember: voter.group == .members,
            hasSelfAssessment: hasSelfAssessment,
            voted: voter.voted,
            votingOpen: round.isVoting,
            notOnRoll: voter.hasLeft,
            selfAssessmentLink: SiteURL.appraisalSelfAssessment(token: token).path,
            ballotLink: SiteURL.appraisalBallot(token: token).path,
            resultCategory: result.flatMap { stored in round.settings.categoryName(stored.category, language) },
            resultNote: result.map(\.note).flatMap { $0.isEmpty ? nil : $0 },
            notice: notice
        )
    }
}

/// A member's self-assessment (个人自评): named, read by their branch committee.
struct AppraisalSelfAssessmentPage: PageModel {
    let roundTitle: String
    let name: String
    var text: String
    let action: String
    let back: String
    let editable: Bool
    var problem: String?
    var unavailable = false
    let maxLength: Int
    let respondent = true
}

/// The roster: one row per member, each with a choice of category or "not able to judge".
struct AppraisalBallotPage: PageModel {
    struct Choice {
        let id: String
        let value: String
        let label: String
        let checked: Bool
    }

    struct Row {
        let field: String
        let name: String
        let choices: [Choice]
        let missing: Bool
        let problemID: String
    }

    let roundTitle: String
    let branchName: String
    let deadline: String?
    let rows: [Row]
    let count: Int
    var action: String
    var back: String
    var csrf: String?
    let submissionKey: String
    let problemSummary: String?
    var unavailable = false
    let respondent = true

    /// The per-request values as slots (`PrerenderedPage`), for a page rendered once per roster.
    mutating func prerendered() {
        action = PrerenderedPage.Slot.action.marker
        back = PrerenderedPage.Slot.back.marker
        csrf = PrerenderedPage.Slot.csrf.marker
    }

    static func make(
        round: AppraisalRound,
        voter: AppraisalVoter,
        roster: [AppraisalSubject],
        chosen: [UUID: String],
        missing: Set<UUID>,
        token: String,
        submissionKey: String,
        language: Language
    ) -> AppraisalBallotPage {
        let choices =
            round.settings.categories.map { ($0.key, language == .english ? $0.englishName : $0.name) }
            + [(AppraisalSettings.abstain, language.text("appraisal_abstain"))]
        return AppraisalBallotPage(
            roundTitle: round.title,
            branchName: voter.branchName,
            deadline: round.closesAt.map { language.text("form_deadline", ["time": ChinaTime.format($0)]) },
            rows: roster.enumerated().map { position, subject in
                let field = AppraisalBallotPage.field(subject.memberID)
                return Row(
                    field: field,
                    name: subject.name,
                    choices: choices.enumerated().map { index, choice in
                        Choice(id: "r\(position)-\(index)", value: choice.0, label: choice.1, checked: chosen[subject.memberID] == choice.0)
                    },
                    missing: missing.contains(subject.memberID),
                    problemID: "p\(position)"
                )
            },
            count: roster.count,
            action: SiteURL.appraisalBallot(token: token).path,
            back: SiteURL.appraisalLink(token: token).path,
            submissionKey: submissionKey,
            problemSummary: missing.isEmpty ? nil : language.text("appraisal_ballot_missing", ["n": missing.count])
        )
    }

    /// The form field of a member's row.
    static func field(_ member: UUID) -> String { "m_" + member.lowercased }
}

extension AppraisalSettings {
    /// A category's name in the language, from its key.
    func categoryName(_ key: String, _ language: Language) -> String? {
        guard let index = index(of: key) else { return key == Self.abstain ? language.text("appraisal_abstain") : nil }
        return language == .english ? categories[index].englishName : categories[index].name
    }
}

// MARK: The office's pages

/// Every appraisal round, newest first.
struct AppraisalsPage: PageModel {
    struct Round {
        let title: String
        let year: Int
        let status: String
        let link: String
    }

    let rounds: [Round]
    let hasRounds: Bool
    let newLink = SiteURL.newAppraisal.path

    init(_ rounds: [AppraisalRound], language: Language) {
        self.rounds = rounds.map {
            Round(
                title: $0.title,
                year: $0.year,
                status: language.text("appraisal_status_\($0.status.rawValue)"),
                link: SiteURL.appraisal($0.id).path
            )
        }
        hasRounds = !rounds.isEmpty
    }
}

/// Creating a round: the usual settings; other categories go through a spec file.
struct AppraisalNewPage: PageModel {
    var title = ""
    var year = ""
    var opens = ""
    var closes = ""
    var branches = ""
    var quota = "1/3"
    var threshold = "5"
    var representatives = false
    var byPartyGroup = false
    var problems: [String] = []
    var hasProblems = false
    let action = SiteURL.newAppraisal.path
    let back = SiteURL.appraisals.path
}

/// One round: its settings, each branch's progress and where its proposals stand, and what
/// can be done next.
struct AppraisalRoundPage: PageModel {
    struct Branch {
        let code: String
        let name: String
        let members: Int
        let left: Int
        let hasLeft: Bool
        let invited: Int
        let voted: Int
        let selfAssessed: Int
        let representatives: Int
        let representativesVoted: Int
        let review: String
        let link: String
    }

    let title: String
    let year: Int
    let status: String
    let opens: String
    let closes: String
    let settings: String
    let branches: [Branch]
    let waiting: Int
    let canOpen: Bool
    let canClose: Bool
    let canIssue: Bool
    let openAction: String
    let closeAction: String
    let linksAction: String
    let slipsLink: String
    let csvLink: String
    /// The party committee's files: the workbook, every member, each branch's counts.
    let workbookLink: String
    let membersLink: String
    let summaryLink: String
    /// Where a list of non-party representatives is uploaded, when the round takes them.
    let acceptsRepresentatives: Bool
    let representativesAction: String
    let back = SiteURL.appraisals.path
    var notice: String?
    var problem: String?
    /// A representatives' list's problems, by line.
    var fileProblems: [String] = []
    var hasFileProblems = false

    static func make(_ round: AppraisalRound, progress: [AppraisalBranchProgress], waiting: Int, language: Language) -> AppraisalRoundPage {
        let settings = round.settings
        let categories = settings.categories.map { language == .english ? $0.englishName : $0.name }.joined(separator: " / ")
        let summary = language.text(
            "appraisal_settings_summary",
            [
                "categories": categories,
                "quota": Self.share(settings.topQuota),
                "k": settings.anonymityThreshold,
                "representatives": language.text(settings.representativesVote ? "appraisal_with_representatives" : "appraisal_members_only"),
                "groups": language.text(settings.byPartyGroup ? "appraisal_by_group" : "appraisal_by_branch"),
            ]
        )
        return AppraisalRoundPage(
            title: round.title,
            year: round.year,
            status: language.text("appraisal_status_\(round.status.rawValue)"),
            opens: round.opensAt.map(ChinaTime.format) ?? "—",
            closes: round.closesAt.map(ChinaTime.format) ?? "—",
            settings: summary,
            branches: progress.map {
                Branch(
                    code: $0.code,
                    name: $0.name,
                    members: $0.members,
                    left: $0.left,
                    hasLeft: $0.left > 0,
                    invited: $0.invited,
                    voted: $0.voted,
                    selfAssessed: $0.selfAssessed,
                    representatives: $0.representatives,
                    representativesVoted: $0.representativesVoted,
                    review: language.text("appraisal_review_\($0.review.rawValue)"),
                    link: SiteURL.appraisalBranch(round.id, branchCode: $0.code).path
                )
            },
            waiting: waiting,
            canOpen: round.status.canOpen,
            canClose: round.status.canClose,
            canIssue: round.status.takesHandouts,
            openAction: SiteURL.appraisalAction(round.id, .open).path,
            closeAction: SiteURL.appraisalAction(round.id, .close).path,
            linksAction: SiteURL.appraisalAction(round.id, .links).path,
            slipsLink: SiteURL.appraisalSlips(round.id.lowercased).path,
            csvLink: SiteURL.appraisalLinksCSV(round.id.lowercased).path,
            workbookLink: SiteURL.appraisalDownload(round.id.lowercased, .workbook).path,
            membersLink: SiteURL.appraisalDownload(round.id.lowercased, .members).path,
            summaryLink: SiteURL.appraisalDownload(round.id.lowercased, .summary).path,
            acceptsRepresentatives: settings.representativesVote && round.status.takesHandouts,
            representativesAction: SiteURL.appraisalAction(round.id, .representatives).path
        )
    }

    /// 1/3 as people write it, else a percentage.
    static func share(_ value: Double) -> String {
        for denominator in 2...10 {
            let numerator = (value * Double(denominator)).rounded()
            if abs(numerator / Double(denominator) - value) < 1e-9 { return "\(Int(numerator))/\(denominator)" }
        }
        return "\((value * 100).formatted(.number.precision(.fractionLength(0...2))))%"
    }
}

/// A branch's committee page (组织评定): each member's tally, self-assessment and the proposal,
/// with the checks' refusals and flags; for an administrator, the approval.
struct AppraisalBranchPage: PageModel {
    struct Count {
        let label: String
        let count: Int
        let share: String
    }

    struct Option {
        let value: String
        let label: String
        let selected: Bool
    }

    /// A line of the tally table: all voters, or one voter group when the split may be shown.
    struct TallyLine {
        let label: String
        let counts: [Count]
        let abstentions: Int
    }

    struct Row {
        let staffNumber: String
        let name: String
        let partyGroup: String?
        let hasLeft: Bool
        let selfAssessment: String?
        let tallyShown: Bool
        let counts: [Count]
        /// The tally's lines: all voters first, then each group's when the split may be shown.
        let tallyLines: [TallyLine]
        let cast: Int
        let suggested: String?
        let field: String
        let options: [Option]
        let note: String
        let explanation: String
        let flags: [String]
        let flagged: Bool
        let problems: [String]
        let hasProblems: Bool
    }

    let roundTitle: String
    let branchName: String
    let branchCode: String
    let review: String
    let reviewComment: String?
    let quota: String
    let threshold: String
    let rows: [Row]
    let left: [Row]
    let hasLeft: Bool
    let votingClosed: Bool
    let editable: Bool
    let decidable: Bool
    let action: String
    let decisionAction: String
    let back: String
    var refusals: [String] = []
    var hasRefusals = false
    var notice: String?

    static func make(
        _ book: AppraisalService.BranchBook,
        inputs: [UUID: AppraisalService.ProposalInput]?,
        review: AppraisalReview?,
        isAdministrator: Bool,
        language: Language
    ) -> AppraisalBranchPage {
        let settings = book.round.settings
        let categoryCount = settings.categories.count
        let names = settings.categories.map { language == .english ? $0.englishName : $0.name }
        let threshold = settings.anonymityThreshold
        func row(_ subject: AppraisalSubject) -> Row {
            let tally = book.tallies[subject.memberID] ?? AppraisalTally()
            let shown = tally.isShown(threshold: threshold)
            let combined = tally.combined(categories: categoryCount)
            let stored = book.proposals[subject.memberID]
            let input =
                inputs?[subject.memberID]
                ?? stored.map { AppraisalService.ProposalInput(category: $0.category, note: $0.note, explanation: $0.explanation) }
            // The flags: those the checks just raised, else those stored with the proposal.
            let flags: [String] =
                if let review {
                    (review.flags[subject.staffNumber] ?? []).map { Self.flagText($0, settings: settings, language: language) }
                } else {
                    (stored?.flags ?? []).map { language.text("appraisal_flag_\($0)_stored") }
                }
            var problems: [String] = []
            for refusal in review?.refusals ?? [] {
                switch refusal {
                case .missing(let member) where member == subject.staffNumber: problems.append(language.text("appraisal_refusal_missing"))
                case .reasonRequired(let member) where member == subject.staffNumber: problems.append(language.text("appraisal_refusal_reason"))
                case .explanationRequired(let member) where member == subject.staffNumber:
                    problems.append(language.text("appraisal_refusal_explanation"))
                default: break
                }
            }
            func line(_ label: String, _ counts: [Int], cast: Int, abstentions: Int) -> TallyLine {
                TallyLine(
                    label: label,
                    counts: zip(names, counts).map { name, count in Count(label: name, count: count, share: Self.percent(count, of: cast)) },
                    abstentions: abstentions
                )
            }
            var lines: [TallyLine] = []
            if shown {
                lines.append(
                    line(language.text("appraisal_group_all"), combined, cast: tally.cast, abstentions: tally.abstentions.values.reduce(0, +))
                )
                if tally.isSplitShown(threshold: threshold) {
                    for group in AppraisalVoterGroup.allCases {
                        lines.append(
                            line(
                                language.text("appraisal_group_\(group.rawValue)"),
                                tally.votes(of: group, categories: categoryCount),
                                cast: tally.cast(by: group),
                                abstentions: tally.abstentions[group] ?? 0
                            )
                        )
                    }
                }
            }
            return Row(
                staffNumber: subject.staffNumber,
                name: subject.name,
                partyGroup: subject.partyGroup,
                hasLeft: subject.hasLeft,
                selfAssessment: book.selfAssessments[subject.memberID],
                tallyShown: shown,
                counts: lines.first?.counts ?? [],
                tallyLines: lines,
                cast: tally.cast,
                suggested: shown ? tally.suggested(categories: categoryCount).map { names[$0] } : nil,
                field: subject.memberID.lowercased,
                options: [Option(value: "", label: language.text("appraisal_choose"), selected: input == nil || input?.category == "")]
                    + settings.categories.enumerated().map { index, category in
                        Option(value: category.key, label: names[index], selected: input?.category == category.key)
                    },
                note: input?.note ?? "",
                explanation: input?.explanation ?? "",
                flags: flags,
                flagged: !flags.isEmpty,
                problems: problems,
                hasProblems: !problems.isEmpty
            )
        }
        var page = AppraisalBranchPage(
            roundTitle: book.round.title,
            branchName: book.branchName,
            branchCode: book.branchCode,
            review: language.text("appraisal_review_\(book.review.rawValue)"),
            reviewComment: book.reviewComment.isEmpty ? nil : book.reviewComment,
            quota: language.text(
                "appraisal_quota_line",
                ["top": names.first ?? "", "n": settings.topPlaces(members: book.appraised.count), "members": book.appraised.count]
            ),
            threshold: language.text("appraisal_threshold_line", ["k": threshold]),
            rows: book.appraised.map(row),
            left: book.subjects.filter(\.hasLeft).map(row),
            hasLeft: book.subjects.contains(where: \.hasLeft),
            votingClosed: book.round.status == .closed,
            editable: book.round.status == .closed && book.review.isEditable,
            decidable: isAdministrator && book.review == .submitted,
            action: SiteURL.appraisalBranch(book.round.id, branchCode: book.branchCode).path,
            decisionAction: SiteURL.appraisalDecision(book.round.id.lowercased, branchCode: book.branchCode).path,
            back: isAdministrator ? SiteURL.appraisal(book.round.id).path : SiteURL.admin.path
        )
        for refusal in review?.refusals ?? [] {
            if case .overQuota(let allowed, let proposed) = refusal {
                page.refusals.append(language.text("appraisal_refusal_quota", ["top": names.first ?? "", "allowed": allowed, "proposed": proposed]))
            }
        }
        let rowProblems = review?.refusals.filter { if case .overQuota = $0 { false } else { true } }.count ?? 0
        if rowProblems > 0 { page.refusals.append(language.text("appraisal_refusal_rows", ["n": rowProblems])) }
        page.hasRefusals = !page.refusals.isEmpty
        return page
    }

    static func flagText(_ flag: AppraisalFlag, settings: AppraisalSettings, language: Language) -> String {
        let names = settings.categories.map { language == .english ? $0.englishName : $0.name }
        switch flag {
        case .departsFromVote(let suggested, let steps):
            return language.text("appraisal_flag_departs", ["suggested": names[suggested], "steps": steps])
        case .topWithoutHalf(let share):
            return language.text("appraisal_flag_top_without_half", ["top": names[0], "share": Self.percent(share)])
        case .passWithManyFailing(let share):
            return language.text("appraisal_flag_pass_with_failing", ["last": names[names.count - 1], "share": Self.percent(share)])
        }
    }

    static func percent(_ count: Int, of total: Int) -> String {
        total == 0 ? "—" : percent(Double(count) / Double(total))
    }

    static func percent(_ share: Double) -> String {
        "\((share * 100).formatted(.number.precision(.fractionLength(0))))%"
    }
}
