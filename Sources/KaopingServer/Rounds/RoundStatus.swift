import PostgresNIO

/// Where a round is in its life: draft or scheduled → open → closed (and, with a reason, open
/// again); a round that opened can instead be cancelled with a reason. Stored as its raw value
/// in `rounds.status`, which a check constraint limits to these.
public enum RoundStatus: String, Sendable, CaseIterable, PostgresCodable {
    /// Being prepared; opened by hand.
    case draft
    /// Opens by itself at its opening time.
    case scheduled
    /// Taking answers until its closing time.
    case open
    /// Final: its results are stored.
    case closed
    /// Withdrawn with a reason (作废): kept for the record, shown nowhere people read results.
    case cancelled

    public var canOpen: Bool { self == .draft || self == .scheduled }
    public var canClose: Bool { self == .open }
    public var canExtend: Bool { self == .draft || self == .scheduled || self == .open }
    public var canReopen: Bool { self == .closed }
    /// Nobody has answered a round that never opened: it can still be changed or removed outright.
    public var canEdit: Bool { self == .draft || self == .scheduled }
    /// Once people could answer, a round is cancelled instead of deleted, so the record stays.
    public var canCancel: Bool { self == .open || self == .closed }
    /// Branches can join until the round closes.
    public var canAddBranches: Bool { self == .draft || self == .scheduled || self == .open }
    /// Whether invitations, visit codes and evaluator assignments can still be handed out.
    public var takesHandouts: Bool { canAddBranches }
    /// Whether people have been able to answer (branch secretaries see such rounds).
    public var hasStarted: Bool { self == .open || self == .closed }
}

/// What was asked of a round in a state that does not allow it (`RoundError.wrongStatus`).
public enum RoundAction: String, Sendable {
    case opened, closed, extended, reopened, edited, deleted, cancelled, branchesAdded, handedOut
}
