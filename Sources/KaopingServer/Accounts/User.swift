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

    public var description: String {
        switch self {
        case .invalidUsername: "a username has 2 to 64 letters, digits or . _ - @"
        case .passwordTooShort: "a password has at least \(AccountRules.minimumPasswordLength) characters"
        case .usernameTaken(let name): "the username '\(name)' is already taken"
        case .viewerNeedsBranch: "a viewer account needs --branch CODE: viewers see one branch only"
        case .unknownBranch(let code): "no branch has the code '\(code)'"
        case .unknownUser(let name): "no user is called '\(name)'"
        }
    }
}
