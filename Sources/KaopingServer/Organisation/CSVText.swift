import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Turns the bytes of an uploaded CSV file into text, whatever Excel saved it as.
///
/// Excel on Chinese Windows writes "CSV" in GB18030 (its code page 936 superset) and "CSV UTF-8"
/// with a byte-order mark; other tools write UTF-8 without one. Valid UTF-8 is taken as UTF-8
/// (GB18030 text of any length is almost never valid UTF-8); anything else is decoded as
/// GB18030 with the system's iconv.
public enum CSVText {
    public enum Encoding: String, Sendable {
        case utf8 = "UTF-8"
        case utf8WithBOM = "UTF-8 (BOM)"
        case gb18030 = "GB18030"
        /// Not text at all: an Excel workbook, read by `XLSXReader`.
        case workbook = "Excel (.xlsx)"
    }

    public struct DecodeError: Error, Equatable, CustomStringConvertible {
        public var description: String { "the file is neither UTF-8 nor GB18030 text" }
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> (text: String, encoding: Encoding) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            guard let text = String(validating: bytes.dropFirst(3), as: UTF8.self) else { throw DecodeError() }
            return (text, .utf8WithBOM)
        }
        if let text = String(validating: bytes, as: UTF8.self) { return (text, .utf8) }
        guard let text = iconvDecode(bytes, from: "GB18030") else { throw DecodeError() }
        return (text, .gb18030)
    }

    static func iconvDecode(_ bytes: [UInt8], from encoding: String) -> String? {
        guard let utf8 = convert(bytes, from: encoding, to: "UTF-8") else { return nil }
        return String(validating: utf8, as: UTF8.self)
    }

    static func convert(_ bytes: [UInt8], from source: String, to target: String) -> [UInt8]? {
        let converter = iconv_open(target, source)
        guard converter != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(converter) }
        var input = bytes
        var output = [UInt8](repeating: 0, count: bytes.count * 4 + 16)
        let produced: Int? = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inputBuffer.baseAddress)?.assumingMemoryBound(to: CChar.self)
                var inLeft = inputBuffer.count
                var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outputBuffer.baseAddress)?.assumingMemoryBound(to: CChar.self)
                var outLeft = outputBuffer.count
                if inLeft == 0 { return 0 }
                let result = iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                guard result != -1, inLeft == 0 else { return nil }
                return outputBuffer.count - outLeft
            }
        }
        guard let produced else { return nil }
        return Array(output.prefix(produced))
    }
}

/// RFC 4180 CSV: comma-separated, fields optionally in double quotes (which may hold commas,
/// line breaks and doubled quotes), CRLF or LF line ends. Each record remembers its line.
public enum CSVParser {
    public struct Record: Sendable, Equatable {
        public let line: Int
        public let fields: [String]
    }

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let line: Int
        public var description: String { "line \(line): a quoted field is not closed" }
    }

    public static func parse(_ text: String) throws(ParseError) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var characters = Array(text.unicodeScalars)
        if characters.last != "\n" { characters.append("\n") }
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if inQuotes {
                if character == "\"" {
                    if index + 1 < characters.count && characters[index + 1] == "\"" {
                        field.unicodeScalars.append("\"")
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if character == "\n" { line += 1 }
                    if character != "\r" || (index + 1 < characters.count && characters[index + 1] != "\n") {
                        field.unicodeScalars.append(character)
                    }
                }
            } else {
                switch character {
                case "\"" where field.isEmpty:
                    inQuotes = true
                case ",":
                    fields.append(field)
                    field = ""
                case "\r":
                    break
                case "\n":
                    fields.append(field)
                    field = ""
                    // Blank lines (Excel leaves some at the end) are not records.
                    if !(fields.count == 1 && fields[0].isEmpty) {
                        records.append(Record(line: recordLine, fields: fields))
                    }
                    fields = []
                    line += 1
                    recordLine = line
                default:
                    field.unicodeScalars.append(character)
                }
            }
            index += 1
        }
        if inQuotes { throw ParseError(line: recordLine) }
        return records
    }
}
