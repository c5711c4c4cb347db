import Logging
import PostgresNIO
import Synchronization

extension Database {
    /// Runs `query` through a cursor in a read-only transaction and hands `body` its rows,
    /// fetched `batchSize` at a time, each batch read whole as it arrives (the next one while
    /// `body` works through the one before).
    ///
    /// For long reads whose reader waits on something else: a download written to a slow
    /// client, a workbook being written. PostgresNIO 1.33.2 stops the whole process on a
    /// precondition in its row stream when the server goes away while a statement's rows wait
    /// for their reader (docs/operations.md, "A crash the drill found"); here no statement's
    /// rows ever wait on `body`, and between batches the connection is idle.
    public func withCursor<Result>(
        _ query: PostgresQuery,
        batchSize: Int = 10_000,
        logger: Logger,
        _ body: (CursorRows) async throws -> Result
    ) async throws -> Result {
        try await withStreamingConnection { connection in
            try await connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            let rows = CursorRows(connection: connection, batchSize: batchSize, logger: logger)
            do {
                // Planned for all its rows, as the statement alone would be, rather than for a
                // quick first tenth.
                try await connection.execute("SET LOCAL cursor_tuple_fraction = 1", logger: logger)
                try await connection.execute(
                    PostgresQuery(unsafeSQL: "DECLARE \(CursorRows.name) NO SCROLL CURSOR FOR " + query.sql, binds: query.binds),
                    logger: logger
                )
                let result = try await body(rows)
                await rows.settle()
                try CursorRows.checkOpen(connection)
                try await connection.execute("COMMIT", logger: logger)
                return result
            } catch {
                await rows.settle()
                do {
                    try CursorRows.checkOpen(connection)
                    try await connection.execute("ROLLBACK", logger: logger)
                } catch {
                    // Never back into the pool inside a transaction.
                    try? await connection.close()
                }
                throw error
            }
        }
    }
}

/// The rows of the cursor `Database.withCursor` opened, in batches fetched as they are read.
public final class CursorRows: AsyncSequence, Sendable {
    public typealias Element = PostgresRow
    public typealias Failure = any Error

    static let name = "kaoping_rows"
    /// How many batches are read ahead of the one being read: the database works on the next
    /// ones while the rows before are written out.
    static let readAhead = 2

    let connection: PostgresConnection
    let batchSize: Int
    let logger: Logger
    /// The fetch under way, if any: the transaction ends only after it.
    private let pending = Mutex<Task<[PostgresRow], any Error>?>(nil)

    init(connection: PostgresConnection, batchSize: Int, logger: Logger) {
        self.connection = connection
        self.batchSize = Swift.max(1, batchSize)
        self.logger = logger
    }

    /// Starts reading a batch, whole, whatever the reader of the rows is doing: the batch after
    /// the one the last call started, its statement sent once that one's rows are in.
    fileprivate func fetch() -> Task<[PostgresRow], any Error> {
        pending.withLock { latest in
            let previous = latest
            let task = Task { [connection, batchSize, logger] () async throws -> [PostgresRow] in
                if let previous, try await previous.value.count < batchSize { return [] }
                try Self.checkOpen(connection)
                var rows: [PostgresRow] = []
                rows.reserveCapacity(batchSize)
                for try await row in try await connection.query(
                    "FETCH FORWARD \(unescaped: String(batchSize)) FROM \(unescaped: Self.name)",
                    logger: logger
                ) { rows.append(row) }
                return rows
            }
            latest = task
            return task
        }
    }

    /// PostgresNIO 1.33.2 waits forever for a statement sent on a connection that has closed
    /// (the statement never reaches the closed channel's handler, which would fail it). Between
    /// batches the server may have gone: the next statement is not sent then.
    static func checkOpen(_ connection: PostgresConnection) throws {
        if connection.isClosed { throw DatabaseUnavailable() }
    }

    fileprivate func settle() async {
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
