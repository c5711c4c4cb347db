import Foundation
import Hummingbird
import MultipartKit
import NIOHTTP1

/// A `multipart/form-data` body (file uploads), read with MultipartKit.
struct MultipartForm {
    let parts: [String: MultipartPart]

    /// Reads the body up to `limit` bytes; anything that is not well-formed multipart is 400.
    static func read(_ request: inout Request, limit: Int) async throws -> MultipartForm {
        guard let boundary = boundary(request.headers[.contentType]) else { throw AppError.malformedBody }
        let buffer = try await request.collectBody(upTo: limit)
        guard let parts = parse(buffer, boundary: boundary) else { throw AppError.malformedBody }
        return MultipartForm(parts: parts)
    }

    /// The parts by field name; `nil` when the body is not well-formed.
    static func parse(_ buffer: ByteBuffer, boundary: String) -> [String: MultipartPart]? {
        let parser = MultipartParser(boundary: boundary)
        var parts: [String: MultipartPart] = [:]
        var headers = HTTPHeaders()
        var body = ByteBuffer()
        var complete = false
        parser.onHeader = { name, value in headers.add(name: name, value: value) }
        parser.onBody = { chunk in body.writeBuffer(&chunk) }
        parser.onPartComplete = {
            let part = MultipartPart(headers: headers, body: body)
            if let name = part.name, parts[name] == nil { parts[name] = part }
            headers = HTTPHeaders()
            body = ByteBuffer()
            complete = true
        }
        do {
            try parser.execute(buffer)
        } catch {
            return nil
        }
        return complete ? parts : nil
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
        parts[name].map { String(buffer: $0.body) }
    }

    func bytes(_ name: String) -> [UInt8]? {
        parts[name].map { Array($0.body.readableBytesView) }
    }

    /// The file name the browser gave the upload, if any.
    func fileName(_ name: String) -> String? {
        guard let disposition = parts[name]?.headers.first(name: "Content-Disposition") else { return nil }
        guard let range = disposition.range(of: "filename=\"") else { return nil }
        return String(disposition[range.upperBound...].prefix { $0 != "\"" })
    }
}
