import Foundation

public enum UserRole: String, Sendable, Codable, CaseIterable {
    /// 机关党委 staff: everything.
    case admin
    /// Organisation evaluators (考评组): fill score sheets for assigned branches.
    case evaluator
    /// Branch secretaries: read their own branch's results.
    case viewer
}

public struct User: Sendable, Equatable {
    public let id: UUID
    public let username: String
    public let displayName: String
    public let role: UserRole
    public let branchID: UUID?
    public let passwordHash: String
    public let active: Bool
    /// Set when an administrator chose the password (a new account, a reset): the person
    /// changes it before they can do anything else.
    public let mustChangePassword: Bool
}

/// An account as the accounts page lists it.
public struct AccountListing: Sendable {
    public let user: User
    public let branchCode: String?
    public let branchName: String?
    public let lastSignIn: Date?
}

/// Rules for usernames and passwords, shared by the CLI and the web pages.
public enum AccountRules {
    public static let minimumPasswordLength = 10

    public static func validateUsername(_ username: String) -> AccountError? {
        let allowed = username.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) || "._-@".unicodeScalars.contains($0)
        }
        guard (2...64).contains(username.count), allowed else { return .invalidUsername }
        return nil
    }

    /// A username for a branch's viewer account made from the branch code: the characters a
    /// username may hold, the rest as "-", so `secretary-b01` for b01.
    public static func viewerUsername(branchCode: String) -> String {
        let kept = String(
            branchCode.unicodeScalars.map { scalar in
                CharacterSet.alphanumerics.contains(scalar) || "._-@".unicodeScalars.contains(scalar) ? Character(scalar) : "-"
            }
        )
        return String(("secretary-" + kept).prefix(64))
    }

    public static func validatePassword(_ password: String) -> AccountError? {
        password.count >= minimumPasswordLength ? nil : .passwordTooShort
    }

    /// A password a person can copy without confusing 0/O or 1/l.
    public static func generatePassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<16).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return String(characters[0..<4]) + "-" + String(characters[4..<8]) + "-" + String(characters[8..<12]) + "-" + String(characters[12..<16])
    }
}

public enum AccountError: Error, Equatable, CustomStringConvertible {
    case invalidUsername
    case passwordTooShort
    case usernameTaken(String)
    case viewerNeedsBranch
    case unknownBranch(String)
    case unknownUser(String)
    case lastAdministrator

    public var description: String {
        switch self {
        case .invalidUsername: "a username has 2 to 64 letters, digits or . _ - @"
        case .passwordTooShort: "a password has at least \(AccountRules.minimumPasswordLength) characters"
        case .usernameTaken(let name): "the username '\(name)' is already taken"
        case .viewerNeedsBranch: "a viewer account needs --branch CODE: viewers see one branch only"
        case .unknownBranch(let code): "no branch has the code '\(code)'"
        case .unknownUser(let name): "no user is called '\(name)'"
        case .lastAdministrator: "the last active administrator cannot be disabled"
        }
    }
}
