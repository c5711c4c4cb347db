import Foundation

/// The start page: what the signed-in person has to do, by role.
struct HomePage: PageModel {
    struct RoundLink {
        let title: String
        let status: String
        let report: String
    }

    /// A running round on an administrator's page, with what it still needs.
    struct AgendaRound {
        let title: String
        let link: String
        let status: String
        let closes: String
        let rate: String
        let percent: Int
        let publicResponses: Int
        let todo: [String]
        let hasTodo: Bool
        let closingToday: Bool
    }

    struct SheetToFill {
        let round: String
        let branch: String
        let status: String
        let link: String
    }

    var viewer = false
    var rounds: [RoundLink] = []
    var hasRounds = false
    /// The members' appraisals of the viewer's branch, each linked to the committee's page.
    var appraisals: [RoundLink] = []
    var hasAppraisals = false

    var administrator = false
    var agenda: [AgendaRound] = []
    var hasAgenda = false
    let newRound = SiteURL.newRound.path

    var evaluator = false
    var sheetsToFill: [SheetToFill] = []
    var hasSheetsToFill = false
    var sheetsDone = ""
    let allSheets = SiteURL.sheets.path

    init() {}

    /// A viewer's page: the rounds their branch took part in that have started.
    init(viewerOf branchCode: String, rounds: [RoundSummary], appraisals: [AppraisalRound] = [], language: Language) {
        self.appraisals = appraisals.map { round in
            RoundLink(
                title: round.title,
                status: language.text("appraisal_status_\(round.status.rawValue)"),
                report: SiteURL.appraisalBranch(round.id, branchCode: branchCode).path
            )
        }
        hasAppraisals = !appraisals.isEmpty
        viewer = true
        self.rounds = rounds.map { round in
            RoundLink(
                title: round.title,
                status: language.text("round_status_\(round.status.rawValue)"),
                report: SiteURL.branchReport(round.id, branchCode: branchCode).path
            )
        }
        hasRounds = !rounds.isEmpty
    }

    /// An evaluator's page: the open rounds' sheets not yet submitted.
    init(evaluatorWith assignments: [SheetAssignment], language: Language) {
        evaluator = true
        let open = assignments.filter { $0.status != "submitted" }
        sheetsToFill = open.map { assignment in
            SheetToFill(
                round: assignment.roundTitle,
                branch: assignment.branchName,
                status: language.text("sheet_status_\(assignment.status ?? "none")"),
                link: SiteURL.sheet(round: assignment.roundID.lowercased, branch: assignment.branchCode).path
            )
        }
        hasSheetsToFill = !open.isEmpty
        sheetsDone = language.text("home_sheets_done", ["done": assignments.count - open.count, "total": assignments.count])
    }

    /// An administrator's page: each round being prepared or running, its response rate, and
    /// what it still needs (evaluators, sheets, closing today).
    init(administratorWith rounds: [RoundRepository.Agenda], language: Language, now: Date = .now) {
        administrator = true
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = ChinaTime.zone
        agenda = rounds.map { round in
            var todo: [String] = []
            if round.branches == 0 { todo.append(language.text("home_todo_no_branches")) }
            if round.needsEvaluators && round.branchesWithEvaluators < round.branches {
                todo.append(language.text("home_todo_evaluators", ["n": round.branches - round.branchesWithEvaluators]))
            }
            if round.status == .open && round.assignments > round.submittedSheets {
                todo.append(language.text("home_todo_sheets", ["n": round.assignments - round.submittedSheets]))
            }
            let closingToday = round.status == .open && round.closesAt.map { calendar.isDate($0, inSameDayAs: now) } == true
            if closingToday { todo.append(language.text("home_todo_closing_today", ["time": round.closesAt.map(ChinaTime.format) ?? ""])) }
            if round.status == .draft { todo.append(language.text("home_todo_open")) }
            let share = round.eligibleMembers > 0 ? Double(round.memberResponses) / Double(round.eligibleMembers) : 0
            return AgendaRound(
                title: round.title,
                link: SiteURL.round(round.id).path,
                status: language.text("round_status_\(round.status.rawValue)"),
                closes: round.closesAt.map(ChinaTime.format) ?? "–",
                rate: language.text("home_rate", ["members": round.memberResponses, "eligible": round.eligibleMembers]),
                percent: min(Int((share * 100).rounded()), 100),
                publicResponses: round.publicResponses,
                todo: todo,
                hasTodo: !todo.isEmpty,
                closingToday: closingToday
            )
        }
        hasAgenda = !rounds.isEmpty
    }
}
