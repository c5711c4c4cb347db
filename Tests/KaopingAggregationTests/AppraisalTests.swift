import Testing

@testable import KaopingAggregation

@Suite("Members' appraisal rules")
struct AppraisalTests {
    static let settings = AppraisalSettings()
    /// Indexes of the standard categories.
    static let excellent = 0, competent = 1, basic = 2, incompetent = 3

    /// A tally of members' votes: counts for 优秀, 合格, 基本合格, 不合格.
    static func tally(_ counts: [Int], representatives: [Int]? = nil, abstaining: Int = 0) -> AppraisalTally {
        var tally = AppraisalTally()
        for (index, count) in counts.enumerated() where count > 0 {
            tally.add(count, group: .members, category: index, categories: 4)
        }
        for (index, count) in (representatives ?? []).enumerated() where count > 0 {
            tally.add(count, group: .representatives, category: index, categories: 4)
        }
        if abstaining > 0 { tally.add(abstaining, group: .members, category: nil, categories: 4) }
        return tally
    }

    @Test func aThirdOfTheMembersMayBeExcellentRoundedDown() {
        // The edges: 3 members → 1, 10 → 3; and the neighbours of each.
        #expect(Self.settings.topPlaces(members: 2) == 0)
        #expect(Self.settings.topPlaces(members: 3) == 1)
        #expect(Self.settings.topPlaces(members: 5) == 1)
        #expect(Self.settings.topPlaces(members: 6) == 2)
        #expect(Self.settings.topPlaces(members: 9) == 3)
        #expect(Self.settings.topPlaces(members: 10) == 3)
        #expect(Self.settings.topPlaces(members: 12) == 4)
        // A quota written as a decimal a hair under a third keeps its place at 3 and 30.
        let decimal = AppraisalSettings(topQuota: 0.3333333333333333)
        #expect(decimal.topPlaces(members: 3) == 1)
        #expect(decimal.topPlaces(members: 30) == 10)
        #expect(AppraisalSettings(topQuota: 0.2).topPlaces(members: 9) == 1)
    }

    @Test func theSuggestedCategoryIsTheMostVotedAndATieGoesToTheLowerOne() {
        #expect(Self.tally([5, 3, 0, 0]).suggested(categories: 4) == Self.excellent)
        // 4 优秀 against 4 合格: the lower, 合格.
        #expect(Self.tally([4, 4, 1, 0]).suggested(categories: 4) == Self.competent)
        // A tie between two categories that are not neighbours still goes to the lower one.
        #expect(Self.tally([3, 1, 0, 3]).suggested(categories: 4) == Self.incompetent)
        // Representatives' votes count with the members'.
        #expect(Self.tally([3, 2, 0, 0], representatives: [0, 2, 0, 0]).suggested(categories: 4) == Self.competent)
        // Abstentions are not a category and never suggest one.
        #expect(Self.tally([0, 0, 0, 0], abstaining: 6).suggested(categories: 4) == nil)
        #expect(Self.tally([1, 0, 0, 0], abstaining: 6).suggested(categories: 4) == Self.excellent)
    }

    @Test func aTallyIsShownFromKVotesAndItsSplitOnlyWhenEachGroupHasK() {
        // k − 1 cast votes (abstentions do not count) hide it; k show it.
        #expect(!Self.tally([2, 2, 0, 0], abstaining: 5).isShown(threshold: 5))
        #expect(Self.tally([2, 2, 1, 0]).isShown(threshold: 5))
        let mixed = Self.tally([3, 3, 0, 0], representatives: [2, 2, 0, 0])
        #expect(mixed.isShown(threshold: 5))
        // Six members beside four representatives: the total may show, the split may not.
        #expect(!mixed.isSplitShown(threshold: 5))
        #expect(Self.tally([3, 2, 0, 0], representatives: [2, 3, 0, 0]).isSplitShown(threshold: 5))
        // Members alone: there is nothing to split.
        #expect(!Self.tally([9, 0, 0, 0]).isSplitShown(threshold: 5))
        #expect(mixed.cast(by: .members) == 6 && mixed.cast(by: .representatives) == 4)
        #expect(mixed.combined(categories: 4) == [5, 5, 0, 0])
        // Each group's own row, in category order; a group that chose no category is all zeros.
        #expect(mixed.votes(of: .members, categories: 4) == [3, 3, 0, 0])
        #expect(Self.tally([1, 0, 4, 0], representatives: [0, 2, 0, 0]).votes(of: .representatives, categories: 4) == [0, 2, 0, 0])
        #expect(Self.tally([1, 0, 4, 0]).votes(of: .representatives, categories: 4) == [0, 0, 0, 0])
    }

    @Test func moreExcellentThanTheQuotaIsRefusedAndTheQuotaItselfIsNot() {
        // Nine members: three 优秀 pass, a fourth is refused.
        func entries(excellent: Int) -> [AppraisalReview.Entry] {
            (0..<9).map { index in
                AppraisalReview.Entry(
                    member: "m\(index)",
                    proposal: AppraisalProposal(category: index < excellent ? Self.excellent : Self.competent),
                    tally: AppraisalTally()
                )
            }
        }
        #expect(AppraisalReview.check(entries(excellent: 3), settings: Self.settings).isAccepted)
        #expect(AppraisalReview.check(entries(excellent: 4), settings: Self.settings).refusals == [.overQuota(allowed: 3, proposed: 4)])
    }

    @Test func lowCategoriesNeedAReasonAndEveryMemberAProposal() {
        let entries = [
            AppraisalReview.Entry(member: "a", proposal: AppraisalProposal(category: Self.basic), tally: AppraisalTally()),
            AppraisalReview.Entry(member: "b", proposal: AppraisalProposal(category: Self.incompetent, note: "  "), tally: AppraisalTally()),
            AppraisalReview.Entry(member: "c", proposal: AppraisalProposal(category: Self.incompetent, note: "长期不参加组织生活"), tally: AppraisalTally()),
            AppraisalReview.Entry(member: "d", proposal: AppraisalProposal(category: Self.competent), tally: AppraisalTally()),
            AppraisalReview.Entry(member: "e", proposal: nil, tally: AppraisalTally()),
        ]
        let review = AppraisalReview.check(entries, settings: Self.settings)
        #expect(review.refusals == [.reasonRequired(member: "a"), .reasonRequired(member: "b"), .missing(member: "e")])
        #expect(review.flags.isEmpty)
    }

    @Test func departuresFromTheVoteAreFlaggedAndNeedAnExplanation() {
        // Most voted 合格: 不合格 is two steps away, 基本合格 one.
        let vote = Self.tally([1, 6, 1, 0])
        #expect(
            AppraisalReview.flags(Self.incompetent, tally: vote, settings: Self.settings) == [.departsFromVote(suggested: Self.competent, steps: 2)]
        )
        #expect(AppraisalReview.flags(Self.basic, tally: vote, settings: Self.settings) == [])
        // 优秀 with exactly half the votes 优秀 passes; one vote fewer is flagged.
        #expect(AppraisalReview.flags(Self.excellent, tally: Self.tally([4, 4, 0, 0]), settings: Self.settings) == [])
        #expect(
            AppraisalReview.flags(Self.excellent, tally: Self.tally([3, 4, 0, 0]), settings: Self.settings)
                == [.topWithoutHalf(share: 3.0 / 7.0)]
        )
        // 合格 with a third of the votes 不合格 is flagged; just under a third is not.
        #expect(
            AppraisalReview.flags(Self.competent, tally: Self.tally([0, 6, 0, 3]), settings: Self.settings)
                == [.passWithManyFailing(share: 3.0 / 9.0)]
        )
        #expect(AppraisalReview.flags(Self.competent, tally: Self.tally([0, 5, 0, 2]), settings: Self.settings) == [])
        // 基本合格 is below 合格: the failing votes do not flag it.
        #expect(AppraisalReview.flags(Self.basic, tally: Self.tally([0, 4, 1, 4]), settings: Self.settings) == [])
        // Below k nothing is read from the vote.
        #expect(AppraisalReview.flags(Self.incompetent, tally: Self.tally([4, 0, 0, 0]), settings: Self.settings) == [])

        let flagged = AppraisalReview.Entry(member: "x", proposal: AppraisalProposal(category: Self.incompetent, note: "理由"), tally: vote)
        let refused = AppraisalReview.check([flagged], settings: Self.settings)
        #expect(refused.refusals == [.explanationRequired(member: "x")])
        #expect(refused.flags["x"] == [.departsFromVote(suggested: Self.competent, steps: 2)])
        var explained = flagged
        explained.proposal?.explanation = "本人年内受到党内警告处分"
        let accepted = AppraisalReview.check([explained], settings: Self.settings)
        #expect(accepted.isAccepted)
        #expect(accepted.flags["x"] == [.departsFromVote(suggested: Self.competent, steps: 2)])
    }

    @Test func settingsWithoutUsableCategoriesOrQuotaAreRefused() {
        #expect(AppraisalSettings().problems().isEmpty)
        #expect(AppraisalSettings(categories: [AppraisalSettings.standardCategories[0]]).problems().map(\.key) == ["appraisal_too_few_categories"])
        let repeated = [AppraisalSettings.standardCategories[0], AppraisalSettings.standardCategories[0]]
        #expect(AppraisalSettings(categories: repeated).problems().map(\.key) == ["appraisal_category_names"])
        #expect(AppraisalSettings(topQuota: 0).problems().map(\.key) == ["appraisal_quota_range"])
        #expect(AppraisalSettings(topQuota: 1.2).problems().map(\.key) == ["appraisal_quota_range"])
        #expect(AppraisalSettings(anonymityThreshold: 2).problems().map(\.key) == ["config_anonymity"])
        #expect(AppraisalSettings(anonymityThreshold: 3).problems().isEmpty)
    }
}
