/// The members' annual appraisal (民主评议党员, docs/appraisal.md): the categories a member can be
/// placed in, the tally of the anonymous vote, and the checks the branch committee's proposals
/// meet before the party committee sees them. Pure: no I/O, no clock.
///
/// Votes inform, they do not decide (不简单以票取人): the committee proposes each member's
/// category itself, and the checks here refuse only what the rules forbid (more in the top
/// category than the quota, a low category without a reason) and flag for the approver what
/// departs from the vote, with the committee's explanation.
public struct AppraisalSettings: Codable, Sendable, Equatable {
    /// A category a member can be placed in, best first in `categories`.
    public struct Category: Codable, Sendable, Equatable {
        /// Stable key, stored with votes and proposals (`excellent`, `competent`, …).
        public var key: String
        /// The name as a Chinese office writes it (优秀) and in English.
        public var name: String
        public var englishName: String

        public init(key: String, name: String, englishName: String) {
            self.key = key
            self.name = name
            self.englishName = englishName
        }
    }

    /// Best first. The first is the top category the quota limits; every category below the
    /// second needs a written reason; the last is the failing one the vote flags.
    public var categories: [Category]
    /// Share of a branch's members who may be placed in the top category (one third).
    public var topQuota: Double
    /// Whether non-party representatives (群众代表) vote beside the members.
    public var representativesVote: Bool
    /// A member's tally is shown only when at least this many votes were cast on them.
    public var anonymityThreshold: Int
    /// Whether members who carry a party group (党小组) vote on the members of their group only.
    public var byPartyGroup: Bool

    public init(
        categories: [Category] = Self.standardCategories,
        topQuota: Double = 1.0 / 3.0,
        representativesVote: Bool = false,
        anonymityThreshold: Int = 5,
        byPartyGroup: Bool = false
    ) {
        self.categories = categories
        self.topQuota = topQuota
        self.representativesVote = representativesVote
        self.anonymityThreshold = anonymityThreshold
        self.byPartyGroup = byPartyGroup
    }

    /// 优秀 / 合格 / 基本合格 / 不合格, as the regulations name them.
    public static let standardCategories: [Category] = [
        Category(key: "excellent", name: "优秀", englishName: "Excellent"),
        Category(key: "competent", name: "合格", englishName: "Competent"),
        Category(key: "basic", name: "基本合格", englishName: "Basically competent"),
        Category(key: "incompetent", name: "不合格", englishName: "Not competent"),
    ]

    /// The key a ballot uses for "not able to judge": counted apart, never a category.
    public static let abstain = "abstain"

    /// The most members of a branch of `members` who may be placed in the top category:
    /// floor(quota × members), so one third of 3 is 1, of 9 is 3, of 10 is 3.
    public func topPlaces(members: Int) -> Int {
        // The small allowance keeps 1/3 stored as 0.333… from losing a place to rounding.
        Int((topQuota * Double(members) + 1e-9).rounded(.down))
    }

    public func index(of key: String) -> Int? {
        categories.firstIndex { $0.key == key }
    }

    /// Whether a proposal in this category needs a written reason: every category below the second.
    public func needsReason(_ category: Int) -> Bool { category >= 2 }

    /// Everything wrong with the settings, as catalogue keys (as `RoundConfiguration.Problem`).
    public func problems() -> [RoundConfiguration.Problem] {
        var problems: [RoundConfiguration.Problem] = []
        if categories.count < 2 { problems.append(.init("appraisal_too_few_categories")) }
        let keys = categories.map(\.key)
        if Set(keys).count != keys.count || Set(categories.map(\.name)).count != categories.count {
            problems.append(.init("appraisal_category_names"))
        }
        if categories.contains(where: { $0.key.isEmpty || $0.name.isEmpty || $0.key == Self.abstain }) {
            problems.append(.init("appraisal_category_blank"))
        }
        if !(topQuota > 0 && topQuota <= 1) { problems.append(.init("appraisal_quota_range")) }
        if anonymityThreshold < 3 { problems.append(.init("config_anonymity")) }
        return problems
    }
}

/// Whose votes: the members of the branch (or party group), or its non-party representatives.
public enum AppraisalVoterGroup: String, Codable, Sendable, CaseIterable {
    case members, representatives
}

/// The votes cast on one member: per voter group, how many chose each category (in the
/// settings' order) and how many were not able to judge.
public struct AppraisalTally: Sendable, Equatable {
    public var votes: [AppraisalVoterGroup: [Int]]
    public var abstentions: [AppraisalVoterGroup: Int]

    public init(votes: [AppraisalVoterGroup: [Int]] = [:], abstentions: [AppraisalVoterGroup: Int] = [:]) {
        self.votes = votes
        self.abstentions = abstentions
    }

    /// Adds `count` votes of `group` for the category at `index` (nil: not able to judge).
    public mutating func add(_ count: Int, group: AppraisalVoterGroup, category index: Int?, categories: Int) {
        guard let index else {
            abstentions[group, default: 0] += count
            return
        }
        var row = votes[group] ?? Array(repeating: 0, count: categories)
        if row.count < categories { row += Array(repeating: 0, count: categories - row.count) }
        row[index] += count
        votes[group] = row
    }

    /// Votes for each category, all groups together.
    public func combined(categories: Int) -> [Int] {
        var total = Array(repeating: 0, count: categories)
        for row in votes.values {
            for (index, count) in row.enumerated() where index < categories { total[index] += count }
        }
        return total
    }

    /// Votes that chose a category (not the abstentions).
    public var cast: Int { votes.values.reduce(0) { $0 + $1.reduce(0, +) } }

    public func cast(by group: AppraisalVoterGroup) -> Int { votes[group]?.reduce(0, +) ?? 0 }

    /// One group's votes for each category (zeros where it chose none).
    public func votes(of group: AppraisalVoterGroup, categories: Int) -> [Int] {
        var row = Array(repeating: 0, count: categories)
        for (index, count) in (votes[group] ?? []).enumerated() where index < categories { row[index] = count }
        return row
    }

    /// Whether the tally may be shown: at least k votes chose a category. Below that, a
    /// committee that knows who voted could tell how a few of them voted.
    public func isShown(threshold: Int) -> Bool { cast >= threshold }

    /// Whether the split between voter groups may be shown: only when every group that voted
    /// cast at least k votes, since a total beside a large group's part tells a small group's.
    public func isSplitShown(threshold: Int) -> Bool {
        let groups = AppraisalVoterGroup.allCases.filter { cast(by: $0) > 0 }
        return groups.count > 1 && groups.allSatisfy { cast(by: $0) >= threshold }
    }

    /// The category with the most votes, a tie going to the lower (worse) category; nil when
    /// nobody chose one.
    public func suggested(categories: Int) -> Int? {
        let total = combined(categories: categories)
        guard let most = total.max(), most > 0 else { return nil }
        return total.lastIndex(of: most)
    }

    /// The share of the votes cast that chose the category at `index` (0 when none were cast).
    public func share(_ index: Int, categories: Int) -> Double {
        let cast = self.cast
        guard cast > 0 else { return 0 }
        return Double(combined(categories: categories)[index]) / Double(cast)
    }
}

/// What the committee proposes for one member.
public struct AppraisalProposal: Sendable, Equatable {
    /// Index into the settings' categories.
    public var category: Int
    /// The committee's note, which the member reads with the result; for a category below
    /// the second, its written reason.
    public var note: String
    /// Why the proposal departs from the vote, when the checks flag it; shown to the approver.
    public var explanation: String

    public init(category: Int, note: String = "", explanation: String = "") {
        self.category = category
        self.note = note
        self.explanation = explanation
    }
}

/// Why a proposal departs from the vote: accepted with an explanation, shown to the approver.
public enum AppraisalFlag: Sendable, Equatable, Hashable {
    /// The proposal lies more than one category away from the one the vote suggests.
    case departsFromVote(suggested: Int, steps: Int)
    /// The top category, with fewer than half the votes for it.
    case topWithoutHalf(share: Double)
    /// The second category or better, with at least a third of the votes for the last one.
    case passWithManyFailing(share: Double)

    /// The stored form: a key, with the figure it is about.
    public var key: String {
        switch self {
        case .departsFromVote: "departs"
        case .topWithoutHalf: "top_without_half"
        case .passWithManyFailing: "pass_with_failing"
        }
    }
}

/// What stops a branch's proposals from going to the approver.
public enum AppraisalRefusal: Sendable, Equatable {
    /// More members proposed for the top category than the quota allows.
    case overQuota(allowed: Int, proposed: Int)
    /// A member without a proposal.
    case missing(member: String)
    /// A category below the second without a written reason.
    case reasonRequired(member: String)
    /// A flagged proposal without the explanation the approver is to read.
    case explanationRequired(member: String)
}

/// The checks a branch's proposals meet when the committee submits them.
public struct AppraisalReview: Sendable, Equatable {
    public struct Entry: Sendable {
        /// Whom the proposal is about (a staff number, say): how refusals name them.
        public var member: String
        public var proposal: AppraisalProposal?
        public var tally: AppraisalTally

        public init(member: String, proposal: AppraisalProposal?, tally: AppraisalTally) {
            self.member = member
            self.proposal = proposal
            self.tally = tally
        }
    }

    public var refusals: [AppraisalRefusal]
    /// Per member, the flags their proposal raised (members without flags are absent).
    public var flags: [String: [AppraisalFlag]]

    public var isAccepted: Bool { refusals.isEmpty }

    /// Checks every entry of one branch (its members still in it). Flags are raised only on
    /// tallies that may be shown: below k the vote is not read, so it cannot be departed from.
    public static func check(_ entries: [Entry], settings: AppraisalSettings) -> AppraisalReview {
        var refusals: [AppraisalRefusal] = []
        var flags: [String: [AppraisalFlag]] = [:]
        let count = settings.categories.count
        let top = entries.filter { $0.proposal?.category == 0 }.count
        let allowed = settings.topPlaces(members: entries.count)
        if top > allowed { refusals.append(.overQuota(allowed: allowed, proposed: top)) }
        for entry in entries {
            guard let proposal = entry.proposal, (0..<count).contains(proposal.category) else {
                refusals.append(.missing(member: entry.member))
                continue
            }
            if settings.needsReason(proposal.category) && proposal.note.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                refusals.append(.reasonRequired(member: entry.member))
            }
            let raised = Self.flags(proposal.category, tally: entry.tally, settings: settings)
            guard !raised.isEmpty else { continue }
            flags[entry.member] = raised
            if proposal.explanation.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                refusals.append(.explanationRequired(member: entry.member))
            }
        }
        return AppraisalReview(refusals: refusals, flags: flags)
    }

    /// What a proposal of `category` raises against the tally.
    public static func flags(_ category: Int, tally: AppraisalTally, settings: AppraisalSettings) -> [AppraisalFlag] {
        let count = settings.categories.count
        guard tally.isShown(threshold: settings.anonymityThreshold), let suggested = tally.suggested(categories: count) else { return [] }
        var flags: [AppraisalFlag] = []
        let steps = abs(category - suggested)
        if steps > 1 { flags.append(.departsFromVote(suggested: suggested, steps: steps)) }
        // Counted in whole votes, so that exactly a half or a third is never lost to rounding.
        let combined = tally.combined(categories: count)
        if category == 0 && combined[0] * 2 < tally.cast { flags.append(.topWithoutHalf(share: tally.share(0, categories: count))) }
        // At least a third: 3 of 9 votes flags, 2 of 7 does not.
        if category <= 1 && count > 2 && combined[count - 1] * 3 >= tally.cast {
            flags.append(.passWithManyFailing(share: tally.share(count - 1, categories: count)))
        }
        return flags
    }
}
