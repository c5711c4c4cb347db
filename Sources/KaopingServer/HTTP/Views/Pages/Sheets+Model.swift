import Foundation

/// An evaluator's score sheets, round by round: each branch assigned to them, with its state.
struct SheetsPage: PageModel {
    struct Row {
        let name: String
        let code: String
        let status: String
        let submitted: Bool
        let updated: String
        let link: String
    }

    struct Round {
        let title: String
        let open: Bool
        let progress: String
        let sheets: [Row]
    }

    let rounds: [Round]
    let hasAssignments: Bool
    let notice: String?

    init(_ assignments: [SheetAssignment], notice: String?, language: Language) {
        var order: [UUID] = []
        var byRound: [UUID: [SheetAssignment]] = [:]
        for assignment in assignments {
            if byRound[assignment.roundID] == nil { order.append(assignment.roundID) }
            byRound[assignment.roundID, default: []].append(assignment)
        }
        rounds = order.map { id in
            let sheets = byRound[id]!
            let submitted = sheets.filter { $0.status == "submitted" }.count
            return Round(
                title: sheets[0].roundTitle,
                open: sheets[0].roundOpen,
                progress: language.text("sheets_progress", ["done": submitted, "total": sheets.count]),
                sheets: sheets.map { assignment in
                    Row(
                        name: assignment.branchName,
                        code: assignment.branchCode,
                        status: language.text("sheet_status_\(assignment.status ?? "none")"),
                        submitted: assignment.status == "submitted",
                        updated: assignment.updatedAt.map(ChinaTime.format) ?? "",
                        link: SiteURL.sheet(round: assignment.roundID.lowercased, branch: assignment.branchCode).path
                    )
                }
            )
        }
        hasAssignments = !assignments.isEmpty
        self.notice = notice
    }
}
