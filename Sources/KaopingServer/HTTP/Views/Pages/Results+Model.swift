import Foundation
import KaopingAggregation
import KaopingForms

/// What the results pages share: which round, whether the figures are final, how they were
/// computed, and where the pages and downloads of the round's results are. The templates read
/// it inside `{{#header}}…{{/header}}`.
struct ResultsHeader {
    struct Links {
        let round: String
        let results: String
        let diagnostics: String
        let integration: String
        let integrated: String
        let integratedCSV: String
        let integrationCSV: String
        let watch: String
        let xlsx: String
        let xlsxEnglish: String
        let csv: String
        let csvEnglish: String
        let responses: String
        let sheets: String

        init(_ id: UUID) {
            let key = id.lowercased
            round = SiteURL.round(id).path
            results = SiteURL.results(id).path
            diagnostics = SiteURL.diagnostics(key).path
            integration = SiteURL.integration(key).path
            integrated = SiteURL.integratedSheet(key).path
            integratedCSV = SiteURL.integratedCSV(key).path
            integrationCSV = SiteURL.integrationCSV(key).path
            watch = SiteURL.watchList(key).path
            xlsx = SiteURL.resultsXLSX(key).path
            xlsxEnglish = SiteURL.resultsXLSX(key).path(["lang": "en"])
            csv = SiteURL.resultsCSV(key).path
            csvEnglish = SiteURL.resultsCSV(key).path(["lang": "en"])
            responses = SiteURL.responsesCSV(key).path
            sheets = SiteURL.sheetsCSV(key).path
        }
    }

    let title: String
    let provisional: Bool
    let computedAt: String
    let method: String
    let configHash: String
    let links: Links
}

extension ResultsHeader {
    init(round: RoundSummary, current: ResultsRepository.Current) {
        title = round.title
        provisional = current.provisional
        computedAt = ChinaTime.format(current.computedAt)
        method = current.result.methodVersion
        configHash = String(current.result.configurationHash.prefix(12))
        links = Links(round.id)
    }
}

/// Figures as the pages show them: two decimals as in the downloads, a dash for no score.
enum Shown {
    static func score(_ value: Double?) -> String {
        value == nil ? "–" : ResultsTable.decimal(value)
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }

    /// A rank gap as read: "+2", "0", "-1".
    static func signed(_ value: Int) -> String {
        value > 0 ? "+\(value)" : "\(value)"
    }

    /// A change of score as read: "+2.10", "-0.50".
    static func signedScore(_ value: Double) -> String {
        let text = ResultsTable.decimal(value)
        return value > 0 && text != "0.00" ? "+" + text : text
    }

    static func percent(_ share: Double?, decimals: Int = 1) -> String {
        share.map { String(format: "%.\(decimals)f%%", $0 * 100) } ?? ""
    }
}

/// The ranking: every branch's combined score, group scores, grade and flags, a page at a time,
/// sortable and filtered by superior organisation.
struct ResultsPage: PageModel {
    struct GroupCell {
        let score: String
        let n: Int
        let insufficient: Bool
    }

    struct Row {
        let rank: String
        let code: String
        let name: String
        let parent: String?
        let combined: String
        let bonus: String
        let grade: String
        let band: String
        let gradeChanged: Bool
        let incomplete: Bool
        /// The combined score rests on some groups only: which ones, in words.
        let partial: String?
        let vetoed: Bool
        let quota: Bool
        let failed: String
        let report: String
        let organisation: GroupCell
        let members: GroupCell
        let `public`: GroupCell
    }

    struct Organisation {
        let name: String
        let selected: Bool
    }

    struct SortLinks {
        let rank: String
        let code: String
        let organisation: String
        let members: String
        let `public`: String
    }

    struct GroupsPresent {
        let organisation: Bool
        let members: Bool
        let `public`: Bool
    }

    let header: ResultsHeader
    let rows: [Row]
    let hasRows: Bool
    let count: Int
    let organisations: [Organisation]
    let hasOrganisations: Bool
    let filterAction: String
    let sortLinks: SortLinks
    let groupsPresent: GroupsPresent
    let pager: Pager?
}

/// One branch's report: its scores, each group's figures and answers (above the anonymity
/// threshold), and the organisation's score sheet.
struct BranchReportPage: PageModel {
    struct Option {
        let label: String
        let count: Int
        let share: String
        let width: Int
    }

    struct Item {
        let label: String
        let options: [Option]
    }

    struct Comments {
        let label: String
        let texts: [String]
    }

    struct Note {
        let item: String
        let text: String
    }

    /// How the combined score was made up, to check by hand.
    struct Weights {
        let shares: String
        let sum: String
        let leftOut: String?
    }

    struct Group {
        let label: String
        let weight: String
        let responses: Int
        let n: Int
        let nTrimmed: Int
        let score: String
        let sd: String
        let ci: String
        let insufficient: Bool
        let satisfaction: String
        let survey: Bool
        let shown: Bool
        let chart: String?
        let items: [Item]
        let comments: [Comments]
    }

    let header: ResultsHeader
    let code: String
    let name: String
    let parent: String?
    let rank: String
    let combined: String
    let combinedBeforeBonus: String
    let bonus: String
    let grade: String
    let band: String
    let vetoed: Bool
    let quota: Bool
    let incomplete: Bool
    let weights: Weights?
    let threshold: Int
    let isAdmin: Bool
    let groups: [Group]
    let sheet: SheetSummary?
    /// The evaluators' notes and remarks, without their names.
    let notes: [Note]
    let hasNotes: Bool
    /// The one- or two-page summary for the meeting: scores, weights, the sheet and its notes,
    /// without the answer distributions and comments of the full report.
    let summaryOnly: Bool
    let summaryLink: String
    let fullLink: String
    let script = "print.js"
    /// Where the branch stands beside the business results of the round's year, if it has one.
    let integration: String?
    let trend: String?
    let history: String?
}

/// The organisation's score sheets of one branch, combined.
struct SheetSummary {
    struct Deduction {
        let label: String
        let maximum: String
        let lost: String
    }

    struct Bonus {
        let label: String
        let cap: String
        let earned: String
    }

    let evaluators: Int
    let base: String
    let bonus: String
    let deductions: [Deduction]
    let bonuses: [Bonus]
    let failed: [String]
    let hasFailed: Bool

    init(_ sheet: SheetResult, form: FormDefinition, language: Language) {
        evaluators = sheet.evaluators
        base = Shown.score(sheet.baseScore)
        bonus = Shown.score(sheet.bonus)
        deductions = form.items.filter { $0.type == .deduction }.map { item in
            Deduction(label: item.label.text(language), maximum: Shown.number(item.maximum ?? 0), lost: Shown.number(sheet.lost[item.key] ?? 0))
        }
        bonuses = form.items.filter { $0.type == .bonus }.map { item in
            Bonus(label: item.label.text(language), cap: Shown.number(item.maximum ?? 0), earned: Shown.number(sheet.earned[item.key] ?? 0))
        }
        failed = form.items.filter { sheet.failedBaselines.contains($0.key) }.map { $0.label.text(language) }
        hasFailed = !failed.isEmpty
    }
}

/// Checks on the round's data: agreement between raters, groups below quorum, and answer sets
/// that look mechanical (the same option everywhere).
struct DiagnosticsPage: PageModel {
    struct Alpha {
        let label: String
        let value: String
        let low: Bool
    }

    struct Flagged {
        let code: String
        let name: String
        let group: String
        let share: String
        let responses: Int
        let report: String
    }

    let header: ResultsHeader
    let alpha: [Alpha]
    let insufficientCount: Int
    let incompleteCount: Int
    let flagged: [Flagged]
    let hasFlagged: Bool
    let flaggedCount: Int
}

/// The integrated sheet for the performance office: units and branches with their business,
/// party-building and integrated results, and whether awards are barred.
struct IntegratedSheetPage: PageModel {
    struct Row {
        let code: String
        let name: String
        let branchCode: String
        let branchName: String
        let business: String
        let businessGrade: String
        let party: String
        let partyGrade: String
        let integrated: String
        let integratedGrade: String
        let rank: String
        let barred: Bool
        let report: String
    }

    let header: ResultsHeader
    let intro: String
    let formula: String
    let none: String?
    let hasSheet: Bool
    let frozen: Bool
    let newer: String?
    let adopt: String?
    let adoptAction: String
    let adopted: Bool
    let branches: [Row]
    let branchPager: Pager?
    let units: [Row]
    let unitPager: Pager?
    let hasUnits: Bool
}
