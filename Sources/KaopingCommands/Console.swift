import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where a command writes, what it reads, and the environment its settings come from. The
/// program uses the process's own; a test runs commands in-process with a console of its own
/// (`Kaoping.run(_:)` inside `Console.$current.withValue`), so that many can run at once and
/// each sees only its own output.
public struct Console: Sendable {
    public var environment: [String: String]
    /// Everything on standard input (a password piped in).
    public var readInput: @Sendable () -> Data
    /// Whether standard input is a terminal, where a password is asked for without echo.
    public var inputIsTerminal: Bool
    public var writeOutput: @Sendable (Data) -> Void
    public var writeError: @Sendable (Data) -> Void

    public init(
        environment: [String: String],
        readInput: @escaping @Sendable () -> Data,
        inputIsTerminal: Bool,
        writeOutput: @escaping @Sendable (Data) -> Void,
        writeError: @escaping @Sendable (Data) -> Void
    ) {
        self.environment = environment
        self.readInput = readInput
        self.inputIsTerminal = inputIsTerminal
        self.writeOutput = writeOutput
        self.writeError = writeError
    }

    /// The process's own standard streams and environment.
    public static var process: Console {
        Console(
            environment: ProcessInfo.processInfo.environment,
            readInput: { FileHandle.standardInput.readDataToEndOfFile() },
            inputIsTerminal: isatty(STDIN_FILENO) != 0,
            writeOutput: { FileHandle.standardOutput.write($0) },
            writeError: { FileHandle.standardError.write($0) }
        )
    }

    @TaskLocal public static var current: Console = .process
}

/// Writes a line to standard output at once (print is buffered when output goes to a file).
func say(_ text: String) {
    Console.current.writeOutput(Data((text + "\n").utf8))
}

/// Writes a line to standard error.
func complain(_ text: String) {
    Console.current.writeError(Data((text + "\n").utf8))
}
