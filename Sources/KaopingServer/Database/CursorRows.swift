import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import Synchronization

extension Database {
    /// Runs `query` through a cursor in a read-only transaction and hands `body` its rows,
    /// fetched `batchSize` at a time, each batch read whole as it arrives (the next ones while
    /// `body` works through the one before).
    ///
    /// For long reads whose reader waits on something else: a download written to a slow
    /// client, a workbook being written. PostgresNIO 1.33.2 stops the whole process on a
    /// precondition in its row stream when the server goes away while a statement's rows wait
    /// for their reader (docs/operations.md, "A crash the drill found"); here no statement's
    /// rows ever wait on `body`, and between batches the connection is idle. The transaction is
    /// written out here rather than through `transaction`, because each of its statements goes
    /// through the connection's `StatementGuard`.
    public func withCursor<Result>(
        _ query: PostgresQuery,
        batchSize: Int = 10_000,
        logger: Logger,
        _ body: (CursorRows) async throws -> Result
    ) async throws -> Result {
        try await withStreamingConnection { connection in
            let statements = StatementGuard(connection)
            let rows = CursorRows(connection: connection, statements: statements, batchSize: batchSize, logger: logger)
            do {
                try await statements.run { try await connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger) }
                // Planned for all its rows, as the statement alone would be, rather than for a
                // quick first tenth.
                try await statements.run { try await connection.execute("SET LOCAL cursor_tuple_fraction = 1", logger: logger) }
                let declare = PostgresQuery(unsafeSQL: "DECLARE \(CursorRows.name) NO SCROLL CURSOR FOR " + query.sql, binds: query.binds)
                try await statements.run { try await connection.execute(declare, logger: logger) }
                let result = try await body(rows)
                await rows.waitForFetches()
                try await statements.run { try await connection.execute("COMMIT", logger: logger) }
                return result
            } catch {
                await rows.waitForFetches()
                do {
                    try await statements.run { try await connection.execute("ROLLBACK", logger: logger) }
                } catch {
                    // Never back into the pool inside a transaction.
                    try? await connection.close()
                }
                throw error
            }
        }
    }
}

/// Sends statements on one connection, one at a time, and gives a statement up as soon as the
/// connection closes under it.
///
/// PostgresNIO 1.33.2 waits for ever for a statement sent on a connection that has closed: the
/// statement never reaches the closed channel's handler, which would fail it. A connection can
/// close between any check and the send, so the check is not enough; a statement whose
/// connection closes is answered `DatabaseUnavailable` at once and left to wind down on its own.
final class StatementGuard: Sendable {
    private let connection: PostgresConnection
    /// Whether the connection has closed, and what fails the statement under way.
    private let state = NIOLockedValueBox<(closed: Bool, fail: (@Sendable () -> Void)?)>((false, nil))

    init(_ connection: PostgresConnection) {
        self.connection = connection
        // One callback for all the statements; it holds only this guard's small state.
        connection.closeFuture.whenComplete { [state] _ in
            let fail = state.withLockedValue { state in
                state.closed = true
                defer { state.fail = nil }
                return state.fail
            }
            fail?()
        }
    }

    @discardableResult
    func run<Value: Sendable>(_ statement: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let pending = NIOLockedValueBox<CheckedContinuation<Value, any Error>?>(nil)
        let finish: @Sendable (Swift.Result<Value, any Error>) -> Void = { result in
            let continuation = pending.withLockedValue { continuation in
                defer { continuation = nil }
                return continuation
            }
            continuation?.resume(with: result)
        }
        return try await withCheckedThrowingContinuation { continuation in
            pending.withLockedValue { $0 = continuation }
            let closed = state.withLockedValue { state in
                if !state.closed { state.fail = { finish(.failure(DatabaseUnavailable())) } }
                return state.closed
            }
            if closed || connection.isClosed {
                finish(.failure(DatabaseUnavailable()))
                return
            }
            Task {
                do {
                    finish(.success(try await statement()))
                } catch {
                    finish(.failure(error))
                }
            }
        }
    }
}

/// The rows of the cursor `Database.withCursor` opened, in batches fetched as they are read.
/// It is read once: a second iterator would go on from wherever the cursor stands.
public final class CursorRows: AsyncSequence, Sendable {
    public typealias Element = PostgresRow
    public typealias Failure = any Error

    static let name = "kaoping_rows"
    /// How many batches are read ahead of the one being read: the database works on the next
    /// ones while the rows before are written out.
    static let readAhead = 2

    let connection: PostgresConnection
    let statements: StatementGuard
    let batchSize: Int
    let logger: Logger
    /// The fetch started last, if any, which waits for those before it: the transaction ends
    /// only after it.
    private let pending = Mutex<Task<[PostgresRow], any Error>?>(nil)

    init(connection: PostgresConnection, statements: StatementGuard, batchSize: Int, logger: Logger) {
        self.connection = connection
        self.statements = statements
        self.batchSize = Swift.max(1, batchSize)
        self.logger = logger
    }

    /// Starts reading a batch, whole, whatever the reader of the rows is doing: the batch after
    /// the one the last call started, its statement sent once that one's rows are in.
    fileprivate func fetch() -> Task<[PostgresRow], any Error> {
        pending.withLock { latest in
            let previous = latest
            let task = Task { [connection, statements, batchSize, logger] () async throws -> [PostgresRow] in
                if let previous, try await previous.value.count < batchSize { return [] }
                return try await statements.run {
                    var rows: [PostgresRow] = []
                    rows.reserveCapacity(batchSize)
                    for try await row in try await connection.query(
                        "FETCH FORWARD \(unescaped: String(batchSize)) FROM \(unescaped: Self.name)",
                        logger: logger
                    ) { rows.append(row) }
                    return rows
                }
            }
            latest = task
            return task
        }
    }

    fileprivate func waitForFetches() async {
        guard let task = pending.withLock({ $0 }) else { return }
        _ = try? await task.value
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let rows: CursorRows
        var batch: [PostgresRow] = []
        var index = 0
        /// The batches being read ahead, in order.
        var ahead: [Task<[PostgresRow], any Error>] = []
        var started = false

        public mutating func next() async throws -> PostgresRow? {
            if index == batch.count {
                if !started {
                    started = true
                    for _ in 0..<CursorRows.readAhead { ahead.append(rows.fetch()) }
                }
                guard !ahead.isEmpty else { return nil }
                batch = try await ahead.removeFirst().value
                index = 0
                // A short batch was the last.
                if batch.count == rows.batchSize { ahead.append(rows.fetch()) } else { ahead = [] }
                guard !batch.isEmpty else { return nil }
            }
            defer { index += 1 }
            return batch[index]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(rows: self)
    }
}
