import Foundation
import Hummingbird

/// The fields of an `application/x-www-form-urlencoded` body, in the order they were sent.
public struct FormData: Sendable {
    public let fields: [(name: String, value: String)]

    public init(fields: [(name: String, value: String)]) {
        self.fields = fields
    }

    /// Decodes a body strictly: bytes that are not UTF-8, or percent-escapes that do not decode
    /// to UTF-8, make the whole body malformed rather than silently altered.
    public init(encoded bytes: [UInt8]) throws(AppError) {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .malformedBody }
        var fields: [(String, String)] = []
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try FormData.decode(parts[0])
            let value = parts.count > 1 ? try FormData.decode(parts[1]) : ""
            fields.append((name, value))
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

    private static func decode(_ part: Substring) throws(AppError) -> String {
        let spaced = part.replacingOccurrences(of: "+", with: " ")
        guard spaced.contains("%") else { return spaced }
        guard let decoded = spaced.removingPercentEncoding else { throw .malformedBody }
        return decoded
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
