import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// Watches every lease of the pool from one loop, and answers the callers the database fails.
///
/// A lease that takes `leaseTimeout` makes the watchdog ask whether the database can be reached
/// at all (`ReachabilityProbe`, one probe shared by all); if not, the caller gets
/// `DatabaseUnavailable` at once, and if it can (a busy pool) the caller waits up to
/// `busyLeaseTimeout`. A statement still running two seconds after its connection closed is
/// abandoned the same way: one was seen never to return when the server died under it.
///
/// One loop for all leases, woken four times a second while any is watched, rather than a
/// timer per statement: the respondent path runs two statements per answer, and a task and a
/// timer for each cost more than a lock and a dictionary entry (`docs/performance.md`).
final class LeaseWatchdog: Sendable {
    /// What the watchdog needs of a lease; `LeaseOutcome` of any result type.
    protocol Watched: Sendable {
        var phase: LeasePhase { get }
        func abandon(with error: any Error)
    }

    private struct Entry {
        let watched: any Watched
        let cancel: @Sendable () -> Void
        let started: ContinuousClock.Instant
        var closedSince: ContinuousClock.Instant?
    }

    private struct State {
        var entries: [Int: Entry] = [:]
        var next = 0
        var looping = false
    }

    private let state = NIOLockedValueBox(State())
    let reachability: ReachabilityProbe
    let logger: Logger
    let leaseTimeout: Duration
    let busyLeaseTimeout: Duration
    let closedGrace: Duration
    let tick: Duration

    init(
        reachability: ReachabilityProbe,
        logger: Logger,
        leaseTimeout: Duration = .milliseconds(1500),
        busyLeaseTimeout: Duration = .seconds(30),
        closedGrace: Duration = .seconds(2),
        tick: Duration = .milliseconds(250)
    ) {
        self.reachability = reachability
        self.logger = logger
        self.leaseTimeout = leaseTimeout
        self.busyLeaseTimeout = busyLeaseTimeout
        self.closedGrace = closedGrace
        self.tick = tick
    }

    func watch<Value: Sendable>(_ outcome: LeaseOutcome<Value>, cancelling work: Task<Void, Never>) -> Int {
        let (id, startLoop) = state.withLockedValue { state -> (Int, Bool) in
            state.next &+= 1
            state.entries[state.next] = Entry(watched: outcome, cancel: { work.cancel() }, started: .now)
            defer { state.looping = true }
            return (state.next, !state.looping)
        }
        if startLoop { Task { await self.loop() } }
        return id
    }

    func forget(_ id: Int) {
        state.withLockedValue { _ = $0.entries.removeValue(forKey: id) }
    }

    /// Runs while anything is watched; the next `watch` starts it again.
    private func loop() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let due = state.withLockedValue { state -> [(Int, Entry)]? in
                if state.entries.isEmpty {
                    state.looping = false
                    return nil
                }
                return state.entries.filter { now - $0.value.started >= leaseTimeout }.map { ($0.key, $0.value) }
            }
            guard let due else { return }
            var askedReachable: Bool?
            for (id, entry) in due {
                switch entry.watched.phase {
                case .finished:
                    continue
                case .waiting:
                    // A slow lease may only mean a busy pool: give up now only if the database
                    // cannot be reached; if it can, wait on, up to a limit.
                    var giveUp = now - entry.started >= busyLeaseTimeout
                    if !giveUp {
                        if askedReachable == nil { askedReachable = await reachability.isReachable() }
                        giveUp = askedReachable == false
                    }
                    if giveUp { abandon(id, entry) }
                case .leased(let connection) where connection.isClosed:
                    let since = entry.closedSince ?? now
                    if entry.closedSince == nil {
                        state.withLockedValue { $0.entries[id]?.closedSince = since }
                    }
                    if now - since >= closedGrace {
                        logger.error("a statement on a closed database connection did not return; answering the request without it")
                        abandon(id, entry)
                    }
                case .leased:
                    continue
                }
            }
        }
    }

    private func abandon(_ id: Int, _ entry: Entry) {
        entry.watched.abandon(with: DatabaseUnavailable())
        entry.cancel()
        forget(id)
    }
}

extension LeaseOutcome: LeaseWatchdog.Watched {}

/// Where one `withConnection` is: waiting for a connection, running on one, or answered.
enum LeasePhase {
    case waiting
    case leased(PostgresConnection)
    case finished
}

/// The result of one `withConnection`, set once by whichever comes first: the work, the
/// watchdog or the caller's cancellation.
///
/// The continuation is resumed after the lock is released: `finish` also runs as a task's
/// cancellation handler, under the runtime's own lock on that task, and resuming a task takes
/// that lock too; doing both under ours would let two threads wait on each other for ever.
final class LeaseOutcome<Value: Sendable>: Sendable {
    private struct State {
        var phase: LeasePhase = .waiting
        var result: Swift.Result<Value, any Error>?
        var continuation: CheckedContinuation<Value, any Error>?
    }
    private let state = NIOLockedValueBox(State())

    var phase: LeasePhase { state.withLockedValue { $0.phase } }

    func leased(_ connection: PostgresConnection) {
        state.withLockedValue { state in
            if case .waiting = state.phase { state.phase = .leased(connection) }
        }
    }

    /// Gives up on the work: the caller is answered with `error`.
    func abandon(with error: any Error) {
        finish(.failure(error))
    }

    /// Sets the result unless one is set already.
    func finish(_ result: Swift.Result<Value, any Error>) {
        let continuation = state.withLockedValue { state -> CheckedContinuation<Value, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            state.phase = .finished
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(with: result)
    }

    func value() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let result = state.withLockedValue { state -> Swift.Result<Value, any Error>? in
                if let result = state.result { return result }
                state.continuation = continuation
                return nil
            }
            if let result { continuation.resume(with: result) }
        }
    }
}

/// Whether a new connection to the database can be made at all, asked when a lease is slow.
///
/// One probe at a time, its answer shared for a second, so that a crowd of waiting requests
/// during an outage makes one connection attempt, not hundreds.
final class ReachabilityProbe: Sendable {
    private struct State {
        var answer: (reachable: Bool, at: ContinuousClock.Instant)?
        var running: Task<Bool, Never>?
    }
    private let state = NIOLockedValueBox(State())
    let url: DatabaseURL
    let logger: Logger

    init(url: DatabaseURL, logger: Logger) {
        self.url = url
        var quiet = logger
        quiet.logLevel = .critical
        self.logger = quiet
    }

    func isReachable() async -> Bool {
        let now = ContinuousClock.now
        let known = state.withLockedValue { state -> Result<Bool, Never>? in
            guard let answer = state.answer, now - answer.at < .seconds(1) else { return nil }
            return .success(answer.reachable)
        }
        if case .success(let reachable) = known { return reachable }
        let task = state.withLockedValue { state -> Task<Bool, Never> in
            if let running = state.running { return running }
            let url = self.url
            let logger = self.logger
            let running = Task { () -> Bool in
                let reachable =
                    await Database.first(within: .milliseconds(1500)) {
                        try await DatabaseBootstrap.withMaintenanceConnection(
                            url,
                            logger: logger,
                            database: url.database,
                            connectTimeout: .milliseconds(1500)
                        ) {
                            connection in try await connection.query("SELECT 1", logger: logger).collect().count
                        }
                    } == 1
                self.state.withLockedValue { state in
                    state.answer = (reachable, ContinuousClock.now)
                    state.running = nil
                }
                return reachable
            }
            state.running = running
            return running
        }
        return await task.value
    }
}
