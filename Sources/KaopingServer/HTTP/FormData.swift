import Foundation
import Hummingbird

/// The fields of an `application/x-www-form-urlencoded` body, in the order they were sent.
public struct FormData: Sendable {
    public let fields: [(name: String, value: String)]

    public init(fields: [(name: String, value: String)]) {
        self.fields = fields
    }

    public init(encoded text: String) {
        var fields: [(String, String)] = []
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = FormData.decode(parts[0])
            let value = parts.count > 1 ? FormData.decode(parts[1]) : ""
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

    private static func decode(_ part: Substring) -> String {
        let spaced = part.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

extension Request {
    /// Reads a form body. A body of another type reads as empty rather than failing, so that
    /// the handler reports the missing fields in the usual way.
    mutating func formData(context: some RequestContext) async throws -> FormData {
        let contentType = headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else { return FormData(fields: []) }
        let buffer = try await collectBody(upTo: context.maxUploadSize)
        return FormData(encoded: String(buffer: buffer))
    }
}
