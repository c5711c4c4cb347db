import Foundation
import KaopingAggregation

/// The period as the pages write it: "2026-12-07 09:00 至 2026-12-11 18:00".
private func period(_ publicity: Publicity, _ language: Language) -> String {
    guard let start = publicity.startsAt, let end = publicity.endsAt else { return "—" }
    return language.text("publicity_period_value", ["start": ChinaTime.format(start), "end": ChinaTime.format(end)])
}

/// The public publicity page (公示): the list as the administrator chose it, the period, and
/// the objection form while objections are taken. Rendered once per version of the results
/// with the CSRF token and the submission key as slots (`PublicityPageCache`).
struct PublicityPublicPage: PageModel {
    struct Row {
        let number: Int
        let name: String
        let grade: String
        let score: String?
        let withheld: Bool
    }

    struct BranchChoice {
        let code: String
        let name: String
        let selected: Bool
    }

    let respondent = true
    let title: String
    let intro: String
    let listHeading: String
    let rows: [Row]
    let showsGrades: Bool
    let showsScores: Bool
    let empty: Bool
    let periodText: String
    let takesObjections: Bool
    /// Why objections are not taken (the period is over, the results are final).
    let closedNote: String?
    let approvedNote: String?
    let limitsNote: String
    var branches: [BranchChoice]
    let action: String
    // What was typed, when the page comes back with problems.
    var body = ""
    var contactName = ""
    var contactPhone = ""
    var problems: [String] = [] {
        didSet { hasProblems = !problems.isEmpty }
    }
    var hasProblems = false
    /// The database could not take the objection: nothing was filed; sent again, it counts once.
    var unavailable = false
    var branchProblem = false
    var bodyProblem = false
    var nameProblem = false
    var phoneProblem = false
    var submissionKey = PrerenderedPage.Slot.submissionKey.marker
    var csrf = PrerenderedPage.Slot.csrf.marker
    let longest = ObjectionDraft.longest

    init(
        _ publicity: Publicity,
        list: PublicityList,
        topGrade: String,
        branches: [(code: String, name: String)],
        selected: String = "",
        limits: (perAddress: Int, perBrowser: Int),
        now: Date,
        language: Language
    ) {
        title = language.text("publicity_public_title", ["title": publicity.title])
        intro = language.text("publicity_public_intro", ["year": publicity.year])
        switch list.shows {
        case .top: listHeading = language.text("publicity_list_top", ["grade": topGrade])
        case .grades: listHeading = language.text("publicity_list_grades")
        case .scores: listHeading = language.text("publicity_list_scores")
        }
        showsGrades = list.shows != .top
        showsScores = list.shows == .scores
        rows = list.rows.enumerated().map { index, row in
            Row(
                number: index + 1,
                name: row.name,
                grade: row.grade ?? language.text("publicity_no_grade"),
                score: row.score.map { String(format: "%.2f", $0) },
                withheld: row.scoreWithheld
            )
        }
        empty = list.rows.isEmpty
        periodText = period(publicity, language)
        takesObjections = publicity.takesObjections(at: now)
        closedNote = publicity.stage == .ended ? language.text("publicity_public_ended") : nil
        approvedNote = publicity.approval.map { language.text("publicity_public_approved", ["reference": $0.reference]) }
        limitsNote = language.text("publicity_limits", ["address": limits.perAddress, "browser": limits.perBrowser])
        self.branches = branches.map { BranchChoice(code: $0.code, name: $0.name, selected: $0.code == selected) }
        action = SiteURL.publicity(key: publicity.key ?? "").path
    }

    /// The page again with what the person typed, to send once more.
    mutating func refill(_ draft: ObjectionDraft) {
        body = draft.body
        contactName = draft.contactName
        contactPhone = draft.contactPhone
        submissionKey = draft.submissionKey
        branches = branches.map { BranchChoice(code: $0.code, name: $0.name, selected: $0.code == draft.branchCode) }
    }
}

/// What the filer of an objection sees through the receipt link.
struct ObjectionStatusPage: PageModel {
    let respondent = true
    let receipt: String
    let roundTitle: String
    let branch: String
    let body: String
    let filedAt: String
    let state: String
    let reply: String?
    let repliedAt: String?
    /// Shown once, right after filing: keep the link.
    let justFiled: Bool
    let link: String

    init(_ objection: Objection, roundTitle: String, justFiled: Bool, link: String, language: Language) {
        receipt = objection.receipt
        self.roundTitle = roundTitle
        branch = objection.branchName
        body = objection.body
        filedAt = ChinaTime.format(objection.filedAt)
        state = ObjectionStatusPage.state(objection, language)
        reply = objection.reply
        repliedAt = objection.repliedAt.map(ChinaTime.format)
        self.justFiled = justFiled
        self.link = link
    }

    static func state(_ objection: Objection, _ language: Language) -> String {
        switch objection.decision {
        case .upheld: language.text("objection_state_upheld")
        case .notUpheld: language.text("objection_state_not_upheld")
        case nil: language.text(objection.assignedTo == nil ? "objection_state_received" : "objection_state_in_hand")
        }
    }
}

/// A round's publicity and sign-off for the administrators: the stage, the period form, the
/// public page and its poster, the objections, and the sign-off.
struct PublicityAdminPage: PageModel {
    struct ObjectionRow {
        let receipt: String
        let link: String
        let branch: String
        let filedAt: String
        let filer: String
        let state: String
        let open: Bool
        let assignedTo: String?
    }

    struct ShowsChoice {
        let value: String
        let label: String
        let checked: Bool
    }

    struct ApprovalRow {
        let reference: String
        let meetingOn: String
        let approvedAt: String
        let approvedBy: String
        let resultsHash: String
        let configHash: String
        let openObjections: Int
        let withdrawnAt: String?
        let withdrawnReason: String?
    }

    let title: String
    let roundLink: String
    let stage: String
    let stageNote: String?
    let canSet: Bool
    let starts: String
    let ends: String
    let proposal: String
    let unknownYears: String?
    let shows: [ShowsChoice]
    let action: String
    let publicLink: String?
    let posterLink: String?
    let objections: [ObjectionRow]
    let hasObjections: Bool
    let openObjections: Int
    let canApprove: Bool
    let approveLink: String
    let approval: ApprovalRow?
    let withdrawn: [ApprovalRow]
    let hasWithdrawn: Bool
    let canReopen: Bool
    let reopenAction: String
    let reopenEnds: String
    let calendarLink = SiteURL.calendar.path
    struct CorrectionRow {
        let kind: String
        let branch: String
        let reason: String
        let objection: String?
        let madeAt: String
        let madeBy: String
        let changes: [ChangeRow]
        let unchanged: Bool
    }

    struct ChangeRow {
        let branch: String
        let figure: String
        let before: String
        let after: String
    }

    let corrections: [CorrectionRow]
    let hasCorrections: Bool
    let canCorrect: Bool
    let correctAction: String
    let grades: [String]
    var notice: String?
    var problem: String?

    init(
        _ publicity: Publicity,
        objections: [Objection],
        corrections: [Correction] = [],
        grades: [String] = [],
        proposal: WorkingDayCalendar.Period,
        publicBaseURL: String,
        language: Language
    ) {
        let id = publicity.roundID
        title = publicity.title
        roundLink = SiteURL.round(id).path
        stage = language.text("publicity_stage_\(publicity.stage.rawValue)")
        switch publicity.stage {
        case .scheduled: stageNote = language.text("publicity_note_scheduled", ["start": publicity.startsAt.map(ChinaTime.format) ?? ""])
        case .running: stageNote = language.text("publicity_note_running", ["end": publicity.endsAt.map(ChinaTime.format) ?? ""])
        case .ended: stageNote = language.text("publicity_note_ended")
        default: stageNote = nil
        }
        canSet = publicity.status.canPublicise
        starts = publicity.startsAt.map(ChinaTime.format) ?? ""
        ends = publicity.endsAt.map(ChinaTime.format) ?? ChinaTime.format(proposal.end)
        self.proposal = language.text(
            "publicity_proposal",
            ["days": PublicityService.standardWorkingDays, "end": ChinaTime.format(proposal.end)]
        )
        unknownYears =
            proposal.unknownYears.isEmpty
            ? nil
            : language.text(
                "publicity_unknown_years",
                ["years": proposal.unknownYears.map(String.init).joined(separator: language.text("list_comma"))]
            )
        let chosen = publicity.shows ?? .top
        shows = PublicityShows.allCases.map {
            ShowsChoice(value: $0.rawValue, label: language.text("publicity_shows_\($0.rawValue)"), checked: $0 == chosen)
        }
        action = SiteURL.roundAction(id, .publicity).path
        let started = publicity.stage == .running || publicity.stage == .ended || publicity.stage == .approved
        publicLink = started ? publicity.key.map { SiteURL.publicity(key: $0).absolute(base: publicBaseURL) } : nil
        posterLink = started ? SiteURL.publicityPoster(id.lowercased).path : nil
        self.objections = objections.map { objection in
            ObjectionRow(
                receipt: objection.receipt,
                link: SiteURL.objection(objection.id).path,
                branch: objection.branchName,
                filedAt: ChinaTime.format(objection.filedAt),
                filer: objection.filedBy ?? (objection.anonymous ? language.text("objection_anonymous") : objection.contactName ?? ""),
                state: ObjectionStatusPage.state(objection, language),
                open: objection.decision == nil,
                assignedTo: objection.assignedTo
            )
        }
        hasObjections = !objections.isEmpty
        self.corrections = corrections.map { correction in
            CorrectionRow(
                kind: language.text("correction_kind_\(correction.kind.rawValue)"),
                branch: correction.branchName,
                reason: correction.reason,
                objection: correction.objectionReceipt,
                madeAt: ChinaTime.format(correction.madeAt),
                madeBy: correction.madeBy ?? "—",
                changes: correction.changes.map {
                    ChangeRow(branch: $0.name, figure: Self.figure($0.figure, language), before: $0.before ?? "—", after: $0.after ?? "—")
                },
                unchanged: correction.changes.isEmpty
            )
        }
        hasCorrections = !corrections.isEmpty
        canCorrect = publicity.status.canCorrect
        correctAction = SiteURL.roundAction(id, .corrections).path
        self.grades = grades
        openObjections = publicity.openObjections
        canApprove = publicity.stage == .ended
        approveLink = SiteURL.roundAction(id, .approve).path
        approval = publicity.approval.map(Self.row)
        withdrawn = publicity.withdrawn.map(Self.row)
        hasWithdrawn = !withdrawn.isEmpty
        canReopen = publicity.stage == .approved
        reopenAction = SiteURL.roundAction(id, .reopenPublicity).path
        reopenEnds = ChinaTime.format(proposal.end)
    }

    /// A figure of the difference list in words: a rater group's score by its group's name.
    static func figure(_ figure: String, _ language: Language) -> String {
        switch figure {
        case "combined", "grade", "rank", "status": language.text("correction_figure_\(figure)")
        default: language.text("correction_figure_group", ["group": language.text("group_\(figure)")])
        }
    }

    static func row(_ approval: Publicity.Approval) -> ApprovalRow {
        ApprovalRow(
            reference: approval.reference,
            meetingOn: approval.meetingOn,
            approvedAt: ChinaTime.format(approval.approvedAt),
            approvedBy: approval.approvedBy ?? "—",
            resultsHash: approval.resultsHash,
            configHash: approval.configHash,
            openObjections: approval.openObjections,
            withdrawnAt: approval.withdrawnAt.map(ChinaTime.format),
            withdrawnReason: approval.withdrawnReason
        )
    }
}

/// The sign-off page: the objections still open, listed, and the meeting's reference and date.
struct ApprovePage: PageModel {
    struct OpenObjection {
        let receipt: String
        let link: String
        let branch: String
        let state: String
    }

    let title: String
    let cancel: String
    let action: String
    let open: [OpenObjection]
    let hasOpen: Bool
    var reference = ""
    var meetingOn: String
    var problem: String?

    init(_ publicity: Publicity, open: [Objection], today: String, language: Language) {
        title = publicity.title
        cancel = SiteURL.roundAction(publicity.roundID, .publicity).path
        action = SiteURL.roundAction(publicity.roundID, .approve).path
        self.open = open.map {
            OpenObjection(
                receipt: $0.receipt,
                link: SiteURL.objection($0.id).path,
                branch: $0.branchName,
                state: ObjectionStatusPage.state($0, language)
            )
        }
        hasOpen = !open.isEmpty
        meetingOn = today
    }
}

/// One objection for the administrators: what was filed, and the forms to assign, reply and decide.
struct ObjectionPage: PageModel {
    let receipt: String
    let roundTitle: String
    let roundPublicity: String
    let branch: String
    let branchCode: String
    let body: String
    let filer: String
    let contactPhone: String?
    let filedAt: String
    let state: String
    let open: Bool
    let assignedTo: String?
    let reply: String?
    let repliedAt: String?
    let assignAction: String
    let replyAction: String
    let decideAction: String
    let reportLink: String
    var notice: String?
    var problem: String?

    init(_ objection: Objection, roundTitle: String, language: Language) {
        receipt = objection.receipt
        self.roundTitle = roundTitle
        roundPublicity = SiteURL.roundAction(objection.roundID, .publicity).path
        branch = objection.branchName
        branchCode = objection.branchCode
        body = objection.body
        filer = objection.filedBy ?? (objection.anonymous ? language.text("objection_anonymous") : objection.contactName ?? "")
        contactPhone = objection.contactPhone
        filedAt = ChinaTime.format(objection.filedAt)
        state = ObjectionStatusPage.state(objection, language)
        open = objection.decision == nil
        assignedTo = objection.assignedTo
        reply = objection.reply
        repliedAt = objection.repliedAt.map(ChinaTime.format)
        assignAction = SiteURL.objectionAction(objection.id, .assign).path
        replyAction = SiteURL.objectionAction(objection.id, .reply).path
        decideAction = SiteURL.objectionAction(objection.id, .decide).path
        reportLink = SiteURL.branchReport(objection.roundID, branchCode: objection.branchCode).path
    }
}

/// The working-day calendar: the years known (shipped or entered) and a form to enter a year.
struct CalendarPage: PageModel {
    struct Year {
        let year: Int
        let source: String
        let holidays: Int
        let workdays: Int
        let text: String
    }

    let years: [Year]
    let action = SiteURL.calendar.path
    var year: String
    var text = ""
    var problems: [String] = [] {
        didSet { hasProblems = !problems.isEmpty }
    }
    var hasProblems = false
    var notice: String?

    init(entered: [CalendarRepository.EnteredYear], merged: WorkingDayCalendar, nextYear: Int, language: Language) {
        years = merged.years.map { year in
            let entries = merged.entries(year: year)
            let by = entered.first { $0.year == year }
            return Year(
                year: year,
                source: by.map { language.text("calendar_entered_by", ["by": $0.enteredBy ?? "—", "at": ChinaTime.format($0.enteredAt)]) }
                    ?? language.text("calendar_shipped"),
                holidays: entries.filter { $0.kind == .holiday }.count,
                workdays: entries.filter { $0.kind == .workday }.count,
                text: merged.text(year: year)
            )
        }
        year = String(nextYear)
    }
}
