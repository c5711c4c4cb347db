// Forms: the form catalogue read from forms/, frozen form versions, and storing answers
// (ballots written together in batches).

import Foundation

/// Group commit at the application: member ballots that arrive together are written by one
/// statement in one transaction, and each person is answered only once the commit that holds
/// their ballot is done.
///
/// A ballot waits while the writers are busy with the ballots before it, never on a timer: on a
/// quiet server each ballot goes alone, as before; under load one transaction carries many, and
/// the database does one commit instead of dozens. Within a batch a link and a submission key
/// appear once; a second use of either (a double click that got this far) waits for the next
/// batch, where the statement sees the first and answers as it would have one at a time.
actor BallotBatcher<Ballot: Sendable, Outcome: Sendable> {
    typealias Write = @Sendable ([Ballot]) async throws -> [Outcome]

    private struct Waiting {
        let ballot: Ballot
        let keys: [String]
        let continuation: CheckedContinuation<Outcome, any Error>
    }

    private let write: Write
    private let keys: @Sendable (Ballot) -> [String]
    private let writers: Int
    private let largestBatch: Int
    private var queue: [Waiting] = []
    private var busy = 0

    /// `keys` names what may appear only once in a batch; `write` stores a batch and returns one
    /// outcome per ballot, in order.
    init(writers: Int, largestBatch: Int, keys: @escaping @Sendable (Ballot) -> [String], write: @escaping Write) {
        self.writers = writers
        self.largestBatch = largestBatch
        self.keys = keys
        self.write = write
    }

    func store(_ ballot: Ballot) async throws -> Outcome {
        let keys = self.keys(ballot)
        return try await withCheckedThrowingContinuation { continuation in
            queue.append(Waiting(ballot: ballot, keys: keys, continuation: continuation))
            if busy < writers {
                busy += 1
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !queue.isEmpty {
            var batch: [Waiting] = []
            var rest: [Waiting] = []
            var seen: Set<String> = []
            for waiting in queue {
                if batch.count < largestBatch && waiting.keys.allSatisfy({ !seen.contains($0) }) {
                    batch.append(waiting)
                    seen.formUnion(waiting.keys)
                } else {
                    rest.append(waiting)
                }
            }
            queue = rest
            do {
                let outcomes = try await write(batch.map(\.ballot))
                for (waiting, outcome) in zip(batch, outcomes) { waiting.continuation.resume(returning: outcome) }
                if outcomes.count < batch.count {
                    for waiting in batch[outcomes.count...] { waiting.continuation.resume(throwing: BallotBatchError.noOutcome) }
                }
            } catch {
                // The batch's transaction did not commit: nobody in it is told their ballot is stored.
                for waiting in batch { waiting.continuation.resume(throwing: error) }
            }
        }
        busy -= 1
    }
}

enum BallotBatchError: Error {
    case noOutcome
}
