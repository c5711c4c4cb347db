import Foundation
import NIOConcurrencyHelpers

/// Limits how many times one address does something per hour: public answers per branch, or
/// wrong short codes typed.
///
/// Kept in memory, deliberately: a table of addresses and times written next to the ballot box
/// would sit one transaction id away from each ballot, and could name who answered what. With
/// several instances each keeps its own count, so the limit is per instance; it is a brake on
/// abuse, not a guarantee.
final class PublicRateLimiter: Sendable {
    private let attempts = NIOLockedValueBox<[String: [ContinuousClock.Instant]]>([:])
    let limit: Int
    let window: Duration

    init(limit: Int, window: Duration = .seconds(3600)) {
        self.limit = limit
        self.window = window
    }

    /// Records an answer from `address` for `branch` if it is within the limit.
    func allow(address: String, branch: UUID) -> Bool {
        allow(key: "\(address)|\(branch)")
    }

    /// Records an attempt under `key` (an address, with what it is for) if within the limit.
    func allow(key: String) -> Bool {
        let now = ContinuousClock.now
        return attempts.withLockedValue { attempts in
            if attempts.count > 100_000 { attempts = attempts.filter { $0.value.contains { now - $0 < window } } }
            var recent = (attempts[key] ?? []).filter { now - $0 < window }
            guard recent.count < limit else {
                attempts[key] = recent
                return false
            }
            recent.append(now)
            attempts[key] = recent
            return true
        }
    }

    /// Whether an answer from `address` for `branch` would be within the limit now, without
    /// counting one: asked before the form is shown.
    func wouldAllow(address: String, branch: UUID) -> Bool {
        wouldAllow(key: "\(address)|\(branch)")
    }

    func wouldAllow(key: String) -> Bool {
        let now = ContinuousClock.now
        return attempts.withLockedValue { attempts in
            (attempts[key] ?? []).filter { now - $0 < window }.count < limit
        }
    }

    /// Gives back the latest allowance of `address` for `branch`: the answer it was taken for
    /// was a resent copy (same submission key) that stored nothing.
    func refund(address: String, branch: UUID) {
        let key = "\(address)|\(branch)"
        attempts.withLockedValue { attempts in
            if attempts[key]?.isEmpty == false { attempts[key]?.removeLast() }
        }
    }
}
