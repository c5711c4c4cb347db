/// The scoring method fed piece by piece: a branch's group is scored the moment its tally (or
/// its sheets) arrive, and only the scores are kept. A province's round holds 25,000 branches'
/// tallies; held all at once next to the result they would take as much memory again as the
/// result itself, and a server builds the live results while its staff download them.
///
/// `Aggregation.run` is this with the pieces taken from a `RoundInput`: the same pieces give
/// the same result, bit for bit, in whatever order they come.
public struct RoundScoring: Sendable {
    /// A branch as the method needs to know it before any answer: who it is and how many
    /// members could answer.
    public struct Subject: Sendable {
        public var code: String
        public var name: String
        public var parent: String?
        public var eligibleMembers: Int

        public init(code: String, name: String, parent: String? = nil, eligibleMembers: Int) {
            self.code = code
            self.name = name
            self.parent = parent
            self.eligibleMembers = eligibleMembers
        }
    }

    public let configuration: RoundConfiguration
    public let configurationHash: String
    public let sheet: SheetLayout?
    public let dimensionKeys: [RoundConfiguration.RaterGroup: [String]]

    /// Each subject's result as far as its pieces have come, groups filled in as they arrive.
    private var scored: [SubjectResult]
    private var eligible: [Int]
    /// Each group's agreement (spec §6): the exact sums over its units as they arrive, and
    /// each subject's disagreement within, to be added up in code order at the end.
    private var agreement: [RoundConfiguration.RaterGroup: Krippendorff.Pool]
    private var disagreements: [RoundConfiguration.RaterGroup: [Double]]
    /// The subjects before this position are complete: no piece comes for them any more.
    private var completed = 0
    /// A group without answers scores the same for every subject with as many eligible
    /// members: scored once per group and number (a province's round has thousands).
    private var unanswered: [RoundConfiguration.RaterGroup: [Int: ScoredPiece]] = [:]

    public init(
        configuration: RoundConfiguration,
        configurationHash: String,
        sheet: SheetLayout?,
        dimensionKeys: [RoundConfiguration.RaterGroup: [String]] = [:],
        subjects: [Subject]
    ) {
        self.configuration = configuration
        self.configurationHash = configurationHash
        self.sheet = sheet
        self.dimensionKeys = dimensionKeys
        let groups = configuration.groups.count
        scored = subjects.map { subject in
            SubjectResult(
                code: subject.code,
                name: subject.name,
                parent: subject.parent,
                groups: NamedValues(minimumCapacity: groups),
                organisationSheet: nil,
                status: .incomplete,
                combinedBeforeBonus: nil,
                bonus: 0,
                combined: nil,
                bandGrade: nil,
                gradeAfterVeto: nil,
                grade: nil,
                vetoed: false,
                droppedByQuota: false,
                rank: nil
            )
        }
        eligible = subjects.map(\.eligibleMembers)
        agreement = [:]
        disagreements = [:]
        for group in configuration.groups.keys {
            agreement[group] = Krippendorff.Pool()
            // Zero for a subject that adds nothing: adding zero leaves a sum's bits as they are.
            disagreements[group] = Array(repeating: 0, count: subjects.count)
        }
    }

    /// The number of subjects, which `add` refers to by position.
    public var count: Int { scored.count }

    /// One piece of a round's answers, as a reader hands them over: a subject's tally of one
    /// survey group, or all of a subject's submitted sheets. Each comes once per subject.
    public enum Piece: Sendable {
        case tally(ResponseTally, of: RoundConfiguration.RaterGroup, subject: Int)
        case sheets([SheetInput], subject: Int)
    }

    public mutating func add(_ piece: Piece) {
        if let scored = score(piece) { add(scored) }
    }

    /// A piece scored on its own, before it touches the round's state: the group's result, and
    /// the values the group's agreement pools. Scoring a piece reads only the round's settings,
    /// so a reader may score pieces beside the task that adds them (`add(_:)` of a
    /// `ScoredPiece`), which is then only bookkeeping.
    public struct ScoredPiece: Sendable {
        public let subject: Int
        public let group: RoundConfiguration.RaterGroup
        let result: GroupResult
        let sheet: SheetResult?
        let unit: ScoreTally
    }

    /// What scoring a piece reads of the round: its settings and each subject's eligible
    /// members, without the round's results so far (a copy of which would be copied whole the
    /// moment the round adds to them).
    public struct Scorer: Sendable {
        let configuration: RoundConfiguration
        let sheet: SheetLayout?
        let dimensionKeys: [RoundConfiguration.RaterGroup: [String]]
        let eligible: [Int]

        /// `piece` scored with the round's settings; `nil` for a group the round does not weigh.
        public func score(_ piece: Piece) -> ScoredPiece? {
            switch piece {
            case let .tally(tally, group, index):
                guard group != .organisation, let settings = configuration.groups[group] else { return nil }
                return ScoredPiece(
                    subject: index,
                    group: group,
                    result: Aggregation.groupResult(
                        tally,
                        dimensionKeys: dimensionKeys[group] ?? [],
                        settings: settings,
                        eligible: eligible[index],
                        usesShare: group == .members,
                        anonymityThreshold: configuration.anonymityThreshold
                    ),
                    sheet: nil,
                    unit: tally.scores
                )
            case let .sheets(sheets, index):
                guard let layout = sheet, let settings = configuration.groups[.organisation] else { return nil }
                let result = Aggregation.sheetResult(sheets, layout: layout, bonusCap: configuration.bonusCap)
                let perEvaluator = Aggregation.evaluatorScores(sheets, layout: layout)
                return ScoredPiece(
                    subject: index,
                    group: .organisation,
                    result: Aggregation.organisationGroup(sheets, layout: layout, sheet: result, settings: settings, perEvaluator: perEvaluator),
                    sheet: result,
                    unit: perEvaluator
                )
            }
        }
    }

    public var scorer: Scorer { Scorer(configuration: configuration, sheet: sheet, dimensionKeys: dimensionKeys, eligible: eligible) }

    /// `piece` scored with the round's settings; `nil` for a group the round does not weigh.
    public func score(_ piece: Piece) -> ScoredPiece? { scorer.score(piece) }

    /// Adds a piece scored by `score(_:)` of this round.
    public mutating func add(_ scored: ScoredPiece) {
        precondition(scored.subject >= completed, "a piece for a subject declared complete")
        if scored.group == .organisation { self.scored[scored.subject].organisationSheet = scored.sheet }
        self.scored[scored.subject].groups[scored.group.rawValue] = scored.result
        addUnit(scored.unit, of: scored.group, subject: scored.subject)
    }

    /// Scores one survey group of the subject at `index` from its tally. A group the round does
    /// not have is ignored, as the method ignores answers of a group it does not weigh.
    public mutating func add(_ tally: ResponseTally, of group: RoundConfiguration.RaterGroup, toSubject index: Int) {
        add(.tally(tally, of: group, subject: index))
    }

    /// Scores the organisation group of the subject at `index` from all its submitted sheets.
    public mutating func add(_ sheets: [SheetInput], toSubject index: Int) {
        add(.sheets(sheets, subject: index))
    }

    private mutating func addUnit(_ unit: ScoreTally, of group: RoundConfiguration.RaterGroup, subject index: Int) {
        if let disagreement = agreement[group]?.addValues(of: unit) { disagreements[group]?[index] = disagreement }
    }

    /// Declares that no more pieces come for the subjects up to `index`, and completes them
    /// now (groups without answers scored as empty, then combined and graded) instead of in
    /// `result()`: a reader that hands over its last group in subject order lets the adding
    /// keep pace with it rather than leave every subject to the end.
    public mutating func complete(through index: Int) {
        while completed <= min(index, scored.count - 1) {
            completeSubject(completed)
            completed += 1
        }
    }

    private mutating func completeSubject(_ index: Int) {
        for (group, settings) in configuration.groups where scored[index].groups[group.rawValue] == nil {
            switch group {
            case .organisation:
                guard let layout = sheet else { continue }
                scored[index].groups[group.rawValue] = Aggregation.organisationGroup([], layout: layout, sheet: nil, settings: settings)
            case .members, .public:
                let scoredEmpty: ScoredPiece
                if let known = unanswered[group]?[eligible[index]] {
                    scoredEmpty = ScoredPiece(subject: index, group: group, result: known.result, sheet: nil, unit: known.unit)
                } else {
                    guard let fresh = scorer.score(.tally(.empty, of: group, subject: index)) else { continue }
                    unanswered[group, default: [:]][eligible[index]] = fresh
                    scoredEmpty = fresh
                }
                add(scoredEmpty)
            }
        }
        Aggregation.complete(&scored[index], configuration: configuration)
    }

    /// The round's result: groups that received nothing scored as empty, then combined
    /// scores, grades, quota, ranks and agreement.
    public consuming func result() -> RoundResult {
        complete(through: scored.count - 1)
        let codes = scored.map(\.code)
        let byCode = codes.indices.sorted { codes[$0] < codes[$1] }
        var alpha: [String: Double] = [:]
        for (group, var pool) in agreement where group != .organisation || sheet != nil {
            guard let within = disagreements[group] else { continue }
            for index in byCode { pool.addDisagreement(within[index]) }
            if let value = pool.alpha { alpha[group.rawValue] = value }
        }
        let diagnostics = Diagnostics(alpha: alpha, lowAgreement: alpha.filter { $0.value < 0.667 }.keys.sorted())
        disagreements = [:]
        var subjects: [SubjectResult] = []
        swap(&subjects, &scored)
        return Aggregation.finish(
            configuration: configuration,
            configurationHash: configurationHash,
            subjects: consume subjects,
            diagnostics: diagnostics
        )
    }
}
