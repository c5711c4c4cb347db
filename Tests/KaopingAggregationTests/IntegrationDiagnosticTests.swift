import Testing

@testable import KaopingAggregation

/// The two-skins diagnostic computed once from a round's branches and the year's business
/// scores, and the straight-lining flag the diagnostics page lists: hand-made data whose
/// answers are worked out by hand below.
@Suite("The two-skins diagnostic and the straight-lining flag")
struct IntegrationDiagnosticTests {
    static func subject(_ code: String, _ party: Double?, dimensions: [String: Double]? = nil) -> IntegrationDiagnostic.Subject {
        .init(code: code, name: "支部 \(code)", party: party, memberDimensions: dimensions)
    }

    /// Six branches in the results' order, one without a business score and one without a
    /// party-building score. Business 90, 80, 70, 60, 50 rank b1…b5 as 1…5; party 60, 95, 85, 75,
    /// 92 rank b1 5th, b2 1st, b3 3rd, b4 4th, b5 2nd. The gap is flagged from 5/3 ≈ 1.67, so at
    /// 2: b1 (5 − 1 = +4), b5 (2 − 5 = −3); b2 (1 − 2 = −1), b3 (0) and b4 (0) are not.
    @Test func pairsRanksGapsAndQuadrantsByCode() throws {
        let subjects = [
            Self.subject("b1", 60), Self.subject("b2", 95), Self.subject("b3", 85), Self.subject("nobiz", 70), Self.subject("b4", 75),
            Self.subject("b5", 92), Self.subject("noparty", nil),
        ]
        let business = ["b1": 90.0, "b2": 80, "b3": 70, "b4": 60, "b5": 50, "noparty": 99]
        let diagnostic = try #require(IntegrationDiagnostic.make(subjects: subjects, business: business, lines: (nil, nil), dimensionKeys: []))
        #expect(diagnostic.branches.map(\.code) == ["b1", "b2", "b3", "b4", "b5"])
        #expect(diagnostic.excluded.map(\.code) == ["nobiz"])
        // Medians: business 70, party 85.
        #expect(diagnostic.businessLine == 70 && diagnostic.partyLine == 85)
        let byCode = Dictionary(uniqueKeysWithValues: diagnostic.branches.map { ($0.code, $0) })
        #expect(byCode["b1"]?.standing.rank == Integration.RankGap(partyRank: 5, businessRank: 1, gap: 4, flagged: true))
        #expect(byCode["b5"]?.standing.rank == Integration.RankGap(partyRank: 2, businessRank: 5, gap: -3, flagged: true))
        #expect(byCode["b2"]?.standing.rank.flagged == false && byCode["b2"]?.standing.rank.gap == -1)
        #expect(byCode["b1"]?.standing.quadrant == .businessOnly)
        #expect(byCode["b2"]?.standing.quadrant == .joined)
        #expect(byCode["b3"]?.standing.quadrant == .joined)  // on both lines: high
        #expect(byCode["b5"]?.standing.quadrant == .partyOnly)
        #expect(byCode["b4"]?.standing.quadrant == .bothLow)
        #expect(diagnostic.quadrantCounts == [.joined: 2, .businessOnly: 1, .partyOnly: 1, .bothLow: 1])
        // The largest gap first, whatever the order of the results.
        #expect(diagnostic.flagged.map(\.code) == ["b1", "b5"])
        #expect(diagnostic.spearman?.n == 5)
    }

    /// The round's own lines replace the medians.
    @Test func theRoundsLinesWin() throws {
        let subjects = [Self.subject("a", 80), Self.subject("b", 60), Self.subject("c", 70)]
        let business = ["a": 75.0, "b": 85, "c": 65]
        let diagnostic = try #require(IntegrationDiagnostic.make(subjects: subjects, business: business, lines: (80, 65), dimensionKeys: []))
        let quadrants = Dictionary(uniqueKeysWithValues: diagnostic.branches.map { ($0.code, $0.standing.quadrant) })
        #expect(quadrants == ["a": .partyOnly, "b": .businessOnly, "c": .partyOnly])
    }

    /// Each dimension is read against business by its key, only where it is shown; a dimension
    /// no branch shows has no coefficient. Reversing the keys' values would change the signs.
    @Test func dimensionsByKey() throws {
        let subjects = [
            Self.subject("a", 80, dimensions: ["think": 90, "act": 60]), Self.subject("b", 70, dimensions: ["think": 80, "act": 70]),
            Self.subject("c", 60, dimensions: ["think": 70, "act": 80]), Self.subject("d", 50, dimensions: nil),
        ]
        let business = ["a": 90.0, "b": 80, "c": 70, "d": 60]
        let diagnostic = try #require(
            IntegrationDiagnostic.make(subjects: subjects, business: business, lines: (nil, nil), dimensionKeys: ["think", "act", "none"])
        )
        #expect(diagnostic.dimensions.map(\.key) == ["think", "act", "none"])
        #expect(abs((diagnostic.dimensions[0].correlation?.coefficient ?? 0) - 1) < 1e-12)
        #expect(diagnostic.dimensions[0].correlation?.n == 3)
        #expect(abs((diagnostic.dimensions[1].correlation?.coefficient ?? 0) + 1) < 1e-12)
        #expect(diagnostic.dimensions[2].correlation == nil)
    }

    @Test func fewerThanTwoBranchesWithBothScoresHaveNoDiagnostic() {
        let subjects = [Self.subject("a", 80), Self.subject("b", 70)]
        #expect(IntegrationDiagnostic.make(subjects: subjects, business: ["a": 70], lines: (nil, nil), dimensionKeys: []) == nil)
        #expect(IntegrationDiagnostic.make(subjects: subjects, business: ["a": 70, "b": 60], lines: (nil, nil), dimensionKeys: []) != nil)
    }

    static func group(responses: Int, share: Double?) -> GroupResult {
        GroupResult(
            responses: responses,
            n: responses,
            nTrimmed: responses,
            score: 80,
            standardDeviation: nil,
            confidenceLow: nil,
            confidenceHigh: nil,
            status: .sufficient,
            weight: 0.3,
            dimensions: [:],
            satisfactionRate: nil,
            straightLinedShare: share,
            breakdownShown: share != nil
        )
    }

    /// Flagged from 5 responses and a share of 30 %: 4 responses or 29 % are not.
    @Test func straightLiningIsFlaggedAtFiveResponsesAndThirtyPercent() {
        #expect(StraightLining.flaggedShare(of: Self.group(responses: 5, share: 0.3)) == 0.3)
        #expect(StraightLining.flaggedShare(of: Self.group(responses: 4, share: 0.5)) == nil)
        #expect(StraightLining.flaggedShare(of: Self.group(responses: 20, share: 0.29)) == nil)
        #expect(StraightLining.flaggedShare(of: Self.group(responses: 20, share: 0.75)) == 0.75)
        // Below the anonymity threshold the share is withheld, and nothing is flagged.
        #expect(StraightLining.flaggedShare(of: Self.group(responses: 20, share: nil)) == nil)
    }
}
