import HummingbirdBcrypt
import NIOPosix

/// Bcrypt hashing on NIO's thread pool: a hash takes tens of milliseconds of CPU and must not
/// stall the event loops that serve other requests.
public struct PasswordHasher: Sendable {
    public let cost: UInt8
    /// A hash of a random password nobody knows, checked when the username is unknown so that
    /// the answer takes as long as for a real account and does not reveal which names exist.
    public let decoyHash: String

    public init(cost: UInt8 = 12) {
        self.cost = cost
        self.decoyHash = Bcrypt.hash(AccountRules.generatePassword(), cost: cost)
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, against hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
