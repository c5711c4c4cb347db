// KaopingAggregation: the scoring method (docs/scoring.md) and the rules read from results:
// the anonymity threshold, the two-skins diagnostic, the straight-lining flag, a branch's
// record. Pure Swift: no I/O, no clock, no randomness.

import Foundation

/// The scoring method (docs/scoring.md): responses and sheets in, scores, grades, ranks and
/// diagnostics out. Pure: no I/O, no clock, no randomness; inputs in any order give the same
/// result.
public enum Aggregation {
    public static let methodVersion = "v1"

    public static func run(_ input: RoundInput) -> RoundResult {
        var scoring = RoundScoring(
            configuration: input.configuration,
            configurationHash: input.configurationHash,
            sheet: input.sheet,
            dimensionKeys: input.dimensionKeys,
            subjects: input.subjects.map {
                RoundScoring.Subject(code: $0.code, name: $0.name, parent: $0.parent, eligibleMembers: $0.eligibleMembers)
            }
        )
        for (index, subject) in input.subjects.enumerated() {
            for (group, tally) in subject.responses { scoring.add(tally, of: group, toSubject: index) }
            scoring.add(subject.sheets, toSubject: index)
        }
        return (consume scoring).result()
    }

    /// Grades, quota and ranks over the scored subjects, in the result's order.
    static func finish(
        configuration: RoundConfiguration,
        configurationHash: String,
        subjects: consuming [SubjectResult],
        diagnostics: Diagnostics
    ) -> RoundResult {
        // Quota and ranks depend on no order of the subjects (their ties are broken by code),
        // so the subjects are put in order once, at the end: sorted as positions, then moved,
        // since sorting the subjects themselves moves each of them (hundreds of bytes) a dozen
        // times over in a province's round. The keys are read out first: reading one through
        // the subject in a comparison copies the whole subject.
        var subjects = subjects
        applyQuota(&subjects, configuration: configuration)
        rank(&subjects)
        let codes = subjects.map(\.code)
        let ranks = subjects.map(\.rank)
        subjects = codes.indices.sorted { lhs, rhs in
            switch (ranks[lhs], ranks[rhs]) {
            case let (left?, right?) where left != right: left < right
            case (.some, .none): true
            case (.none, .some): false
            default: codes[lhs] < codes[rhs]
            }
        }.map { subjects[$0] }
        return RoundResult(
            methodVersion: methodVersion,
            configurationHash: configurationHash,
            subjects: subjects,
            diagnostics: diagnostics
        )
    }

    // MARK: One subject

    /// A subject whose groups are all scored: its combined score, bonus, band and veto (spec §4, §5).
    static func complete(_ result: inout SubjectResult, configuration: RoundConfiguration) {
        guard let combined = combine(result.groups, configuration: configuration) else { return }
        // Bonus comes with the organisation's sheet, and only when that sheet counts.
        let sheet = result.organisationSheet
        let organisation = result.groups[RoundConfiguration.RaterGroup.organisation.rawValue]
        let bonus = organisation?.status == .sufficient ? (sheet?.bonus ?? 0) : 0
        result.status = .complete
        result.combinedBeforeBonus = combined
        result.bonus = bonus
        result.combined = combined + bonus
        let band = band(for: combined + bonus, bands: configuration.bands)
        result.bandGrade = band
        result.grade = band
        if let sheet, !sheet.failedBaselines.isEmpty {
            result.vetoed = true
            result.grade = worse(band, configuration.vetoGrade, bands: configuration.bands)
        }
        result.gradeAfterVeto = result.grade
    }

    /// Weighted mean of the groups that reached quorum (spec §4), before bonus.
    static func combine(_ groups: NamedValues<GroupResult>, configuration: RoundConfiguration) -> Double? {
        var sum = 0.0
        var weights = 0.0
        for group in RoundConfiguration.RaterGroup.allCases {
            guard let settings = configuration.groups[group], settings.weight > 0 else { continue }
            guard let result = groups[group.rawValue], result.status == .sufficient, let score = result.score else {
                if configuration.missingGroups == .require { return nil }
                continue
            }
            sum += settings.weight * score
            weights += settings.weight
        }
        return weights > 0 ? sum / weights : nil
    }

    // MARK: Survey groups (spec §2)

    static func groupResult(
        _ tally: ResponseTally,
        dimensionKeys: [String] = [],
        settings: RoundConfiguration.Group,
        eligible: Int,
        usesShare: Bool,
        anonymityThreshold: Int
    ) -> GroupResult {
        let scores = tally.scores
        let kept = scores.trimmed(settings.trimming)
        let interval = scores.confidenceInterval95
        var dimensions = NamedValues<Double>(minimumCapacity: dimensionKeys.count)
        for (position, key) in dimensionKeys.enumerated() where position < tally.dimensions.count {
            dimensions[key] = tally.dimensions[position].trimmed(settings.trimming).mean
        }
        let n = scores.count
        var quorumMet = n >= settings.quorum.minimum
        if usesShare && settings.quorum.share > 0 && eligible > 0 {
            quorumMet = quorumMet && Double(n) >= settings.quorum.share * Double(eligible)
        }
        return GroupResult(
            responses: tally.responses,
            n: n,
            nTrimmed: kept.kept,
            score: kept.mean,
            standardDeviation: scores.sampleStandardDeviation,
            confidenceLow: interval?.low,
            confidenceHigh: interval?.high,
            status: quorumMet && n > 0 ? .sufficient : .insufficient,
            weight: settings.weight,
            dimensions: dimensions,
            satisfactionRate: tally.satisfactionAnswered == 0 ? nil : Double(tally.satisfied) / Double(tally.satisfactionAnswered),
            straightLinedShare: tally.responses == 0 ? nil : Double(tally.straightLined) / Double(tally.responses),
            breakdownShown: Disclosure.showsBreakdown(scoredResponses: n, threshold: anonymityThreshold)
        )
    }

    // MARK: Organisation sheet (spec §3)

    /// One evaluator's sheet scored on its own, the way the method scores the branch's sheets:
    /// what the evaluator sees add up as they fill it in.
    public static func singleSheet(_ sheet: SheetInput, layout: SheetLayout, bonusCap: Double) -> SheetResult {
        sheetResult([sheet], layout: layout, bonusCap: bonusCap)!
    }

    /// Several evaluators' entries are averaged item by item; a baseline fails when any
    /// evaluator failed it.
    static func sheetResult(_ sheets: [SheetInput], layout: SheetLayout, bonusCap: Double) -> SheetResult? {
        guard !sheets.isEmpty else { return nil }
        let count = Double(sheets.count)
        var lost = NamedValues<Double>(minimumCapacity: layout.deductions.count)
        var earned = NamedValues<Double>(minimumCapacity: layout.bonuses.count)
        let ordered = sheets.sorted { $0.evaluator < $1.evaluator }
        for item in layout.deductions {
            var sum = 0.0
            for sheet in ordered { sum += sheet.lost[item.key] ?? 0 }
            lost[item.key] = sum / count
        }
        for item in layout.bonuses {
            var sum = 0.0
            for sheet in ordered { sum += sheet.bonus[item.key] ?? 0 }
            earned[item.key] = sum / count
        }
        var bonus = 0.0
        for item in layout.bonuses { bonus += min(max(earned[item.key] ?? 0, 0), item.cap) }
        let failed = layout.baselines.filter { key in sheets.contains { $0.failedBaselines.contains(key) } }
        return SheetResult(
            evaluators: sheets.count,
            baseScore: baseScore(layout: layout) { lost[$0] },
            bonus: min(bonus, bonusCap),
            failedBaselines: failed,
            lost: lost,
            earned: earned
        )
    }

    /// Σ max(0, max − lost) over deduction items, scaled to 0–100 when the maxima do not sum to 100.
    static func baseScore(layout: SheetLayout, lost: (String) -> Double?) -> Double {
        var kept = 0.0
        var maxima = 0.0
        for item in layout.deductions {
            kept += max(0, item.maximum - (lost(item.key) ?? 0))
            maxima += item.maximum
        }
        guard maxima > 0 else { return 0 }
        return maxima == 100 ? kept : kept * 100 / maxima
    }

    /// - Parameter perEvaluator: `evaluatorScores(sheets, layout:)`, when the caller has it already.
    static func organisationGroup(
        _ sheets: [SheetInput],
        layout: SheetLayout,
        sheet: SheetResult?,
        settings: RoundConfiguration.Group,
        perEvaluator known: ScoreTally? = nil
    ) -> GroupResult {
        // Each evaluator's own base score, for the spread between evaluators.
        let perEvaluator = known ?? evaluatorScores(sheets, layout: layout)
        let interval = perEvaluator.confidenceInterval95
        let n = sheets.count
        return GroupResult(
            responses: n,
            n: n,
            nTrimmed: n,
            score: sheet?.baseScore,
            standardDeviation: perEvaluator.sampleStandardDeviation,
            confidenceLow: interval?.low,
            confidenceHigh: interval?.high,
            status: n > 0 && n >= settings.quorum.minimum ? .sufficient : .insufficient,
            weight: settings.weight,
            dimensions: [:],
            satisfactionRate: nil,
            straightLinedShare: nil,
            breakdownShown: true
        )
    }

    static func evaluatorScores(_ sheets: [SheetInput], layout: SheetLayout) -> ScoreTally {
        // In evaluator order, as `sheetResult` sums them: the spread's last bits must not depend
        // on the order the sheets came in.
        let ordered = sheets.count > 1 ? sheets.sorted { $0.evaluator < $1.evaluator } : sheets
        return ScoreTally(ordered.map { baseScore(layout: layout) { [lost = $0.lost] in lost[$0] } }, extremes: 0, withSpread: true)
    }

    // MARK: Grades and ranks (spec §5)

    /// The band a score falls in, judged on the score as shown (two decimals).
    static func band(for score: Double, bands: [RoundConfiguration.Band]) -> String? {
        let shown = Statistics.rounded2(score)
        return bands.first { shown >= $0.minimum }?.grade ?? bands.last?.grade
    }

    /// The lower of two grades in band order.
    static func worse(_ grade: String?, _ other: String, bands: [RoundConfiguration.Band]) -> String? {
        guard let grade else { return nil }
        let names = bands.map(\.grade)
        guard let first = names.firstIndex(of: grade), let second = names.firstIndex(of: other) else { return grade }
        return names[max(first, second)]
    }

    /// Only the first floor(quota × graded subjects) keep the top grade; the rest drop one.
    static func applyQuota(_ subjects: inout [SubjectResult], configuration: RoundConfiguration) {
        guard let quota = configuration.topGradeQuota, let top = configuration.bands.first?.grade, configuration.bands.count > 1 else { return }
        let next = configuration.bands[1].grade
        let graded = subjects.reduce(0) { $0 + ($1.combined != nil ? 1 : 0) }
        // The small allowance keeps 1/3 written as 0.333… from losing a place to rounding.
        let places = Int((quota * Double(graded) + 1e-9).rounded(.down))
        let contenders = subjects.indices.filter { subjects[$0].grade == top }.map { (index: $0, key: Precedence(subjects[$0])) }
            .sorted { $0.key.precedes($1.key) }.map(\.index)
        for (position, index) in contenders.enumerated() where position >= places {
            subjects[index].grade = next
            subjects[index].droppedByQuota = true
        }
    }

    /// What decides which of two subjects keeps the top grade: combined score, then
    /// organisation score, then member score (all as shown), then code. Read once per subject
    /// rather than in every comparison.
    struct Precedence {
        let combined: Double
        let organisation: Double
        let members: Double
        let code: String

        init(_ subject: SubjectResult) {
            func shown(_ value: Double?) -> Double { value.map(Statistics.rounded2) ?? -Double.infinity }
            combined = shown(subject.combined)
            organisation = shown(subject[group: .organisation]?.score)
            members = shown(subject[group: .members]?.score)
            code = subject.code
        }

        func precedes(_ other: Precedence) -> Bool {
            if combined != other.combined { return combined > other.combined }
            if organisation != other.organisation { return organisation > other.organisation }
            if members != other.members { return members > other.members }
            return code < other.code
        }
    }

    /// Competition ranking (1, 2, 2, 4) by the combined score as shown.
    static func rank(_ subjects: inout [SubjectResult]) {
        let shownScores = subjects.map { $0.combined.map(Statistics.rounded2) }
        let ranked = shownScores.indices.filter { shownScores[$0] != nil }.sorted { shownScores[$0]! > shownScores[$1]! }
        var previous: Double?
        var currentRank = 0
        for (position, index) in ranked.enumerated() {
            let shown = shownScores[index]!
            if shown != previous {
                currentRank = position + 1
                previous = shown
            }
            subjects[index].rank = currentRank
        }
    }
}
