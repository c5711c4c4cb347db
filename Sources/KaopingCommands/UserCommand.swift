import ArgumentParser
import Foundation
import KaopingServer
import Logging

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage accounts.",
        subcommands: [AddUser.self]
    )
}

struct AddUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Create an account.",
        discussion: """
            The password is read from standard input (asked twice on a terminal), or generated \
            and printed with --generate-password. A password someone else has seen is a password \
            to hand over, so the account must choose its own at first sign-in; only a person \
            setting their own password says so with --own-password, and then it is kept. Example:
              echo 'a long secret' | kaoping user add --username zhang --role admin --own-password
            """
    )

    @Option(help: "Login name (letters, digits, . _ - @).")
    var username: String
    @Option(help: "admin, evaluator or viewer.")
    var role: String
    @Option(name: .customLong("display-name"), help: "Name shown in the interface (default: the username).")
    var displayName: String = ""
    @Option(help: "Branch code; required for the viewer role, which sees one branch only.")
    var branch: String?
    @Flag(name: .customLong("generate-password"), help: "Generate a password and print it instead of reading one.")
    var generatePassword = false
    @Flag(
        name: .customLong("own-password"),
        help: "The password is the account holder's own, typed by them: keep it (otherwise it must be changed at first sign-in)."
    )
    var ownPassword = false
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard let role = UserRole(rawValue: role) else { throw fail("--role must be admin, evaluator or viewer, not '\(self.role)'") }
        if let problem = AccountRules.validateUsername(username) { throw fail("--username: \(problem)") }
        if role == .viewer && branch == nil { throw fail(AccountError.viewerNeedsBranch.description) }
        if generatePassword && ownPassword { throw fail("a generated password is nobody's own: use --generate-password or --own-password, not both") }

        let password = generatePassword ? AccountRules.generatePassword() : try readPassword()
        if let problem = AccountRules.validatePassword(password) { throw fail(problem.description) }
        let account = AccountService.NewAccount(username: username, displayName: displayName, role: role, branchCode: branch)
        do {
            let (user, _) = try await CommandState.run(database.flags) { state in
                try await state.services().accounts.create(
                    account,
                    password: password,
                    mustChangePassword: !ownPassword,
                    actor: .commandLine,
                    logger: state.logger
                )
            }
            say("created \(user.role.rawValue) account '\(user.username)'")
            if user.mustChangePassword { say("the password must be changed at first sign-in") }
            if generatePassword { say("password: \(password)") }
        } catch let failure as CommandFailure {
            throw failure
        } catch let error as AccountError {
            throw fail(error.description, code: 1)
        } catch {
            throw fail("\(error)", code: 1)
        }
    }

    private func readPassword() throws -> String {
        if Console.current.inputIsTerminal {
            guard let first = getpass("Password for \(username): ").map({ String(cString: $0) }),
                let second = getpass("Same password again: ").map({ String(cString: $0) })
            else { throw fail("no password given") }
            guard first == second else { throw fail("the two passwords differ") }
            return first
        }
        let data = Console.current.readInput()
        let text = String(decoding: data, as: UTF8.self)
        let password = text.hasSuffix("\r\n") ? String(text.dropLast(2)) : text.hasSuffix("\n") ? String(text.dropLast()) : text
        guard !password.isEmpty else {
            throw fail("no password on standard input: pipe one in, or use --generate-password")
        }
        return password
    }
}
