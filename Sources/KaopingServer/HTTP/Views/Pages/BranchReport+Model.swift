import Foundation
import KaopingAggregation
import KaopingForms

/// One branch's report: its scores, each group's figures and answers (above the anonymity
/// threshold), and the organisation's score sheet.
struct BranchReportPage: PageModel {
    /// Shown to the branch's secretary while the round is published (公示).
    var objections: ReportObjections?
    /// How final the figures are: proposed, published for comment, or signed off (the results
    /// notice, 通报, with the meeting's reference). `nil` while the round runs.
    var stageNote: String?
    var stageFinal = false

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
        /// For a branch answering from a shared device: how many public answers came from a
        /// browser that had answered before.
        var repeated: String? = nil
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
        base = FigureText.score(sheet.baseScore)
        bonus = FigureText.score(sheet.bonus)
        deductions = form.items.filter { $0.type == .deduction }.map { item in
            Deduction(
                label: item.label.text(language),
                maximum: FigureText.number(item.maximum ?? 0),
                lost: FigureText.number(sheet.lost[item.key] ?? 0)
            )
        }
        bonuses = form.items.filter { $0.type == .bonus }.map { item in
            Bonus(label: item.label.text(language), cap: FigureText.number(item.maximum ?? 0), earned: FigureText.number(sheet.earned[item.key] ?? 0))
        }
        failed = form.items.filter { sheet.failedBaselines.contains($0.key) }.map { $0.label.text(language) }
        hasFailed = !failed.isEmpty
    }
}

/// A branch secretary's objections to the published results, on their branch's report: the
/// form while the publicity runs, and the objections they filed with their state and reply.
struct ReportObjections {
    struct Filed {
        let receipt: String
        let filedAt: String
        let state: String
        let reply: String?
    }

    let takes: Bool
    let action: String
    let submissionKey: String
    let filed: [Filed]
    let hasFiled: Bool
    var notice: String?
    var problem: String?

    init(_ publicity: Publicity, mine: [Objection], action: String, submissionKey: String, language: Language) {
        takes = publicity.takesObjections(at: .now)
        self.action = action
        self.submissionKey = submissionKey
        filed = mine.map {
            Filed(receipt: $0.receipt, filedAt: ChinaTime.format($0.filedAt), state: ObjectionStatusPage.state($0, language), reply: $0.reply)
        }
        hasFiled = !filed.isEmpty
    }
}

extension BranchReportPage {
    /// A sheet note as the evaluator wrote it: the item's key and the text.
    typealias SheetNote = (item: String, text: String)

    /// One branch's report, in `language`, from its results and what was loaded beside them:
    /// the round's forms by rater group, the branch's answer counts and comments, the
    /// evaluators' notes, the round's two-skins diagnostic and the branch's closed years.
    static func make(
        _ subject: SubjectResult,
        round: RoundSummary,
        configuration: RoundConfiguration,
        header: ResultsHeader,
        forms: [String: FormDefinition],
        details: ResultsRepository.BranchDetails,
        notes: [SheetNote],
        diagnostic: ResultsService.Diagnostic,
        closedYears: [BranchRecord.Year],
        readByAdministrator: Bool,
        summaryOnly: Bool,
        language: Language
    ) -> BranchReportPage {
        let code = subject.code
        let organisationForm = forms[RoundConfiguration.RaterGroup.organisation.rawValue]
        let notes = notes.map { note in
            Note(item: organisationForm?.item(note.item)?.label.text(english: language == .english) ?? note.item, text: note.text)
        }
        return BranchReportPage(
            header: header,
            code: code,
            name: subject.name,
            parent: subject.parent,
            rank: subject.rank.map(String.init) ?? "–",
            combined: FigureText.score(subject.combined),
            combinedBeforeBonus: FigureText.score(subject.combinedBeforeBonus),
            bonus: FigureText.score(subject.bonus),
            grade: subject.grade ?? "–",
            band: subject.bandGrade ?? "–",
            vetoed: subject.vetoed,
            quota: subject.droppedByQuota,
            incomplete: subject.status == .incomplete,
            weights: weightsExplained(subject, language: language),
            threshold: configuration.anonymityThreshold,
            isAdmin: readByAdministrator,
            groups: RoundConfiguration.RaterGroup.allCases.compactMap { group in
                self.group(group, of: subject, forms: forms, details: details, language: language)
            },
            sheet: subject.organisationSheet.flatMap { sheet in organisationForm.map { SheetSummary(sheet, form: $0, language: language) } },
            notes: notes,
            hasNotes: !notes.isEmpty,
            summaryOnly: summaryOnly,
            summaryLink: SiteURL.branchReport(round.id, branchCode: code).path(["view": "summary"]),
            fullLink: SiteURL.branchReport(round.id, branchCode: code).path,
            integration: integration(of: code, in: diagnostic, language: language),
            trend: trend(subject, round: round, closedYears: closedYears, language: language),
            // The branch's record: an administrator's, and the secretary's of their own branch.
            history: SiteURL.branchHistory(code).path
        )
    }

    /// One rater group's figures; its answers and comments only when its breakdown may be shown
    /// (the anonymity threshold, decided by the scoring library), and never for the
    /// organisation, whose sheet has its own section.
    static func group(
        _ group: RoundConfiguration.RaterGroup,
        of subject: SubjectResult,
        forms: [String: FormDefinition],
        details: ResultsRepository.BranchDetails,
        language: Language
    ) -> Group? {
        guard let result = subject[group: group] else { return nil }
        let form = group == .organisation || !result.breakdownShown ? nil : forms[group.rawValue]
        let counts = details.counts[group.rawValue] ?? [:]
        let comments = details.comments[group.rawValue] ?? [:]
        let dimensions = (form?.dimensions ?? []).map { dimension in
            Charts.Bar(label: dimension.label.text(language), value: result.dimensions[dimension.key])
        }
        return Group(
            label: language.text("group_\(group.rawValue)"),
            weight: FigureText.number(result.weight),
            responses: result.responses,
            n: result.n,
            nTrimmed: result.nTrimmed,
            score: FigureText.score(result.score),
            sd: FigureText.score(result.standardDeviation),
            ci: result.confidenceLow.map { "\(FigureText.score($0))–\(FigureText.score(result.confidenceHigh))" } ?? "–",
            insufficient: result.status == .insufficient,
            satisfaction: FigureText.percent(result.satisfactionRate),
            repeated: group == .public
                ? details.repeatedDeviceAnswers.map { language.text("results_repeated_devices", ["n": $0]) } : nil,
            survey: group != .organisation,
            shown: result.breakdownShown,
            chart: dimensions.isEmpty ? nil : Charts.bars(dimensions, title: language.text("results_dimensions")),
            items: (form?.items ?? []).filter(\.isScored).map { item in
                let itemCounts = counts[item.key] ?? [:]
                let total = itemCounts.values.reduce(0, +)
                return Item(
                    label: item.label.text(language),
                    options: item.options.map { option in
                        let count = itemCounts[option.key] ?? 0
                        let percent = total > 0 ? Int((Double(count) * 100 / Double(total)).rounded(.toNearestOrAwayFromZero)) : 0
                        return .init(label: option.label.text(language), count: count, share: total > 0 ? "\(percent)%" : "–", width: percent)
                    }
                )
            },
            comments: (form?.items ?? []).filter { $0.type == .longText || $0.type == .text }.compactMap { item in
                guard let texts = comments[item.key], !texts.isEmpty else { return nil }
                return .init(label: item.label.text(language), texts: texts)
            }
        )
    }

    /// Where the branch stands beside the business results of the diagnostic's year, if it has
    /// both scores.
    static func integration(of code: String, in diagnostic: ResultsService.Diagnostic, language: Language) -> String? {
        diagnostic.diagnostic?.branches.first(where: { $0.code == code }).map { branch in
            language.text(
                "report_integration",
                [
                    "year": diagnostic.year, "business": FigureText.score(branch.business),
                    "quadrant": language.text("quadrant_\(branch.standing.quadrant.rawValue)"), "party_rank": branch.standing.rank.partyRank,
                    "business_rank": branch.standing.rank.businessRank, "gap": FigureText.signed(branch.standing.rank.gap),
                ]
            )
        }
    }

    /// The trend of the closed years before this round's and this round's score, so that a
    /// report read while the round is open shows where the branch is heading.
    static func trend(_ subject: SubjectResult, round: RoundSummary, closedYears: [BranchRecord.Year], language: Language) -> String? {
        let thisYear = BranchRecord.Year(
            year: round.year,
            roundTitle: round.title,
            combined: subject.combined,
            grade: subject.grade,
            rank: subject.rank,
            ranked: 0,
            belowQuorum: subject.status == .incomplete,
            groups: [:],
            dimensions: [:],
            businessScore: nil,
            memberForm: nil
        )
        let earlier = closedYears.filter { $0.year < round.year }
        return BranchRecord.trend(earlier + [thisYear]).map { found in
            language.text("history_trend", ["trend": language.text("trend_\(found.trend.rawValue)"), "slope": FigureText.signedScore(found.slope)])
        }
    }

    /// The weights the combined score used and the sum that gives it, to check by hand:
    /// "62.5% × 90.00 + 37.5% × 80.00 = 86.25; + bonus 1.00 = 87.25".
    static func weightsExplained(_ subject: SubjectResult, language: Language) -> Weights? {
        let used = subject.weightsUsed
        guard !used.isEmpty, let before = subject.combinedBeforeBonus else { return nil }
        let percent = { (share: Double) in String(format: "%.1f%%", share * 100).replacingOccurrences(of: ".0%", with: "%") }
        let terms = used.map { "\(percent($0.share)) × \(FigureText.score($0.score))" }.joined(separator: " + ")
        var sum = "\(terms) = \(FigureText.score(before))"
        if subject.bonus > 0, let combined = subject.combined {
            sum += language.text("results_sum_bonus", ["bonus": FigureText.score(subject.bonus), "combined": FigureText.score(combined)])
        }
        let left = subject.groupsLeftOut.map { language.text("group_\($0)") }
        return Weights(
            shares: used.map { language.text("results_weight_share", ["group": language.text("group_\($0.group)"), "share": percent($0.share)]) }
                .joined(separator: language.text("group_separator")),
            sum: sum,
            leftOut: left.isEmpty ? nil : language.text("results_left_out", ["groups": left.joined(separator: language.text("group_separator"))])
        )
    }
}

extension BranchReportPage {
    /// The line under the heading that says how final the report's figures are.
    static func stageNote(_ publicity: Publicity, language: Language) -> String? {
        let start = publicity.startsAt.map(ChinaTime.format) ?? "—"
        let end = publicity.endsAt.map(ChinaTime.format) ?? "—"
        switch publicity.stage {
        case .none: return language.text("report_stage_proposed")
        case .scheduled: return language.text("report_stage_scheduled", ["start": start, "end": end])
        case .running: return language.text("report_stage_running", ["start": start, "end": end])
        case .ended: return language.text("report_stage_ended", ["end": end])
        case .approved:
            guard let approval = publicity.approval else { return language.text("stage_label_approved") }
            return language.text("report_stage_approved", ["reference": approval.reference, "date": approval.meetingOn])
        }
    }
}
