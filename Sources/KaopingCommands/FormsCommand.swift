import ArgumentParser
import Foundation
import KaopingBundledFiles
import KaopingForms

struct FormsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forms",
        abstract: "Work with form definition files.",
        subcommands: [CheckForms.self]
    )
}

struct CheckForms: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the form files of a directory and summarise each form.",
        discussion: "Prints every problem as file:line:column: reason and exits with status 1, or prints one line per form."
    )

    @Argument(help: "Directory of form files (default: KAOPING_FORMS_DIR, or the built-in forms).")
    var directory: String?

    func run() async throws {
        let directory = directory ?? Console.current.environment["KAOPING_FORMS_DIR"] ?? BundledFiles.formsDirectory
        do {
            let forms = try FormLoader.load(directory: directory)
            if forms.isEmpty {
                say("\(directory): no form files (*.yaml)")
                throw ExitCode(1)
            }
            for form in forms {
                say(FormSummary(form).line)
            }
        } catch let error as FormLoadError {
            complain(error.description)
            throw ExitCode(1)
        }
    }
}
