import PostgresNIO

/// A row's cells read one after another, in the order of the statement's columns: for rows
/// read by the million or with many columns, cheaper than decoding a tuple (generic over every
/// column) or random access (which copies the row's cells into an array first).
struct RowCells {
    struct ShortRow: Error {}

    private var cells: PostgresRow.Iterator

    init(_ row: PostgresRow) {
        cells = row.makeIterator()
    }

    mutating func next<T: PostgresDecodable>(_ type: T.Type) throws -> T {
        guard let cell = cells.next() else { throw ShortRow() }
        return try cell.decode(T.self)
    }
}
