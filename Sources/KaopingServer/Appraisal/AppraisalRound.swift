import Foundation
import KaopingAggregation
import PostgresNIO

/// Where an appraisal round is: draft or scheduled → open (members write and vote) → closed
/// (the committees propose, the party committee approves, branch by branch); or cancelled.
public enum AppraisalStatus: String, Sendable, CaseIterable, PostgresCodable {
    case draft, scheduled, open, closed, cancelled

    public var canOpen: Bool { self == .draft || self == .scheduled }
    public var canClose: Bool { self == .open }
    /// Links can be handed out until the vote closes.
    public var takesHandouts: Bool { self == .draft || self == .scheduled || self == .open }
}

/// Where one branch's proposals are: not yet submitted, waiting for approval, returned with a
/// comment, or approved (the members then read their own result).
public enum AppraisalReviewState: String, Sendable, CaseIterable, PostgresCodable {
    case pending, submitted, returned, approved

    /// The committee can still change its proposals.
    public var isEditable: Bool { self == .pending || self == .returned }
}

/// One appraisal round as stored.
public struct AppraisalRound: Sendable {
    public let id: UUID
    public let title: String
    public let year: Int
    public let status: AppraisalStatus
    public let settings: AppraisalSettings
    public let opensAt: Date?
    public let closesAt: Date?
    public let closedAt: Date?

    /// Whether members can vote now: open, and not past its closing time.
    public var isVoting: Bool { status == .open && (closesAt.map { $0 > .now } ?? true) }
}

/// One branch of a round as the round's page lists it.
public struct AppraisalBranchProgress: Sendable {
    public let code: String
    public let name: String
    /// Members appraised (still in the branch) and those who left while the round ran.
    public let members: Int
    public let left: Int
    public let invited: Int
    public let voted: Int
    public let selfAssessed: Int
    public let representatives: Int
    public let representativesVoted: Int
    public let review: AppraisalReviewState
    public let reviewComment: String
}

/// Who holds an appraisal link: a member of a branch (who writes a self-assessment and votes),
/// or a representative (who votes only).
public struct AppraisalVoter: Sendable {
    public let invitationID: UUID
    public let roundID: UUID
    public let branchID: UUID
    public let branchName: String
    public let memberID: UUID?
    public let name: String
    public let partyGroup: String?
    public let voted: Bool
    /// A member who left the branch while the round ran votes no more.
    public let hasLeft: Bool

    public var group: AppraisalVoterGroup { memberID == nil ? .representatives : .members }
}

/// A member on a roster, a tally or a committee's page.
public struct AppraisalSubject: Sendable, Equatable {
    public let memberID: UUID
    public let staffNumber: String
    public let name: String
    public let partyGroup: String?
    public let hasLeft: Bool
}
