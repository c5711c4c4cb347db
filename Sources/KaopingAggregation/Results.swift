/// What the aggregation produces for a round. Encoded with sorted keys it is the same bytes
/// for the same inputs, whatever the order they came in.
public struct RoundResult: Codable, Sendable, Equatable {
    /// The version of the method (this document: `docs/scoring.md`).
    public var methodVersion: String
    public var configurationHash: String
    /// Subjects in rank order (unranked ones last, by code).
    public var subjects: [SubjectResult]
    public var diagnostics: Diagnostics
}

public struct SubjectResult: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// Has a combined score, grade and rank.
        case complete
        /// No combined score: no group reached its quorum, or (rule `require`) a weighted group did not.
        case incomplete
    }

    public var code: String
    public var name: String
    public var parent: String?
    /// By rater group name: `organisation`, `members`, `public`.
    public var groups: NamedValues<GroupResult>
    public var organisationSheet: SheetResult?
    public var status: Status
    /// Weighted combination of the groups that count, before bonus (0–100).
    public var combinedBeforeBonus: Double?
    public var bonus: Double
    /// Combined score with bonus: what grades and ranks use.
    public var combined: Double?
    /// The band the combined score falls in.
    public var bandGrade: String?
    /// After the veto, before the quota.
    public var gradeAfterVeto: String?
    /// After veto and quota: the grade that stands.
    public var grade: String?
    public var vetoed: Bool
    public var droppedByQuota: Bool
    public var rank: Int?
    /// A grade set by the committee's decision over the method's (a correction on record); absent
    /// otherwise, so that results without one keep their bytes.
    public var decision: GradeDecision?
}

/// The committee's decision on a subject's grade, with the grade the method gave.
public struct GradeDecision: Codable, Sendable, Equatable {
    public var grade: String
    public var reason: String
    public var methodGrade: String?

    public init(grade: String, reason: String, methodGrade: String?) {
        self.grade = grade
        self.reason = reason
        self.methodGrade = methodGrade
    }
}

public struct GroupResult: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case sufficient
        /// Below quorum: reported, but not part of the combined score.
        case insufficient
    }

    /// Responses (or sheets) received, scored or not.
    public var responses: Int
    /// Responses with a score, before trimming.
    public var n: Int
    /// Scores left after trimming.
    public var nTrimmed: Int
    public var score: Double?
    public var standardDeviation: Double?
    public var confidenceLow: Double?
    public var confidenceHigh: Double?
    public var status: Status
    public var weight: Double
    public var dimensions: NamedValues<Double>
    public var satisfactionRate: Double?
    /// Share of responses flagged as straight-lined (spec §6).
    public var straightLinedShare: Double?
    /// n ≥ the anonymity threshold: the breakdown may be shown.
    public var breakdownShown: Bool
}

public struct SheetResult: Codable, Sendable, Equatable {
    public var evaluators: Int
    /// Sum over deduction items of max − points lost (averaged over evaluators), on 0–100.
    public var baseScore: Double
    /// Bonus after the per-item and total caps.
    public var bonus: Double
    public var failedBaselines: [String]
    /// Average points lost per deduction item, and earned per bonus item.
    public var lost: NamedValues<Double>
    public var earned: NamedValues<Double>
}

public struct Diagnostics: Codable, Sendable, Equatable {
    /// Krippendorff's alpha (interval) per rater group, over subjects with two or more scores.
    public var alpha: [String: Double]
    /// Groups whose alpha is below 0.667 (low agreement).
    public var lowAgreement: [String]
}

extension SubjectResult {
    /// The result of one rater group of the branch, by the group rather than by its name.
    public subscript(group group: RoundConfiguration.RaterGroup) -> GroupResult? {
        groups[group.rawValue]
    }
}
