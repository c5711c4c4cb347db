import NIOConcurrencyHelpers

/// Opens once the migrations have been applied. Background services wait on it so that they
/// never query tables that do not exist yet.
public final class MigrationGate: Sendable {
    private struct State {
        var open = false
        var nextID = 0
        var waiting: [Int: CheckedContinuation<Void, any Error>] = [:]
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    public var isOpen: Bool {
        state.withLockedValue { $0.open }
    }

    public func open() {
        let waiting = state.withLockedValue { state -> [CheckedContinuation<Void, any Error>] in
            state.open = true
            defer { state.waiting = [:] }
            return Array(state.waiting.values)
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Returns when the gate opens; throws `CancellationError` if the task is cancelled first
    /// (a server whose migrations failed must still be able to shut down).
    public func wait() async throws {
        let id = state.withLockedValue { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume: Result<Void, any Error>? = state.withLockedValue { state in
                    if state.open { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiting[id] = continuation
                    return nil
                }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            let continuation = state.withLockedValue { $0.waiting.removeValue(forKey: id) }
            continuation?.resume(throwing: CancellationError())
        }
    }
}
