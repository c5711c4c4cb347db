import Foundation

/// An evaluator's score sheets: each branch assigned to them in each round, with its state.
struct SheetsPage: PageModel {
    struct Row {
        let roundTitle: String
        let name: String
        let status: String
        let updated: String
        let link: String
    }

    let assignments: [Row]
    let hasAssignments: Bool
    let notice: String?

    init(_ assignments: [SheetAssignment], notice: String?, language: Language) {
        self.assignments = assignments.map { assignment in
            Row(
                roundTitle: assignment.roundTitle,
                name: assignment.branchName,
                status: language.text("sheet_status_\(assignment.status ?? "none")"),
                updated: assignment.updatedAt.map(ChinaTime.format) ?? "",
                link: SiteURL.sheet(round: assignment.roundID.lowercased, branch: assignment.branchCode).path
            )
        }
        hasAssignments = !assignments.isEmpty
        self.notice = notice
    }
}
