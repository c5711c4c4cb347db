/// The two-skins diagnostic of one round (`docs/integration.md`): every branch with both a
/// business and a party-building score, where it stands (quadrant, both ranks, the gap and its
/// flag), how closely the two orders agree overall and per dimension of the members' form, and
/// the branches left out for want of a business score. Computed once from a round's results and
/// its year's business scores; the pages, the API and the downloads each present it.
public struct IntegrationDiagnostic: Sendable, Equatable {
    /// A branch of the round as the diagnostic needs it.
    public struct Subject: Sendable, Equatable {
        public let code: String
        public let name: String
        /// The combined (party-building) score; a branch without one is not in the diagnostic.
        public let party: Double?
        /// The members' dimension scores, only where the round shows them (at or above the
        /// anonymity threshold).
        public let memberDimensions: [String: Double]?

        public init(code: String, name: String, party: Double?, memberDimensions: [String: Double]?) {
            self.code = code
            self.name = name
            self.party = party
            self.memberDimensions = memberDimensions
        }
    }

    /// A branch with both scores.
    public struct BranchScores: Sendable, Equatable {
        public let code: String
        public let name: String
        public let business: Double
        public let party: Double
        public let standing: Integration.Standing
        public let memberDimensions: [String: Double]?
    }

    /// A branch with a party-building score but no business score for the year.
    public struct Excluded: Sendable, Equatable {
        public let code: String
        public let name: String
    }

    /// Branches with both scores, in the order of the results.
    public let branches: [BranchScores]
    public let excluded: [Excluded]
    public let businessLine: Double
    public let partyLine: Double
    public let spearman: Integration.Correlation?
    public let pearson: Integration.Correlation?
    /// Spearman's coefficient of business score against each dimension of the members' form,
    /// in the form's order; a dimension without enough shown scores has none.
    public let dimensions: [(key: String, correlation: Integration.Correlation?)]
    public let quadrantCounts: [Integration.Quadrant: Int]

    /// The flagged branches, the largest gap first (ties in the results' order).
    public var flagged: [BranchScores] {
        branches.enumerated().filter(\.element.standing.rank.flagged)
            .sorted { (abs($0.element.standing.rank.gap), -$0.offset) > (abs($1.element.standing.rank.gap), -$1.offset) }
            .map(\.element)
    }

    public static func == (left: IntegrationDiagnostic, right: IntegrationDiagnostic) -> Bool {
        left.branches == right.branches && left.excluded == right.excluded && left.businessLine == right.businessLine
            && left.partyLine == right.partyLine && left.spearman == right.spearman && left.pearson == right.pearson
            && left.dimensions.map(\.key) == right.dimensions.map(\.key)
            && left.dimensions.map(\.correlation) == right.dimensions.map(\.correlation) && left.quadrantCounts == right.quadrantCounts
    }

    /// The diagnostic of `subjects` (in the results' order) against the year's business scores
    /// by branch code; `nil` with fewer than two branches that have both scores. The quadrant
    /// lines are the round's where it sets them, else the medians.
    public static func make(
        subjects: [Subject],
        business: [String: Double],
        lines: (business: Double?, party: Double?),
        dimensionKeys: [String]
    ) -> IntegrationDiagnostic? {
        var party: [String: Double] = [:]
        for subject in subjects {
            if let score = subject.party { party[subject.code] = score }
        }
        guard let standings = Integration.standings(business: business, party: party, lines: lines) else { return nil }
        var branches: [BranchScores] = []
        var excluded: [Excluded] = []
        for subject in subjects {
            guard let score = subject.party else { continue }
            guard let businessScore = business[subject.code], let standing = standings.byCode[subject.code] else {
                excluded.append(Excluded(code: subject.code, name: subject.name))
                continue
            }
            branches.append(
                BranchScores(
                    code: subject.code,
                    name: subject.name,
                    business: businessScore,
                    party: score,
                    standing: standing,
                    memberDimensions: subject.memberDimensions
                )
            )
        }
        let businessScores = branches.map(\.business)
        let partyScores = branches.map(\.party)
        let dimensions = dimensionKeys.map { key in
            let scored = branches.compactMap { branch in branch.memberDimensions?[key].map { (branch.business, $0) } }
            return (key: key, correlation: Integration.spearman(scored.map(\.0), scored.map(\.1)))
        }
        return IntegrationDiagnostic(
            branches: branches,
            excluded: excluded,
            businessLine: standings.businessLine,
            partyLine: standings.partyLine,
            spearman: Integration.spearman(businessScores, partyScores),
            pearson: Integration.pearsonCorrelation(businessScores, partyScores),
            dimensions: dimensions,
            quadrantCounts: Dictionary(grouping: standings.byCode.values, by: \.quadrant).mapValues(\.count)
        )
    }
}
