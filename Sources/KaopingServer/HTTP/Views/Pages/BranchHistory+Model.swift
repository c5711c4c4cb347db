import Foundation
import KaopingAggregation
import KaopingForms

/// A branch's record over the years: the quantitative table and charts beside the committee's
/// long-term qualitative assessments, which administrators add and edit here.
struct BranchHistoryPage: PageModel {
    /// A year's members' appraisal: how many members in each category.
    struct AppraisalYear {
        let year: Int
        let title: String
        let counts: String
    }

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
        /// 拟定稿, 公示稿 or 定稿 with the meeting's reference, for a closed year.
        let stage: String?
        /// Which figures corrections changed, and when (docs/publicity.md).
        let corrected: String?
        /// The groups' and dimensions' scores, each with its column's heading, which labels it
        /// where a phone shows each year as a card.
        let figures: [LabelledFigure]
    }

    struct LabelledFigure {
        let label: String
        let text: String
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
    /// An administrator's page: the way back to the branch and the forms that write the
    /// committee's assessments. A branch's secretary reads the record without them.
    var editable = true
    /// The branch's approved members' appraisals, year by year (counts per category, never who).
    var appraisals: [AppraisalYear] = []
    var hasAppraisals = false

    mutating func showAppraisals(_ record: [(year: Int, title: String, settings: AppraisalSettings, counts: [Int])], language: Language) {
        appraisals = record.map { entry in
            let names = entry.settings.categories.map { language == .english ? $0.englishName : $0.name }
            let counts = zip(names, entry.counts).map { language.text("history_appraisal_count", ["category": $0, "n": $1]) }
            return AppraisalYear(year: entry.year, title: entry.title, counts: counts.joined(separator: language.text("list_separator")))
        }
        hasAppraisals = !appraisals.isEmpty
    }
}

/// The committee's lists for a round: branches two years running at the lowest grade or below
/// quorum, and branches at the top grade three years running.
struct WatchListPage: PageModel {
    struct Entry {
        let code: String
        let name: String
        let history: String
        /// The years and grades that put the branch on the list: "2025 年度较差，2026 年度份数不足".
        let years: String
    }

    let header: ResultsHeader
    let rectification: [Entry]
    let commendation: [Entry]
    let hasRectification: Bool
    let hasCommendation: Bool
    let explanation: String
}

extension BranchHistoryPage {
    /// The rater groups, in the order of the table's columns.
    static let groups = RoundConfiguration.RaterGroup.allCases.map(\.rawValue)

    /// The assessment form as the reader left it: what they typed when it had problems, and
    /// whether the last one was saved.
    struct AssessmentForm {
        var draft: BranchHistoryRepository.AssessmentDraft?
        var saved: Bool

        static let empty = AssessmentForm(draft: nil, saved: false)
    }

    /// A branch's record in `language`: its years (closed rounds, then open ones marked
    /// provisional), the charts, the trend and watch list of the closed years, and the
    /// committee's assessments. `memberForm` is the newest year's member form, whose dimensions
    /// the table and chart show; `grades` are the bands, highest first, of the newest closed
    /// round; `currentYear` proposes the period of a new assessment when there is no year yet.
    static func make(
        code: String,
        name: String,
        record: ResultsService.BranchRecordSoFar,
        memberForm: FormDefinition?,
        grades: [String],
        assessments: [BranchHistoryRepository.Assessment],
        form: AssessmentForm,
        currentYear: Int,
        language: Language
    ) -> BranchHistoryPage {
        let years = record.history.years
        let dimensions = memberForm?.dimensions ?? []
        let changes = BranchRecord.changes(years)
        // Only a change between two known forms is marked: an unknown one may be the same form.
        let formChanged = years.indices.map { index in
            index > 0 && years[index].memberForm != nil && years[index - 1].memberForm != nil
                && years[index].memberForm != years[index - 1].memberForm
        }
        let shownYears = years.map(\.year)
        let rows = years.enumerated().map { index, year in
            YearRow(
                year: year.year,
                roundTitle: year.roundTitle,
                report: SiteURL.branchReport(record.history.rounds[index], branchCode: code).path,
                combined: FigureText.score(year.combined),
                grade: year.grade ?? (year.belowQuorum ? language.text("value_below_quorum") : "–"),
                rank: year.rank.map { rankText($0, of: year.ranked, language: language) } ?? "–",
                change: changes[index].map { FigureText.signedScore($0) } ?? "–",
                groups: groups.map { FigureText.score(year.groups[$0]) },
                dimensions: dimensions.map { FigureText.score(year.dimensions[$0.key]) },
                business: FigureText.score(year.businessScore),
                formChanged: formChanged[index],
                provisional: record.provisional.contains(index),
                stage: record.provisional.contains(index)
                    ? nil : record.history.finality.indices.contains(index) ? record.history.finality[index].label(language) : nil,
                corrected: record.history.corrections[record.history.rounds[index]].map { Self.corrected($0, language: language) },
                figures: zip(
                    groups.map { language.text("group_\($0)") } + dimensions.map { $0.label.text(language) },
                    groups.map { FigureText.score(year.groups[$0]) } + dimensions.map { FigureText.score(year.dimensions[$0.key]) }
                ).map { LabelledFigure(label: $0, text: $1) }
            )
        }
        let marks = Set(zip(shownYears, formChanged).filter(\.1).map(\.0))
        let chart =
            years.isEmpty
            ? nil
            : Charts.lines(
                [
                    Charts.Series(name: language.text("history_series_combined"), values: years.map(\.combined)),
                    Charts.Series(name: language.text("history_series_business"), values: years.map(\.businessScore)),
                ],
                years: shownYears,
                marks: marks,
                markLabel: language.text("history_form_changed"),
                title: language.text("history_chart")
            )
        let dimensionChart =
            years.contains(where: { !$0.dimensions.isEmpty }) && !dimensions.isEmpty
            ? Charts.lines(
                dimensions.map { dimension in
                    Charts.Series(name: dimension.label.text(language), values: years.map { $0.dimensions[dimension.key] })
                },
                years: shownYears,
                marks: marks,
                markLabel: language.text("history_form_changed"),
                title: language.text("history_dimension_chart")
            ) : nil
        // An open round's provisional figures count for neither the trend nor the lists.
        let closedYears = Array(record.closedYears)
        let trend = BranchRecord.trend(closedYears).map { found in
            language.text("history_trend", ["trend": language.text("trend_\(found.trend.rawValue)"), "slope": FigureText.signedScore(found.slope)])
        }
        let watch = BranchRecord.watch(closedYears, grades: grades).map { language.text("watch_\($0.rawValue)_branch") }
        func levels(_ chosen: BranchHistoryRepository.Level?) -> [LevelChoice] {
            BranchHistoryRepository.Level.allCases.map {
                .init(value: $0.rawValue, label: language.text("level_\($0.rawValue)"), selected: $0 == chosen)
            }
        }
        let assessmentRows = assessments.map { assessment in
            AssessmentRow(
                period: language.text("history_period", ["first": assessment.firstYear, "last": assessment.lastYear]),
                level: language.text("level_\(assessment.level.rawValue)"),
                judgement: assessment.judgement,
                author: assessment.author,
                written: ChinaTime.format(assessment.createdAt),
                // Saving writes both times a moment apart: only a later change is an edit.
                edited: assessment.updatedAt.timeIntervalSince(assessment.createdAt) > 1 ? ChinaTime.format(assessment.updatedAt) : nil,
                action: SiteURL.branchAssessment(code, id: assessment.id.uuidString.lowercased()).path,
                firstYear: assessment.firstYear,
                lastYear: assessment.lastYear,
                levels: levels(assessment.level),
                text: assessment.judgement
            )
        }
        let newest = shownYears.last ?? currentYear
        let draft = form.draft
        return BranchHistoryPage(
            code: code,
            name: name,
            branchLink: SiteURL.branch(code).path,
            watch: watch,
            trend: trend,
            hasYears: !years.isEmpty,
            groupHeaders: groups.map { language.text("group_\($0)") },
            dimensionHeaders: dimensions.map { $0.label.text(language) },
            years: rows,
            chart: chart,
            dimensionChart: dimensionChart,
            formNote: !marks.isEmpty,
            assessments: assessmentRows,
            hasAssessments: !assessmentRows.isEmpty,
            addAction: SiteURL.branchAssessments(code).path,
            // A new assessment looks back over the last three years by default.
            newFirstYear: draft?.firstYear.map(String.init) ?? String(newest - 2),
            newLastYear: draft?.lastYear.map(String.init) ?? String(newest),
            newLevels: levels(draft?.level),
            newText: draft?.judgement ?? "",
            problems: draft?.problems.map { language.text($0) } ?? [],
            hasProblems: !(draft?.problems.isEmpty ?? true),
            saved: form.saved
        )
    }
}

extension WatchListPage {
    /// The committee's lists for a round in `language`, from the branches `listed` by the closed
    /// rounds up to `year`, named as in the round's results.
    static func make(
        listed: [(code: String, watch: BranchRecord.Watch, years: [BranchRecord.Year])],
        subjects: [SubjectResult],
        configuration: RoundConfiguration,
        year: Int,
        header: ResultsHeader,
        language: Language
    ) -> WatchListPage {
        let names = Dictionary(subjects.map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first })
        let grades = configuration.bands.map(\.grade)
        func entries(_ kind: BranchRecord.Watch) -> [Entry] {
            listed.filter { $0.watch == kind }.map { branch in
                Entry(
                    code: branch.code,
                    name: names[branch.code] ?? "",
                    history: SiteURL.branchHistory(branch.code).path,
                    years: branch.years.map { year in
                        let grade = year.belowQuorum ? language.text("value_below_quorum") : year.grade ?? "–"
                        return language.text("watch_year", ["year": year.year, "grade": grade])
                    }.joined(separator: language.text("watch_year_separator"))
                )
            }
        }
        let rectification = entries(.rectification)
        let commendation = entries(.commendation)
        return WatchListPage(
            header: header,
            rectification: rectification,
            commendation: commendation,
            hasRectification: !rectification.isEmpty,
            hasCommendation: !commendation.isEmpty,
            explanation: language.text("watch_explanation", ["year": year, "lowest": grades.last ?? "", "top": grades.first ?? ""])
        )
    }
}

extension BranchHistoryPage {
    /// "第 3 / 40 名（前 7.5%）" in the upper half, "第 11 / 12 名（后 16.7%）" in the lower: the
    /// share is counted from the nearer end, so a branch near the bottom never reads as "前 91.7%".
    /// The top half is rank ≤ ranked / 2; the share from the bottom counts the branch itself
    /// (the last of 12 is 后 8.3%).
    static func rankText(_ rank: Int, of ranked: Int, language: Language) -> String {
        guard ranked > 0 else { return String(rank) }
        if 2 * rank <= ranked {
            let fromTop = FigureText.percent(Double(rank) / Double(ranked), decimals: 1)
            return language.text("history_rank", ["rank": rank, "ranked": ranked, "share": fromTop])
        }
        let fromBottom = FigureText.percent(Double(ranked - rank + 1) / Double(ranked), decimals: 1)
        return language.text("history_rank_bottom", ["rank": rank, "ranked": ranked, "share": fromBottom])
    }
}

extension BranchHistoryPage {
    /// "已更正（2025-12-27）：群众评价得分 87.83 → 94.00；综合得分 …": each figure a correction
    /// changed, with the day it was made.
    static func corrected(_ changes: [(at: Date, change: ResultChange)], language: Language) -> String {
        let days = Set(changes.map { String(ChinaTime.format($0.at).prefix(10)) }).sorted()
        let figures = changes.map { entry in
            language.text(
                "history_corrected_figure",
                [
                    "figure": PublicityAdminPage.figure(entry.change.figure, language), "before": entry.change.before ?? "–",
                    "after": entry.change.after ?? "–",
                ]
            )
        }
        return language.text(
            "history_corrected",
            ["days": days.joined(separator: language.text("list_comma")), "figures": figures.joined(separator: language.text("list_separator"))]
        )
    }
}
