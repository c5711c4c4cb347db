/// What the aggregation reads: everything about one round that the method needs, and nothing
/// that identifies a respondent.
public struct RoundInput: Sendable {
    public var configuration: RoundConfiguration
    /// The hash stored when the round opened; carried into every result.
    public var configurationHash: String
    /// The organisation group's score sheet, as the items the method needs to know.
    public var sheet: SheetLayout?
    /// Each survey group's dimension keys, in the order of `ResponseInput.dimensions`.
    public var dimensionKeys: [RoundConfiguration.RaterGroup: [String]]
    public var subjects: [SubjectInput]

    public init(
        configuration: RoundConfiguration,
        configurationHash: String,
        sheet: SheetLayout?,
        dimensionKeys: [RoundConfiguration.RaterGroup: [String]] = [:],
        subjects: [SubjectInput]
    ) {
        self.configuration = configuration
        self.configurationHash = configurationHash
        self.sheet = sheet
        self.dimensionKeys = dimensionKeys
        self.subjects = subjects
    }
}

/// One subject (a branch) with its answers.
public struct SubjectInput: Sendable {
    public var code: String
    public var name: String
    /// The organisation above it, for filtering tables.
    public var parent: String?
    /// Members who could answer (for the quorum share).
    public var eligibleMembers: Int
    /// Survey responses by rater group (members, public), tallied.
    public var responses: [RoundConfiguration.RaterGroup: ResponseTally]
    /// Submitted organisation sheets, one per evaluator.
    public var sheets: [SheetInput]

    public init(
        code: String,
        name: String,
        parent: String? = nil,
        eligibleMembers: Int,
        tallies: [RoundConfiguration.RaterGroup: ResponseTally],
        sheets: [SheetInput] = []
    ) {
        self.code = code
        self.name = name
        self.parent = parent
        self.eligibleMembers = eligibleMembers
        self.responses = tallies
        self.sheets = sheets
    }

    /// A subject with its responses one by one, tallied here.
    public init(
        code: String,
        name: String,
        parent: String? = nil,
        eligibleMembers: Int,
        responses: [RoundConfiguration.RaterGroup: [ResponseInput]] = [:],
        sheets: [SheetInput] = []
    ) {
        self.init(
            code: code,
            name: name,
            parent: parent,
            eligibleMembers: eligibleMembers,
            tallies: responses.mapValues { ResponseTally($0) },
            sheets: sheets
        )
    }
}

/// One anonymous response, already scored by its form (spec §1), before it is tallied.
public struct ResponseInput: Sendable, Equatable {
    /// `nil` when the response scored no item.
    public var score: Double?
    /// Dimension scores in the order of the round's `dimensionKeys` for the group; `nil` where
    /// the response scored no item of the dimension. (An array, not a dictionary: a round
    /// has a million of these.)
    public var dimensions: [Double?]
    public var straightLined: Bool
    /// For forms with a satisfaction item: whether the chosen option counts as satisfied;
    /// `nil` when the item was skipped or answered with an unscored option.
    public var satisfied: Bool?

    public init(score: Double?, dimensions: [Double?] = [], straightLined: Bool = false, satisfied: Bool? = nil) {
        self.score = score
        self.dimensions = dimensions
        self.straightLined = straightLined
        self.satisfied = satisfied
    }
}

/// The organisation score sheet's items (spec §3).
public struct SheetLayout: Sendable, Equatable {
    public struct Deduction: Sendable, Equatable {
        public var key: String
        public var maximum: Double
        public init(key: String, maximum: Double) {
            self.key = key
            self.maximum = maximum
        }
    }

    public struct Bonus: Sendable, Equatable {
        public var key: String
        public var cap: Double
        public init(key: String, cap: Double) {
            self.key = key
            self.cap = cap
        }
    }

    public var deductions: [Deduction]
    public var baselines: [String]
    public var bonuses: [Bonus]

    public init(deductions: [Deduction], baselines: [String], bonuses: [Bonus]) {
        self.deductions = deductions
        self.baselines = baselines
        self.bonuses = bonuses
    }
}

/// One evaluator's submitted sheet for one subject.
public struct SheetInput: Sendable, Equatable {
    public var evaluator: String
    /// Points lost, by deduction item (missing: none lost).
    public var lost: [String: Double]
    /// Baseline items marked failed.
    public var failedBaselines: Set<String>
    /// Bonus points earned, by bonus item.
    public var bonus: [String: Double]

    public init(evaluator: String, lost: [String: Double] = [:], failedBaselines: Set<String> = [], bonus: [String: Double] = [:]) {
        self.evaluator = evaluator
        self.lost = lost
        self.failedBaselines = failedBaselines
        self.bonus = bonus
    }
}
