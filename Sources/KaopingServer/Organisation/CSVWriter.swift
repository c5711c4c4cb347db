/// Writes CSV that Excel opens as intended.
enum CSVWriter {
    /// One record, CRLF-terminated. Fields with commas, quotes or line breaks are quoted; a field
    /// starting with = + - @ (or a tab or carriage return) gets a leading apostrophe so that a
    /// spreadsheet shows it as text instead of running it as a formula.
    static func row(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    static func field(_ value: String) -> String {
        var text = value
        if let first = text.first, "=+-@\t\r".contains(first) { text = "'" + text }
        if text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return text
    }
}
