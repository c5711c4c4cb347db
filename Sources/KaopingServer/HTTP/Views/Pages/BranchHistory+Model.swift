import Foundation

/// A branch's record over the years: the quantitative table and charts beside the committee's
/// long-term qualitative assessments, which administrators add and edit here.
struct BranchHistoryPage: PageModel {
    struct YearRow {
        let year: Int
        let roundTitle: String
        let report: String
        let combined: String
        let grade: String
        let rank: String
        let change: String
        let groups: [String]
        let dimensions: [String]
        let business: String
        let formChanged: Bool
        let provisional: Bool
    }

    struct LevelChoice {
        let value: String
        let label: String
        let selected: Bool
    }

    struct AssessmentRow {
        let period: String
        let level: String
        let judgement: String
        let author: String
        let written: String
        let edited: String?
        let action: String
        let firstYear: Int
        let lastYear: Int
        let levels: [LevelChoice]
        let text: String
    }

    let code: String
    let name: String
    let branchLink: String
    let watch: String?
    let trend: String?
    let hasYears: Bool
    let groupHeaders: [String]
    let dimensionHeaders: [String]
    let years: [YearRow]
    let chart: String?
    let dimensionChart: String?
    let formNote: Bool
    let assessments: [AssessmentRow]
    let hasAssessments: Bool
    let addAction: String
    let newFirstYear: String
    let newLastYear: String
    let newLevels: [LevelChoice]
    let newText: String
    let problems: [String]
    let hasProblems: Bool
    let saved: Bool
}

/// The committee's lists for a round: branches two years running at the lowest grade or below
/// quorum, and branches at the top grade three years running.
struct WatchListPage: PageModel {
    struct Entry {
        let code: String
        let name: String
        let history: String
    }

    let header: ResultsHeader
    let rectification: [Entry]
    let commendation: [Entry]
    let hasRectification: Bool
    let hasCommendation: Bool
    let explanation: String
}
