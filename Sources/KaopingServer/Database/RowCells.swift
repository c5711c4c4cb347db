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

    /// Passes over `count` cells without decoding them.
    mutating func skip(_ count: Int) throws {
        for _ in 0..<count {
            guard cells.next() != nil else { throw ShortRow() }
        }
    }

    mutating func next<T: PostgresDecodable>(_ type: T.Type) throws -> T {
        guard let cell = cells.next() else { throw ShortRow() }
        return try cell.decode(T.self)
    }

    /// An `int` or `bigint` cell that is not NULL, read straight from its binary form (the
    /// generic decoding looks the type up on every call; a round's tallies are 400,000 such
    /// cells).
    mutating func nextInteger() throws -> Int {
        guard let cell = cells.next() else { throw ShortRow() }
        guard cell.format == .binary, var bytes = cell.bytes else { return try cell.decode(Int.self) }
        switch (cell.dataType, bytes.readableBytes) {
        case (.int4, 4): return Int(bytes.readInteger(as: Int32.self)!)
        case (.int8, 8): return Int(bytes.readInteger(as: Int64.self)!)
        default: return try cell.decode(Int.self)
        }
    }

    /// A `float8[]` cell without NULLs. Arrays of numbers are read straight from PostgreSQL's
    /// binary array format here: PostgresNIO's generic array decoding was half the time of
    /// reading a round's kept tallies (six arrays a row, 50,000 rows).
    mutating func nextDoubles() throws -> [Double] {
        try nextNumbers(of: .float8, width: 8) { Double(bitPattern: $0.readInteger(as: UInt64.self)!) }
    }

    /// A `bigint[]` cell without NULLs.
    mutating func nextInt64s() throws -> [Int64] {
        try nextNumbers(of: .int8, width: 8) { $0.readInteger(as: Int64.self)! }
    }

    /// An `int[]` cell without NULLs.
    mutating func nextInt32s() throws -> [Int32] {
        try nextNumbers(of: .int4, width: 4) { $0.readInteger(as: Int32.self)! }
    }

    /// A `text[]` cell without NULLs.
    mutating func nextStrings() throws -> [String] {
        guard let cell = cells.next() else { throw ShortRow() }
        guard cell.format == .binary, var bytes = cell.bytes,
            let dimensions = bytes.readInteger(as: Int32.self), let hasNulls = bytes.readInteger(as: Int32.self),
            let type = bytes.readInteger(as: UInt32.self), type == PostgresDataType.text.rawValue, hasNulls == 0, dimensions <= 1
        else { return try cell.decode([String].self) }
        guard dimensions == 1 else { return [] }
        guard let count = bytes.readInteger(as: Int32.self), bytes.readInteger(as: Int32.self) != nil, count >= 0 else {
            throw UnexpectedArray()
        }
        var strings: [String] = []
        strings.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let length = bytes.readInteger(as: Int32.self), length >= 0, let string = bytes.readString(length: Int(length)) else {
                throw UnexpectedArray()
            }
            strings.append(string)
        }
        return strings
    }

    struct UnexpectedArray: Error {}

    /// A one-dimensional array of fixed-width numbers: a header (dimensions, a flag for NULLs,
    /// the element type), each dimension's length and lower bound, then each element's length
    /// and bytes. Anything else (another element type, NULL elements) goes through PostgresNIO.
    private mutating func nextNumbers<Number: PostgresArrayDecodable>(
        of element: PostgresDataType,
        width: Int32,
        _ read: (inout ByteBuffer) -> Number
    ) throws -> [Number] where Number._DecodableType == Number {
        guard let cell = cells.next() else { throw ShortRow() }
        guard cell.format == .binary, var bytes = cell.bytes,
            let dimensions = bytes.readInteger(as: Int32.self), let hasNulls = bytes.readInteger(as: Int32.self),
            let type = bytes.readInteger(as: UInt32.self), type == element.rawValue, hasNulls == 0, dimensions <= 1
        else { return try cell.decode([Number].self) }
        guard dimensions == 1 else { return [] }
        guard let count = bytes.readInteger(as: Int32.self), bytes.readInteger(as: Int32.self) != nil, count >= 0,
            bytes.readableBytes == Int(count) * Int(4 + width)
        else { throw UnexpectedArray() }
        var numbers: [Number] = []
        numbers.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard bytes.readInteger(as: Int32.self) == width else { throw UnexpectedArray() }
            numbers.append(read(&bytes))
        }
        return numbers
    }
}
