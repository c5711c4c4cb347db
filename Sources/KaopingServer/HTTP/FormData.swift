import Foundation
import Hummingbird

/// The fields of an `application/x-www-form-urlencoded` body, in the order they were sent.
public struct FormData: Sendable {
    public let fields: [(name: String, value: String)]

    public init(fields: [(name: String, value: String)]) {
        self.fields = fields
    }

    /// Decodes a body strictly: bytes that are not UTF-8, or percent-escapes that are cut short
    /// or do not decode to UTF-8, make the whole body malformed rather than silently altered.
    /// Works on bytes: this runs for every answer a respondent sends.
    public init(encoded bytes: [UInt8]) throws(AppError) {
        var fields: [(String, String)] = []
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "&") { end += 1 }
            if end > start {
                var equals = start
                while equals < end && bytes[equals] != UInt8(ascii: "=") { equals += 1 }
                let name = try FormData.decode(bytes[start..<equals])
                let value = equals < end ? try FormData.decode(bytes[(equals + 1)..<end]) : ""
                fields.append((name, value))
            }
            start = end + 1
        }
        self.fields = fields
    }

    public subscript(name: String) -> String? {
        fields.first { $0.name == name }?.value
    }

    public func all(_ name: String) -> [String] {
        fields.filter { $0.name == name }.map(\.value)
    }

    /// The fields without the page's own (`_csrf`, `_key`, …), for checking against a form.
    public var answerFields: [(name: String, value: String)] {
        fields.filter { !$0.name.hasPrefix("_") }
    }

    private static func decode(_ part: ArraySlice<UInt8>) throws(AppError) -> String {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(part.count)
        var index = part.startIndex
        while index < part.endIndex {
            let byte = part[index]
            switch byte {
            case UInt8(ascii: "+"):
                decoded.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard index + 2 < part.endIndex, let high = hexValue(part[index + 1]), let low = hexValue(part[index + 2]) else {
                    throw .malformedBody
                }
                decoded.append(high << 4 | low)
                index += 2
            case 0:
                throw .malformedBody
            default:
                decoded.append(byte)
            }
            index += 1
        }
        // NUL is never part of a real answer, and PostgreSQL text cannot hold it.
        guard !decoded.contains(0), let text = String(validating: decoded, as: UTF8.self) else { throw .malformedBody }
        return text
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension Request {
    /// Reads a form body, up to the context's size limit (413 beyond it). A body of another
    /// type reads as empty, so the handler reports the missing fields in the usual way.
    mutating func formData(context: some RequestContext) async throws -> FormData {
        let contentType = headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else { return FormData(fields: []) }
        let buffer = try await collectBody(upTo: context.maxUploadSize)
        return try FormData(encoded: Array(buffer.readableBytesView))
    }
}
