import PostgresNIO

/// Where a round is in its life: draft or scheduled → open → closed (and, with a reason, open
/// again). Stored as its raw value in `rounds.status`, which a check constraint limits to these.
public enum RoundStatus: String, Sendable, CaseIterable, PostgresCodable {
    /// Being prepared; opened by hand.
    case draft
    /// Opens by itself at its opening time.
    case scheduled
    /// Taking answers until its closing time.
    case open
    /// Final: its results are stored.
    case closed

    public var canOpen: Bool { self == .draft || self == .scheduled }
    public var canClose: Bool { self == .open }
    public var canExtend: Bool { self != .closed }
    public var canReopen: Bool { self == .closed }
    /// Whether people have been able to answer (branch secretaries see such rounds).
    public var hasStarted: Bool { self == .open || self == .closed }
}

/// What was asked of a round in a state that does not allow it (`RoundError.wrongStatus`).
public enum RoundAction: String, Sendable {
    case opened, closed, extended, reopened
}
