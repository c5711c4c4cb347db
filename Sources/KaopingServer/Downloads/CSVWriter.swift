/// Writes CSV that Excel opens as intended.
enum CSVWriter {
    /// A whole table: UTF-8 with a byte-order mark (so that Excel on Chinese Windows reads it as
    /// UTF-8), the header, then each row as `row` writes it.
    static func document(header: [String], rows: some Sequence<[TableCell]>) -> String {
        var csv = "\u{FEFF}" + row(header)
        for cells in rows { csv += row(cells) }
        return csv
    }

    static func row(_ cells: [TableCell]) -> String {
        cells.map { field($0.text) }.joined(separator: ",") + "\r\n"
    }

    /// One record, CRLF-terminated. Fields with commas, quotes or line breaks are quoted; a field
    /// starting with = + - @ (or a tab or carriage return) gets a leading apostrophe so that a
    /// spreadsheet shows it as text instead of running it as a formula.
    static func row(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    static func field(_ value: String) -> String {
        // Byte by byte: these characters are all ASCII, and comparing characters would break
        // every field into graphemes (an export writes millions of fields). It also sees the
        // line break in "\r\n", which is one character but two bytes.
        var text = value
        if let first = text.utf8.first, startsFormula(first) { text = "'" + text }
        if text.utf8.contains(where: needsQuotes) {
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return text
    }

    private static func startsFormula(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "=") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "@")
            || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    private static func needsQuotes(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }
}

/// CSV rows gathered into pieces of about `size` bytes, each handed back as it fills: what a
/// streamed download sends, so that an export of any size holds one piece at a time.
struct CSVPieces {
    private var piece: String
    private let size: Int

    /// The first piece starts with the byte-order mark Excel needs to read UTF-8, and `header`.
    init(header: [String], size: Int = 64 * 1024) {
        piece = "\u{FEFF}" + CSVWriter.row(header)
        self.size = size
    }

    /// Adds a row; returns a piece to send when one is full.
    mutating func append(_ cells: [TableCell]) -> String? {
        piece += CSVWriter.row(cells)
        guard piece.utf8.count >= size else { return nil }
        defer { piece = "" }
        return piece
    }

    /// Adds a line that `write` makes of fields already escaped with `CSVWriter.field` and
    /// joined by commas, straight into the piece; returns a piece to send when one is full.
    mutating func appendLine(_ write: (inout String) -> Void) -> String? {
        write(&piece)
        piece += "\r\n"
        guard piece.utf8.count >= size else { return nil }
        let full = piece
        // Room for a whole piece from the start, rather than growing it line by line.
        piece = String()
        piece.reserveCapacity(size + size / 4)
        return full
    }

    /// What is left to send, if anything.
    mutating func rest() -> String? {
        defer { piece = "" }
        return piece.isEmpty ? nil : piece
    }
}
