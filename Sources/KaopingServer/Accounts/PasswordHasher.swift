import HummingbirdBcrypt
import NIOPosix
import Synchronization

/// Bcrypt hashing on NIO's thread pool: a hash takes tens of milliseconds of CPU and must not
/// stall the event loops that serve other requests.
public struct PasswordHasher: Sendable {
    public let cost: UInt8
    private let decoy: Decoy

    public init(cost: UInt8 = 12) {
        self.cost = cost
        self.decoy = Decoy(cost: cost)
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` is the one `hash` was made of. Without a hash (the username is
    /// unknown) a decoy is checked instead, so that the answer takes as long as for a real
    /// account and does not reveal which names exist; it is never a match.
    public func verify(_ password: String, against hash: String?) async throws -> Bool {
        let decoy = self.decoy
        return try await NIOThreadPool.singleton.runIfActive {
            guard let hash else {
                _ = Bcrypt.verify(password, hash: decoy.hash())
                return false
            }
            return Bcrypt.verify(password, hash: hash)
        }
    }

    /// A hash of a random password nobody knows, made on the first check of an unknown name
    /// rather than when the hasher is made: every command builds one, and a hash at the
    /// default cost is a fifth of a second of CPU.
    final class Decoy: Sendable {
        private let cost: UInt8
        private let made = Mutex<String?>(nil)

        init(cost: UInt8) { self.cost = cost }

        func hash() -> String {
            made.withLock { made in
                if let made { return made }
                let hash = Bcrypt.hash(AccountRules.generatePassword(), cost: cost)
                made = hash
                return hash
            }
        }
    }
}
