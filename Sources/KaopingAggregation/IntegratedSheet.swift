/// How a round's party-building results are used with the office's performance results
/// (结果同评, 结果运用; `docs/integration.md`). Part of the round configuration, so part of its hash.
public struct IntegrationSettings: Codable, Sendable, Equatable {
    /// The year of performance results the round is read with; `nil` for the round's own year.
    public var performanceYear: Int?
    /// The party-building share of an integrated score, 0–1 (0.2: 80% business, 20% party building).
    public var partyWeight: Double
    /// Whether a failed baseline item of the organisation sheet makes the staff of the branch's
    /// units ineligible for awards that year (一票否决 for 评先评优).
    public var baselineBarsAwards: Bool
    /// Where the diagnostic's quadrant lines are drawn; `nil` for the median.
    public var businessLine: Double?
    public var partyLine: Double?

    public init(
        performanceYear: Int? = nil,
        partyWeight: Double = 0.2,
        baselineBarsAwards: Bool = true,
        businessLine: Double? = nil,
        partyLine: Double? = nil
    ) {
        self.performanceYear = performanceYear
        self.partyWeight = partyWeight
        self.baselineBarsAwards = baselineBarsAwards
        self.businessLine = businessLine
        self.partyLine = partyLine
    }

    public static let standard = IntegrationSettings()

    func problems() -> [RoundConfiguration.Problem] {
        var problems: [RoundConfiguration.Problem] = []
        if let year = performanceYear, !EvaluationYear.plausible.contains(year) { problems.append(.init("config_performance_year")) }
        if !(0...1).contains(partyWeight) { problems.append(.init("config_party_weight")) }
        for line in [businessLine, partyLine].compactMap({ $0 }) where !(0...100).contains(line) {
            problems.append(.init("config_quadrant_line"))
            break
        }
        return problems
    }
}

/// One business unit's result for the year, as loaded (the branch it belonged to then).
public struct UnitPerformance: Sendable, Equatable {
    public var code: String
    public var name: String
    public var branchCode: String
    public var headcount: Int?
    public var score: Double?
    public var grade: String?

    public init(code: String, name: String, branchCode: String, headcount: Int?, score: Double?, grade: String?) {
        self.code = code
        self.name = name
        self.branchCode = branchCode
        self.headcount = headcount
        self.score = score
        self.grade = grade
    }
}

/// The sheet the performance office asks for: per unit and per branch, the business result,
/// the party-building result, the integrated score and grade, and whether awards are barred.
/// Encoded with sorted keys it is the same bytes for the same inputs.
public struct IntegratedSheet: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        public var code: String
        public var name: String
        /// The branch a unit belonged to in the performance year; a branch's own code for a branch row.
        public var branchCode: String
        public var branchName: String
        public var headcount: Int?
        public var businessScore: Double?
        /// The performance office's own grade, as imported: a unit's only (a branch has none).
        public var businessGrade: String?
        /// The business score graded by the round's bands, for units and branches alike, so that
        /// the same score has the same grade on this scale. `nil` in sheets frozen before it was
        /// kept, for units (a branch's is read from where those sheets kept it, `init(from:)`).
        public var businessBandGrade: String?
        public var partyScore: Double?
        public var partyGrade: String?
        public var integratedScore: Double?
        public var integratedGrade: String?
        /// Competition rank by integrated score among the rows of its kind, 1 the best.
        public var rank: Int?
        public var awardsBarred: Bool
        /// The baseline items the branch failed, which bar the awards.
        public var failedBaselines: [String]
    }

    public var performanceYear: Int
    /// The version of the year's performance results read; `nil` when none was loaded.
    public var performanceVersion: Int?
    public var partyWeight: Double
    public var baselineBarsAwards: Bool
    /// Units by branch code, then unit code.
    public var units: [Row]
    /// Branches in the order of the round's results.
    public var branches: [Row]

    /// Integrated score = (1 − w) × business score + w × party-building combined score, graded
    /// by the round's bands. A unit takes its branch's party-building result; a branch takes
    /// its units' business score weighted by headcount (`Integration.businessScore`).
    public static func make(
        result: RoundResult,
        units: [UnitPerformance],
        performanceYear: Int,
        performanceVersion: Int?,
        settings: IntegrationSettings,
        bands: [RoundConfiguration.Band]
    ) -> IntegratedSheet {
        let subjects = Dictionary(result.subjects.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
        let weight = settings.partyWeight
        func integrated(_ business: Double?, _ party: Double?) -> Double? {
            guard let business, let party else { return nil }
            return (1 - weight) * business + weight * party
        }
        func grade(_ score: Double?) -> String? {
            guard let score else { return nil }
            return bands.first { score >= $0.minimum }?.grade
        }
        func failed(_ subject: SubjectResult?) -> [String] { subject?.organisationSheet?.failedBaselines ?? [] }
        func barred(_ subject: SubjectResult?) -> Bool { settings.baselineBarsAwards && !failed(subject).isEmpty }

        var unitRows = units.sorted { ($0.branchCode, $0.code) < ($1.branchCode, $1.code) }.map { unit -> Row in
            let subject = subjects[unit.branchCode]
            let score = integrated(unit.score, subject?.combined)
            return Row(
                code: unit.code,
                name: unit.name,
                branchCode: unit.branchCode,
                branchName: subject?.name ?? "",
                headcount: unit.headcount,
                businessScore: unit.score,
                businessGrade: unit.grade,
                businessBandGrade: grade(unit.score),
                partyScore: subject?.combined,
                partyGrade: subject?.grade,
                integratedScore: score,
                integratedGrade: grade(score),
                rank: nil,
                awardsBarred: barred(subject),
                failedBaselines: failed(subject)
            )
        }
        let byBranch = Dictionary(grouping: units, by: \.branchCode)
        var branchRows = result.subjects.map { subject -> Row in
            let scored = (byBranch[subject.code] ?? []).compactMap { unit in
                unit.score.map { Integration.UnitScore(score: $0, headcount: unit.headcount) }
            }
            let business = Integration.businessScore(scored)
            let headcounts = (byBranch[subject.code] ?? []).compactMap(\.headcount)
            let score = integrated(business, subject.combined)
            return Row(
                code: subject.code,
                name: subject.name,
                branchCode: subject.code,
                branchName: subject.name,
                headcount: headcounts.isEmpty ? nil : headcounts.reduce(0, +),
                businessScore: business,
                businessGrade: nil,
                businessBandGrade: grade(business),
                partyScore: subject.combined,
                partyGrade: subject.grade,
                integratedScore: score,
                integratedGrade: grade(score),
                rank: nil,
                awardsBarred: barred(subject),
                failedBaselines: failed(subject)
            )
        }
        rank(&unitRows)
        rank(&branchRows)
        return IntegratedSheet(
            performanceYear: performanceYear,
            performanceVersion: performanceVersion,
            partyWeight: weight,
            baselineBarsAwards: settings.baselineBarsAwards,
            units: unitRows,
            branches: branchRows
        )
    }

    private enum CodingKeys: String, CodingKey {
        case performanceYear, performanceVersion, partyWeight, baselineBarsAwards, units, branches
    }

    /// Sheets frozen before the two business grades were told apart kept a branch's grade by the
    /// round's bands as its business grade: read there, it is the band grade it always was.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        performanceYear = try container.decode(Int.self, forKey: .performanceYear)
        performanceVersion = try container.decodeIfPresent(Int.self, forKey: .performanceVersion)
        partyWeight = try container.decode(Double.self, forKey: .partyWeight)
        baselineBarsAwards = try container.decode(Bool.self, forKey: .baselineBarsAwards)
        units = try container.decode([Row].self, forKey: .units)
        branches = try container.decode([Row].self, forKey: .branches).map { row in
            guard row.businessBandGrade == nil, row.businessGrade != nil else { return row }
            var row = row
            row.businessBandGrade = row.businessGrade
            row.businessGrade = nil
            return row
        }
    }

    init(
        performanceYear: Int,
        performanceVersion: Int?,
        partyWeight: Double,
        baselineBarsAwards: Bool,
        units: [Row],
        branches: [Row]
    ) {
        self.performanceYear = performanceYear
        self.performanceVersion = performanceVersion
        self.partyWeight = partyWeight
        self.baselineBarsAwards = baselineBarsAwards
        self.units = units
        self.branches = branches
    }

    private static func rank(_ rows: inout [Row]) {
        let scored = rows.indices.filter { rows[$0].integratedScore != nil }
        let ranks = Integration.competitionRanks(scored.map { rows[$0].integratedScore! })
        for (index, rank) in zip(scored, ranks) { rows[index].rank = rank }
    }
}
