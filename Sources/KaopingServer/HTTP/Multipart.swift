import Foundation
import Hummingbird

/// A `multipart/form-data` body (file uploads, RFC 7578).
///
/// Read by this small parser rather than MultipartKit: its parser traps (a Swift runtime
/// failure that ends the process) on an empty boundary and on a byte above 127 in a part's
/// header name, and these bodies come from anyone who can reach the sign-in page. Here every
/// malformation is a `nil`, answered with 400.
struct MultipartForm {
    struct Part {
        let headers: [(name: String, value: String)]
        let body: ArraySlice<UInt8>

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        /// A parameter of `Content-Disposition` (`name`, `filename`), unquoted.
        func disposition(_ parameter: String) -> String? {
            guard let value = header("Content-Disposition") else { return nil }
            for piece in value.split(separator: ";").dropFirst() {
                let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2, pair[0].lowercased() == parameter else { continue }
                var text = Substring(pair[1])
                if text.count >= 2 && text.hasPrefix("\"") && text.hasSuffix("\"") { text = text.dropFirst().dropLast() }
                return String(text)
            }
            return nil
        }
    }

    let parts: [String: Part]

    /// Reads the body up to `limit` bytes; anything that is not well-formed multipart is 400.
    static func read(_ request: inout Request, limit: Int) async throws -> MultipartForm {
        guard let boundary = boundary(request.headers[.contentType]) else { throw AppError.malformedBody }
        let buffer = try await request.collectBody(upTo: limit)
        guard let parts = parse(Array(buffer.readableBytesView), boundary: boundary) else { throw AppError.malformedBody }
        return MultipartForm(parts: parts)
    }

    /// The parts by field name (the first of a repeated name); `nil` when the body is not
    /// well-formed: no delimiter, a part without its blank line, a header line that is not
    /// `Name: value` in ASCII and UTF-8, or no closing delimiter.
    static func parse(_ bytes: [UInt8], boundary: String) -> [String: Part]? {
        let delimiter = Array("--\(boundary)".utf8)
        let crlf: [UInt8] = [13, 10]
        // The first delimiter starts the body or follows a preamble's line break.
        guard var position = find(delimiter, in: bytes, from: 0), position == 0 || bytes[..<position].suffix(2).elementsEqual(crlf)
        else { return nil }
        var parts: [String: Part] = [:]
        while true {
            position += delimiter.count
            if bytes[position...].starts(with: [45, 45]) { return parts }  // "--": the closing delimiter
            // Transport padding, then the line break that ends the delimiter line.
            while position < bytes.count && (bytes[position] == 32 || bytes[position] == 9) { position += 1 }
            guard bytes[position...].starts(with: crlf) else { return nil }
            position += 2
            // A part with no headers has its blank line at once.
            guard let headerEnd = bytes[position...].starts(with: crlf) ? position - 2 : find(crlf + crlf, in: bytes, from: position)
            else { return nil }
            var headers: [(name: String, value: String)] = []
            if headerEnd > position {
                for line in bytes[position..<headerEnd].split(separator: 13, omittingEmptySubsequences: false) {
                    let line = line.first == 10 ? line.dropFirst() : line
                    guard let colon = line.firstIndex(of: 58), colon > line.startIndex,
                        line[..<colon].allSatisfy(isTokenByte),
                        let value = String(validating: line[(colon + 1)...], as: UTF8.self)
                    else { return nil }
                    headers.append((String(decoding: line[..<colon], as: UTF8.self), value.trimmingCharacters(in: .whitespaces)))
                }
            }
            let bodyStart = headerEnd + 4
            guard bodyStart <= bytes.count, let next = find(crlf + delimiter, in: bytes, from: bodyStart) else { return nil }
            let part = Part(headers: headers, body: bytes[bodyStart..<next])
            if let name = part.disposition("name"), parts[name] == nil { parts[name] = part }
            position = next + 2
        }
    }

    /// RFC 9110 token characters, the only ones a header name may have.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, start <= bytes.count, needle.count <= bytes.count else { return nil }
        var index = start
        let last = bytes.count - needle.count
        while index <= last {
            if bytes[index] == first && bytes[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    /// Whether the body claims to be multipart at all (its boundary may still be unusable).
    static func isMultipart(_ contentType: String?) -> Bool {
        contentType?.lowercased().hasPrefix("multipart/form-data") ?? false
    }

    /// The boundary of a `multipart/form-data` content type, or `nil` when there is none or it
    /// is not one RFC 2046 allows. MultipartKit's parser traps on an empty boundary, so nothing
    /// that is not a valid boundary may ever reach it.
    static func boundary(_ contentType: String?) -> String? {
        guard let contentType, isMultipart(contentType) else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2 && pair[0].lowercased() == "boundary" {
                var value = Substring(pair[1])
                if value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
                return isValidBoundary(value) ? String(value) : nil
            }
        }
        return nil
    }

    /// RFC 2046 §5.1.1: 1 to 70 characters from a small set, not ending in a space.
    static func isValidBoundary(_ value: Substring) -> Bool {
        guard (1...70).contains(value.utf8.count), value.last != " " else { return false }
        return value.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                return true
            default:
                return Array("'()+_,-./:=? ".utf8).contains(byte)
            }
        }
    }

    func text(_ name: String) -> String? {
        parts[name].map { String(decoding: $0.body, as: UTF8.self) }
    }

    func bytes(_ name: String) -> [UInt8]? {
        parts[name].map { Array($0.body) }
    }

    /// The file name the browser gave the upload, if any.
    func fileName(_ name: String) -> String? {
        parts[name]?.disposition("filename")
    }
}
