import Crypto
import Foundation

/// Seals a ballot while it waits in the ballot box, so that the transaction that burns an
/// invitation writes only ciphertext beside it: in the table, in the write-ahead log, in a
/// physical backup or on a replica (docs/privacy.md).
///
/// AES-256-GCM under a key derived from the server secret (the secret file, kept outside the
/// database) with HKDF-SHA-256 under its own label, so the ballot key is never an invitation
/// key. Each ballot is bound to its round and rater group: a sealed ballot copied into another
/// round's box does not open.
public struct BallotSeal: Sendable {
    private let key: SymmetricKey

    public init(secret: [UInt8]) {
        self.key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: secret),
            salt: Data("kaoping".utf8),
            info: Data("ballot box v1".utf8),
            outputByteCount: 32
        )
    }

    /// The ballot's content as nonce ‖ ciphertext ‖ tag; a fresh random nonce each time.
    public func seal(_ ballot: [UInt8], roundID: UUID, group: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(ballot, using: key, authenticating: Self.context(roundID: roundID, group: group))
        guard let combined = box.combined else { throw BallotSealError.cannotOpen }
        return Array(combined)
    }

    public func open(_ sealed: [UInt8], roundID: UUID, group: String) throws(BallotSealError) -> [UInt8] {
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            return Array(try AES.GCM.open(box, using: key, authenticating: Self.context(roundID: roundID, group: group)))
        } catch {
            throw .cannotOpen
        }
    }

    private static func context(roundID: UUID, group: String) -> Data {
        Data("\(roundID.uuidString.lowercased())/\(group)".utf8)
    }
}

public enum BallotSealError: Error, CustomStringConvertible {
    /// The ballot was sealed under another secret (the secret file changed while it waited),
    /// or its bytes were altered.
    case cannotOpen

    public var description: String {
        "a waiting ballot cannot be opened with this server's secret file: it was sealed under another secret, or altered;"
            + " restore the secret file the server used while the round was open (docs/privacy.md)"
    }
}
