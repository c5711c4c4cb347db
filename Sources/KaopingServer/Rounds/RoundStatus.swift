import PostgresNIO

/// Where a round is in its life: draft or scheduled → open → closed (and, with a reason, open
/// again) → in publicity (公示) → approved (定稿; with a reason, in publicity again); a round that
/// opened can instead be cancelled with a reason. Stored as its raw value
/// in `rounds.status`, which a check constraint limits to these.
public enum RoundStatus: String, Sendable, CaseIterable, PostgresCodable {
    /// Being prepared; opened by hand.
    case draft
    /// Opens by itself at its opening time.
    case scheduled
    /// Taking answers until its closing time.
    case open
    /// Answers are in and its results are stored: proposed results, not yet published.
    case closed
    /// Its proposed results are published for objections (公示), from its publicity start; after
    /// the publicity's end it stays here until it is signed off.
    case publicity
    /// Signed off by the committee with a meeting's reference (定稿): its results are final.
    case approved
    /// Withdrawn with a reason (作废): kept for the record, shown nowhere people read results.
    case cancelled

    public var canOpen: Bool { self == .draft || self == .scheduled }
    public var canClose: Bool { self == .open }
    public var canExtend: Bool { self == .draft || self == .scheduled || self == .open }
    public var canReopen: Bool { self == .closed }
    /// Whether answers are in and results stored: every state from closing on.
    public var hasResults: Bool { self == .closed || self == .publicity || self == .approved }
    /// A publicity period can be set (or changed) until the round is signed off.
    public var canPublicise: Bool { self == .closed || self == .publicity }
    /// Corrections change results that are not yet final.
    public var canCorrect: Bool { self == .closed || self == .publicity }
    /// Nobody has answered a round that never opened: it can still be changed or removed outright.
    public var canEdit: Bool { self == .draft || self == .scheduled }
    /// Once people could answer, a round is cancelled instead of deleted, so the record stays.
    public var canCancel: Bool { self == .open || self == .closed || self == .publicity }
    /// Branches can join until the round closes.
    public var canAddBranches: Bool { self == .draft || self == .scheduled || self == .open }
    /// Whether invitations, visit codes and evaluator assignments can still be handed out.
    public var takesHandouts: Bool { canAddBranches }
    /// The raw values of the states with results, for `status = ANY(…)` in SQL.
    public static let withResults: [String] = allCases.filter(\.hasResults).map(\.rawValue)
    /// Whether people have been able to answer (branch secretaries see such rounds).
    public var hasStarted: Bool { self == .open || hasResults }
}

/// What was asked of a round in a state that does not allow it (`RoundError.wrongStatus`).
public enum RoundAction: String, Sendable {
    case opened, closed, extended, reopened, edited, deleted, cancelled, branchesAdded, handedOut
    case publicised, approved, publicityReopened, corrected
}
