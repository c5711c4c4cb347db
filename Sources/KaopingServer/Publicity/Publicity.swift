// Publicity: from closing to final. A closed round's proposed results are published for a
// period (公示), objections are filed and answered, corrections recompute the results on record,
// and the committee signs them off (定稿) (docs/publicity.md).

import Foundation
import KaopingAggregation

/// A round's publicity and sign-off as they stand.
public struct Publicity: Sendable {
    public let roundID: UUID
    public let title: String
    public let year: Int
    public let status: RoundStatus
    /// The period as set; `nil` until the administrator sets one.
    public let startsAt: Date?
    public let endsAt: Date?
    /// When the scheduler (or the administrator, starting at once) actually began and ended it.
    public let startedAt: Date?
    public let endedAt: Date?
    public let shows: PublicityShows?
    /// The public page's unguessable address.
    public let key: String?
    /// The standing sign-off of an approved round.
    public var approval: Approval?
    /// Sign-offs withdrawn by reopening the publicity, newest first.
    public var withdrawn: [Approval] = []
    public var objections = 0
    public var openObjections = 0

    public enum Stage: String, Sendable {
        /// Closed, no period set yet.
        case none
        /// A period set that has not begun.
        case scheduled
        /// Published, taking objections.
        case running
        /// The period is over; waiting for the sign-off.
        case ended
        case approved
    }

    public var stage: Stage {
        switch status {
        case .approved: .approved
        case .publicity: endedAt == nil ? .running : .ended
        default: startsAt == nil ? .none : .scheduled
        }
    }

    /// Whether an objection filed at `now` is taken: within the period, before the scheduler
    /// has stamped its end (which may be a second or two late).
    public func takesObjections(at now: Date) -> Bool {
        stage == .running && (endsAt.map { now < $0 } ?? false)
    }

    public struct Approval: Sendable {
        public let reference: String
        /// The meeting's date, "2026-12-20".
        public let meetingOn: String
        public let approvedAt: Date
        public let approvedBy: String?
        public let configHash: String
        /// SHA-256 of the approved snapshot's stored text.
        public let resultsHash: String
        public let openObjections: Int
        public let withdrawnAt: Date?
        public let withdrawnReason: String?
    }
}

/// What could not be done in publicity, for the page, the API or the command line to say.
public enum PublicityError: Error, Equatable, CustomStringConvertible {
    /// The end is not after the start.
    case endsBeforeStart
    /// The end has passed already.
    case endPassed
    /// Sign-off waits for the publicity's end.
    case notEnded(endsAt: Date?)
    /// Objections still open: listed by receipt, confirmed by the person signing off.
    case openObjections([String])
    case referenceRequired
    case meetingDateUnreadable
    /// A withdrawn sign-off needs a reason.
    case reasonRequired

    public var description: String { message(.english) }

    public func message(_ language: Language) -> String {
        switch self {
        case .endsBeforeStart: language.text("publicity_error_ends_before_start")
        case .endPassed: language.text("publicity_error_end_passed")
        case .notEnded(let end):
            language.text("publicity_error_not_ended", ["end": end.map(ChinaTime.format) ?? "—"])
        case .openObjections(let receipts):
            language.text(
                "publicity_error_open_objections",
                ["n": receipts.count, "receipts": receipts.joined(separator: language.text("list_separator"))]
            )
        case .referenceRequired: language.text("publicity_error_reference_required")
        case .meetingDateUnreadable: language.text("publicity_error_meeting_date")
        case .reasonRequired: language.text("round_error_reason_required")
        }
    }
}

/// How final a round's results are, as the downloads' names, the branch reports and the
/// records over the years say it: 暂定 while the round runs, 拟定稿 once closed, 公示稿 while
/// published, 定稿 with the meeting's reference once signed off.
public enum Finality: Equatable, Sendable {
    case provisional, proposed, publicity
    case approved(reference: String)

    public init(_ provisional: Bool, status: RoundStatus, approval reference: String?) {
        switch (provisional, status) {
        case (true, _): self = .provisional
        case (false, .publicity): self = .publicity
        case (false, .approved): self = .approved(reference: reference ?? "")
        default: self = .proposed
        }
    }

    var key: String {
        switch self {
        case .provisional: "provisional"
        case .proposed: "proposed"
        case .publicity: "publicity"
        case .approved: "approved"
        }
    }

    /// "公示稿", or "定稿（党委会纪要〔2026〕3号）".
    public func label(_ language: Language) -> String {
        if case .approved(let reference) = self, !reference.isEmpty {
            return language.text("stage_label_approved_reference", ["reference": reference])
        }
        return language.text("stage_label_\(key)")
    }
}
