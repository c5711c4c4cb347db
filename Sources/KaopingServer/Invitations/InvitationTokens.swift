import Crypto
import Foundation

/// Invitation tokens: derived from a server secret and the invitation's id, so that the
/// database holds only their hashes and yet administrators can print the links again.
///
/// token = base64url(HMAC-SHA256(secret, invitation id))[..22]  (132 bits)
/// stored = SHA-256(token)
///
/// Someone holding the database sees invitation ids and token hashes, and can neither compute
/// a token (no secret) nor reverse a hash.
public struct InvitationTokens: Sendable {
    let key: SymmetricKey

    public init(secret: [UInt8]) {
        self.key = SymmetricKey(data: secret)
    }

    public func token(for invitation: UUID) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(invitation.uuidString.lowercased().utf8), using: key)
        return String(Self.base64URL(Data(mac)).prefix(22))
    }

    /// A visit code (one per person served at a window): the same construction under its own
    /// label, so that no visit code can ever equal an invitation token.
    public func visitCode(for id: UUID) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("visit:\(id.uuidString.lowercased())".utf8), using: key)
        return String(Self.base64URL(Data(mac)).prefix(22))
    }

    /// An objection's status link (`/o/{key}`), derived from the submission key of the form that
    /// filed it under its own label: the same form sent again after a lost answer leads to the
    /// same link, and the database, holding the submission key, cannot give it (128 bits, hex).
    public func objectionStatusKey(submissionKey: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("objection:\(submissionKey)".utf8), using: key)
        return Hex.string(Array(mac.prefix(16)))
    }

    /// The letters and digits of a short code: no 0/O, 1/I/L to mistake for each other.
    static let shortCodeAlphabet = Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ")

    /// A code to type instead of scanning: ten characters (49 bits) in two groups, "7KQ2M-XR9TB",
    /// derived under its own label. Guessing one is throttled per address; at 10 tries an hour
    /// and 10,000 live codes, a guess succeeds about once in 56,000 years.
    public func shortCode(for invitation: UUID) -> String {
        let mac = Array(HMAC<SHA256>.authenticationCode(for: Data("short:\(invitation.uuidString.lowercased())".utf8), using: key))
        let characters = (0..<10).map { index in Self.shortCodeAlphabet[Int(mac[index]) % Self.shortCodeAlphabet.count] }
        return String(characters[0..<5]) + "-" + String(characters[5..<10])
    }

    /// A typed short code as stored: capitals, without spaces or dashes; nil if it cannot be one.
    public static func normalisedShortCode(_ typed: String) -> String? {
        let kept = typed.uppercased().filter { !" -_\u{3000}－".contains($0) }
        guard kept.count == 10, kept.allSatisfy({ shortCodeAlphabet.contains($0) }) else { return nil }
        return kept
    }

    public static func hash(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(token.utf8)))
    }

    public static func isWellFormed(_ token: String) -> Bool {
        token.count == 22 && token.allSatisfy { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII || $0 == "-" || $0 == "_" }
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Reads the secret file, creating it (32 random bytes, owner-only) on first use.
    public static func loadSecret(path: String) throws -> [UInt8] {
        if let data = FileManager.default.contents(atPath: path), data.count >= 32 { return Array(data) }
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        guard FileManager.default.createFile(atPath: path, contents: Data(secret), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown)
        }
        return secret
    }
}
