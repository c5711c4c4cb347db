import Foundation
import PostgresNIO
import Testing

@testable import KaopingServer

@Suite("Rows read through a cursor", .timeLimit(.minutes(1)))
struct CursorRowsTests {
    func numbers(_ count: Int, batchSize: Int, database: Database) async throws -> [Int] {
        try await database.withCursor("SELECT g FROM generate_series(1, \(count)) g ORDER BY g", batchSize: batchSize, logger: TestApp.logger) {
            rows in
            var read: [Int] = []
            for try await row in rows { read.append(try row.decode(Int.self)) }
            return read
        }
    }

    /// Every row once and in order, whether the rows end before, on or after a batch's end
    /// (batches of three; batches are read ahead while the ones before are read).
    @Test func everyRowOnceAndInOrderAroundTheBatchesEnds() async throws {
        try await TestApp.run { _, harness in
            for count in [0, 1, 2, 3, 4, 6, 7, 20] {
                let read = try await numbers(count, batchSize: 3, database: harness.database)
                #expect(read == Array(stride(from: 1, through: count, by: 1)), "\(count) rows")
            }
        }
    }

    func openTransactions(_ database: Database) async throws -> Int {
        try await database.query(
            "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
        ).first!.decode(Int.self)
    }

    struct StopReading: Error {}

    /// A reader that stops (a client gone) ends the cursor's transaction: no connection goes back
    /// to the pool inside it.
    @Test func aReaderThatStopsLeavesNoTransactionOpen() async throws {
        try await TestApp.run { _, harness in
            await #expect(throws: StopReading.self) {
                try await harness.database.withCursor("SELECT g FROM generate_series(1, 50) g", batchSize: 4, logger: TestApp.logger) { rows in
                    var read = 0
                    for try await _ in rows {
                        read += 1
                        if read == 6 { throw StopReading() }
                    }
                }
            }
            let open = try await openTransactions(harness.database)
            #expect(open == 0)
            let next = try await numbers(5, batchSize: 4, database: harness.database)
            #expect(next == [1, 2, 3, 4, 5])
        }
    }

    /// The server gone between two batches ends the reading with an error, rather than a
    /// statement sent on the closed connection waiting for ever (the whole run then stalls),
    /// and the pool serves the next reader.
    @Test func aServerGoneBetweenBatchesEndsTheReadingWithAnError() async throws {
        try await TestApp.run { _, harness in
            let database = harness.database
            var read = 0
            await #expect(throws: (any Error).self) {
                try await database.withCursor("SELECT g FROM generate_series(1, 100) g", batchSize: 2, logger: TestApp.logger) { rows in
                    for try await _ in rows {
                        read += 1
                        guard read == 1 else { continue }
                        try await database.query(
                            """
                            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                            WHERE datname = current_database() AND query LIKE 'FETCH FORWARD%'
                            """
                        )
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
            }
            // What was read ahead before the server went (the batch being read and two more of
            // two rows), and no more.
            #expect(read >= 1 && read <= 2 * (1 + CursorRows.readAhead))
            let next = try await numbers(3, batchSize: 2, database: database)
            #expect(next == [1, 2, 3])
        }
    }
}
