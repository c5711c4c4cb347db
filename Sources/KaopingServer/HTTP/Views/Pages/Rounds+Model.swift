import Foundation
import KaopingAggregation
import KaopingForms

/// The list of rounds, newest first. Cancelled rounds are left out unless asked for: they
/// are kept for the record, not for the office's daily view.
struct RoundsPage: PageModel {
    struct Row {
        let title: String
        let status: String
        let opens: String
        let closes: String
        let branchCount: Int
        let link: String
    }

    let rounds: [Row]
    let hasRounds: Bool
    let newRound = SiteURL.newRound.path
    let notice: String?
    /// "2 cancelled rounds are not listed", with the link that lists them; nil when there are none.
    let cancelledCount: Int
    let hasCancelled: Bool
    let showingCancelled: Bool
    let cancelledLink = SiteURL.rounds.path(["cancelled": "all"])
    let activeLink = SiteURL.rounds.path

    init(_ rounds: [RoundSummary], showingCancelled: Bool = false, notice: String? = nil, language: Language) {
        let listed = rounds.filter { ($0.status == .cancelled) == showingCancelled }
        self.rounds = listed.map { round in
            Row(
                title: round.title,
                status: language.text("round_status_\(round.status.rawValue)"),
                opens: round.opensAt.map(ChinaTime.format) ?? "–",
                closes: round.closesAt.map(ChinaTime.format) ?? "–",
                branchCount: round.branches,
                link: SiteURL.round(round.id).path
            )
        }
        self.hasRounds = !listed.isEmpty
        self.notice = notice
        cancelledCount = rounds.filter { $0.status == .cancelled }.count
        hasCancelled = cancelledCount > 0
        self.showingCancelled = showingCancelled
    }
}

/// Where the links handed out point, and whether phones outside can reach it: shown above
/// everything that prints links or QR codes (`link_base` partial).
struct LinkBase {
    let linkBase: String
    let linkBaseLocal: Bool

    init(_ publicBaseURL: String) {
        linkBase = publicBaseURL
        linkBaseLocal = PublicAddress.isLocalOnly(publicBaseURL)
    }
}

/// One round's page: its schedule and state with the buttons that change it, invitations,
/// visit codes, evaluators, and each branch's progress.
struct RoundPage: PageModel {
    /// Every address the page links to or posts to.
    struct Links {
        let results: String
        let diagnostics: String
        let integration: String
        let integrated: String
        let open: String
        let close: String
        let extend: String
        let reopen: String
        let issueInvitations: String
        let invitationsCSV: String
        let pendingCSV: String
        let publicAccess: String
        let visitCodes: String
        let evaluators: String
        let removeEvaluator: String
        let edit: String
        let delete: String
        let cancel: String
        let addBranches: String
        let sharedDevice: String
        let publicity: String

        init(_ id: UUID) {
            publicity = SiteURL.roundAction(id, .publicity).path
            edit = SiteURL.roundAction(id, .edit).path
            delete = SiteURL.roundAction(id, .delete).path
            cancel = SiteURL.roundAction(id, .cancel).path
            addBranches = SiteURL.roundAction(id, .branches).path
            sharedDevice = SiteURL.roundAction(id, .sharedDevice).path
            results = SiteURL.results(id).path
            diagnostics = SiteURL.diagnostics(id.lowercased).path
            integration = SiteURL.integration(id.lowercased).path
            integrated = SiteURL.integratedSheet(id.lowercased).path
            open = SiteURL.roundAction(id, .open).path
            close = SiteURL.roundAction(id, .close).path
            extend = SiteURL.roundAction(id, .extend).path
            reopen = SiteURL.roundAction(id, .reopen).path
            issueInvitations = SiteURL.roundAction(id, .invitations).path
            invitationsCSV = SiteURL.invitationsCSV(id.lowercased).path
            pendingCSV = SiteURL.pendingCSV(id.lowercased).path
            publicAccess = SiteURL.roundAction(id, .publicAccess).path
            visitCodes = SiteURL.roundAction(id, .visitCodes).path
            evaluators = SiteURL.roundAction(id, .evaluators).path
            removeEvaluator = SiteURL.roundAction(id, .removeEvaluator).path
        }
    }

    struct BranchRow {
        let code: String
        let name: String
        let eligible: Int
        let members: Int
        let rate: String
        let `public`: Int
        let refused: Int
        let sheets: Int
        let overCount: Bool
        let slips: String
        let poster: String
        let sharedDevice: Bool
        let repeated: Int
    }

    struct AssignmentRow {
        let evaluator: String
        let username: String
        let userID: String
        let active: Bool
        let code: String
        let name: String
        let sheet: String
        let submitted: Bool
    }

    struct VisitBatchRow {
        let code: String
        let name: String
        let batch: Int
        let count: Int
        let used: Int
        let print: String
    }

    let title: String
    let status: String
    /// Shown only when set: no label without a value.
    let opens: String?
    let closes: String?
    let closedAt: String?
    let configHash: String?
    /// How the round is read with the performance results, in a sentence.
    let integrationSettings: String
    let canOpen: Bool
    let canClose: Bool
    let canExtend: Bool
    let canReopen: Bool
    /// A round that never opened is edited or deleted; one that opened is cancelled instead.
    let canEdit: Bool
    let canCancel: Bool
    /// Closed or later: the publicity and sign-off page is there.
    let hasResults: Bool
    let isCancelled: Bool
    let cancelReason: String?
    let cancelledAt: String?
    /// Closed and cancelled rounds hand out no more invitations, codes or assignments.
    let takesHandouts: Bool
    /// Branches of the round since deactivated in the organisation, named: "b07 旧支部".
    let deactivated: String?
    /// Active branches not in the round, which can still join it.
    let outside: [RoundRepository.NamedBranch]
    let canAddBranches: Bool
    let outsideCount: Int
    let totalRepeated: Int
    let links: Links
    let linkBase: String
    let linkBaseLocal: Bool
    let notice: String?
    let problem: String?
    let pendingCount: Int
    let visitBatches: [VisitBatchRow]
    let hasVisitBatches: Bool
    let totalMembers: Int
    let totalEligible: Int
    let totalPublic: Int
    let totalRefused: Int
    /// The members who answered, of those eligible, over the whole round: "62%".
    let overallRate: String
    let refresh: String
    let voteCheckOK: Bool
    let branches: [BranchRow]
    let pager: Pager?
    let assignments: [AssignmentRow]
    let hasAssignments: Bool
    /// A closed round's assignments stay as they were.
    let canUnassign: Bool

    init(
        round: RoundSummary,
        progress: [BranchProgress],
        totals: RoundRepository.ProgressTotals,
        page: Int,
        pages: Int,
        pendingCount: Int,
        batches: [VisitCodeBatch],
        linkBase: LinkBase,
        configuration: RoundConfiguration,
        assignments: [RoundAssignment],
        deactivated: [RoundRepository.NamedBranch] = [],
        outside: [RoundRepository.NamedBranch] = [],
        notice: String?,
        problem: String?,
        language: Language
    ) {
        let id = round.id
        canEdit = round.status.canEdit
        canCancel = round.status.canCancel
        hasResults = round.status.hasResults
        isCancelled = round.status == .cancelled
        cancelReason = round.cancelReason
        cancelledAt = round.cancelledAt.map(ChinaTime.format)
        takesHandouts = round.status.takesHandouts
        self.deactivated =
            deactivated.isEmpty
            ? nil : language.text("rounds_deactivated", ["branches": language.quotedList(deactivated.map { "\($0.code) \($0.name)" })])
        self.outside = outside
        canAddBranches = round.status.canAddBranches && !outside.isEmpty
        outsideCount = outside.count
        totalRepeated = totals.repeatedDeviceAnswers
        self.assignments = assignments.map { assignment in
            AssignmentRow(
                evaluator: assignment.displayName.isEmpty ? assignment.username : assignment.displayName,
                username: assignment.username,
                userID: assignment.userID.lowercased,
                active: assignment.active,
                code: assignment.branchCode,
                name: assignment.branchName,
                sheet: language.text("rounds_sheet_\(assignment.sheetStatus ?? "none")"),
                submitted: assignment.sheetStatus == "submitted"
            )
        }
        hasAssignments = !assignments.isEmpty
        canUnassign = round.status.takesHandouts
        let settings = configuration.integrationSettings
        integrationSettings = language.text(
            "rounds_integration_summary",
            [
                "year": settings.performanceYear ?? round.year, "weight": FigureText.number(settings.partyWeight),
                "veto": language.text(settings.baselineBarsAwards ? "value_yes" : "value_no"),
            ]
        )
        title = round.title
        status = language.text("round_status_\(round.status.rawValue)")
        opens = round.opensAt.map(ChinaTime.format)
        closes = round.closesAt.map(ChinaTime.format)
        closedAt = round.closedAt.map(ChinaTime.format)
        configHash = round.configHash.map { String($0.prefix(12)) }
        canOpen = round.status.canOpen
        canClose = round.status.canClose
        canExtend = round.status.canExtend
        canReopen = round.status.canReopen
        links = Links(id)
        self.linkBase = linkBase.linkBase
        linkBaseLocal = linkBase.linkBaseLocal
        self.notice = notice
        self.problem = problem
        self.pendingCount = pendingCount
        visitBatches = batches.map { batch in
            VisitBatchRow(
                code: batch.branchCode,
                name: batch.branchName,
                batch: batch.batch,
                count: batch.count,
                used: batch.used,
                print: SiteURL.visitCodeSlips(id.lowercased).path(["branch": batch.branchCode, "batch": String(batch.batch)])
            )
        }
        hasVisitBatches = !batches.isEmpty
        totalMembers = totals.memberResponses
        totalEligible = totals.eligibleMembers
        totalPublic = totals.publicResponses
        totalRefused = totals.publicRefusals
        overallRate =
            totals.eligibleMembers > 0
            ? String(format: "%.0f%%", Double(totals.memberResponses) / Double(totals.eligibleMembers) * 100) : "–"
        refresh = SiteURL.round(id).path + "#progress"
        voteCheckOK = totals.overCounted == 0
        branches = progress.map { branch in
            BranchRow(
                code: branch.code,
                name: branch.name,
                eligible: branch.eligibleMembers,
                members: branch.memberResponses,
                rate: branch.memberRate.map { String(format: "%.0f%%", $0 * 100) } ?? "–",
                public: branch.publicResponses,
                refused: branch.publicRefusals,
                sheets: branch.sheets,
                overCount: branch.memberResponses > branch.eligibleMembers,
                slips: SiteURL.slips(id.lowercased).path(["branch": branch.code]),
                poster: SiteURL.poster(id.lowercased, publicCode: branch.publicCode).path,
                sharedDevice: branch.sharedDevice,
                repeated: branch.repeatedDeviceAnswers
            )
        }
        let here = SiteURL.round(id)
        pager = Pager(page: page, pages: pages) { here.path(["page": String($0)]) }
    }
}

/// "Open the round now?" and "Close the round now?": what will happen, and the one button.
struct RoundConfirmPage: PageModel {
    let title: String
    let confirmTitle: String
    let confirmButton: String
    let lines: [String]
    let action: String
    let cancel: String
    /// Cancelling a round asks why, for the audit log.
    var asksReason = false
    /// Deleting and cancelling cannot be undone: the button says so by its colour.
    var destructive = false
    var problem: String?
}

/// A4 pages of cut-out slips, each with its branch, a QR code of its link and the link.
struct SlipsPage: PageModel {
    struct Slip {
        let branch: String
        let url: String
        let qr: String
        /// The short code to type instead of scanning (invitation slips).
        let code: String?
    }

    /// One branch's slips: each branch starts on a new sheet of paper.
    struct Branch {
        let name: String
        let slips: [Slip]
    }

    let title: String
    let branches: [Branch]
    let count: Int
    let hasSlips: Bool
    let deadline: String?
    let codeEntry: String
    let instructions: String
    /// "未使用的 12 张邀请条": what the page holds, counting only the slips still to hand out.
    let countText: String
    let none: String
    let linkBase: String
    let linkBaseLocal: Bool
    /// What the slips are, of which round and branch (or of every branch), above them on screen.
    var heading = ""
    let print = true
    let script = "print.js"

    init(
        title: String,
        slips: [Slip],
        deadline: String?,
        codeEntry: String,
        instructions: String,
        countText: String,
        none: String,
        linkBase: LinkBase
    ) {
        self.title = title
        var branches: [Branch] = []
        for slip in slips {
            if branches.last?.name == slip.branch {
                branches[branches.count - 1] = Branch(name: slip.branch, slips: branches[branches.count - 1].slips + [slip])
            } else {
                branches.append(Branch(name: slip.branch, slips: [slip]))
            }
        }
        self.branches = branches
        self.count = slips.count
        self.hasSlips = !slips.isEmpty
        self.deadline = deadline
        self.codeEntry = codeEntry
        self.instructions = instructions
        self.countText = countText
        self.none = none
        self.linkBase = linkBase.linkBase
        self.linkBaseLocal = linkBase.linkBaseLocal
    }
}

/// An A4 poster for a branch's service window: its public link as a QR code.
struct PosterPage: PageModel {
    let title: String
    let branch: String
    let url: String
    let qr: String
    let linkBase: String
    let linkBaseLocal: Bool
    /// What the poster asks people to do, under the name.
    let heading: String
    let instructions: String
    let print = true
}

/// The "new round" page: every field of a round spec, as typed (or as the defaults propose),
/// and what is wrong with it.
struct NewRoundPage: PageModel {
    struct FormChoice {
        let id: String
        let title: String
        let selected: Bool
    }

    struct Group {
        let key: String
        let label: String
        let use: Bool
        let forms: [FormChoice]
        let weight: String
        let quorum: String
        let quorumShare: String
        let trim: String
        let trimFrom: String
        let isMembers: Bool
    }

    struct Grade {
        let index: Int
        let number: Int
        let name: String
        let min: String
    }

    /// Where the form posts: the rounds list for a new round, the round's edit address for a draft.
    let action: String
    let editing: Bool
    /// The address of the round being edited, to go back without saving.
    let cancel: String?
    /// Warnings about the dates, each confirmed by ticking one box before the round is stored.
    let warnings: [String]
    let hasWarnings: Bool
    /// The closing time proposed for each year near this one, as JSON for `round-form.js`,
    /// which moves an untouched proposal when the year changes.
    let proposals: String
    let script = "round-form.js"
    let title: String
    let year: String
    let opens: String
    let closes: String
    let vetoGrade: String
    let bonusCap: String
    let topGradeQuota: String
    let anonymityThreshold: String
    let publicCap: String
    let integrationYear: String
    let integrationWeight: String
    let integrationVeto: Bool
    let integrationBusinessLine: String
    let integrationPartyLine: String
    let branchCodes: String
    let groups: [Group]
    let grades: [Grade]
    let renormalise: Bool
    let require: Bool
    let allBranches: Bool
    let someBranches: Bool
    let problems: [String]
    let hasProblems: Bool

    init(
        _ form: RoundForm,
        forms: [FormDefinition],
        problems: [String],
        warnings: [String] = [],
        editing round: UUID? = nil,
        language: Language,
        now: Date = .now
    ) {
        action = round.map { SiteURL.roundAction($0, .edit).path } ?? SiteURL.rounds.path
        editing = round != nil
        cancel = round.map { SiteURL.round($0).path }
        self.warnings = warnings
        hasWarnings = !warnings.isEmpty
        let thisYear = Calendar(identifier: .gregorian).dateComponents(in: ChinaTime.zone, from: now).year ?? 2026
        let proposed = ((thisYear - 2)...(thisYear + 3)).map { year in
            let date = RoundDates.proposedClosing(year: year, now: now, timeZone: ChinaTime.zone)
            return "\"\(year)\":\"\(ChinaTime.format(date).replacingOccurrences(of: " ", with: "T"))\""
        }
        proposals = "{" + proposed.joined(separator: ",") + "}"
        let entered = form.entered
        func field(_ key: String) -> String { entered[key] ?? "" }
        // A datetime-local field shows only "2026-12-01T09:00".
        func moment(_ key: String) -> String {
            guard let text = entered[key], let date = ChinaTime.parse(text) else { return field(key) }
            return ChinaTime.format(date).replacingOccurrences(of: " ", with: "T")
        }
        title = field("title")
        year = field("year")
        opens = moment("opens")
        closes = moment("closes")
        vetoGrade = field("veto_grade")
        bonusCap = field("bonus_cap")
        topGradeQuota = field("top_grade_quota")
        anonymityThreshold = field("anonymity_threshold")
        publicCap = field("public_cap")
        integrationYear = field("integration_year")
        integrationWeight = field("integration_weight")
        integrationVeto = entered["integration_veto"] != nil
        integrationBusinessLine = field("integration_business_line")
        integrationPartyLine = field("integration_party_line")
        branchCodes = field("branch_codes")
        groups = RoundForm.groups.map { group in
            let prefix = group.rawValue
            let chosen = entered["\(prefix)_form"]
            let wantsSheet = group == .organisation
            return Group(
                key: prefix,
                label: language.text("round_group_\(prefix)"),
                use: entered["\(prefix)_use"] != nil,
                forms: forms.filter { ($0.kind == .sheet) == wantsSheet }.map { form in
                    FormChoice(id: form.id, title: form.title.text(language), selected: form.id == chosen)
                },
                weight: field("\(prefix)_weight"),
                quorum: field("\(prefix)_quorum"),
                quorumShare: field("\(prefix)_quorum_share"),
                trim: field("\(prefix)_trim"),
                trimFrom: field("\(prefix)_trim_from"),
                isMembers: group == .members
            )
        }
        grades = (0..<RoundForm.gradeRows).map { index in
            Grade(index: index, number: index + 1, name: field("grade\(index)_name"), min: field("grade\(index)_min"))
        }
        renormalise = entered["missing_groups"] != "require"
        require = entered["missing_groups"] == "require"
        allBranches = entered["branches"] != "codes"
        someBranches = entered["branches"] == "codes"
        self.problems = problems
        hasProblems = !problems.isEmpty
    }
}
