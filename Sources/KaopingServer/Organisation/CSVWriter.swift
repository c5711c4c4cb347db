/// Writes CSV that Excel opens as intended.
enum CSVWriter {
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
