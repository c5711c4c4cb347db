import Foundation
import Subprocess
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A program started by a test, its output and errors written to files of the test's own.
///
/// Started through swift-subprocess, not Foundation's `Process`: on Linux `Process` closes
/// descriptors by number after a fork, which under concurrency can close one that NIO owns in
/// the same test process (NIO then traps on "Bad file descriptor"). swift-subprocess also waits
/// for the child without holding a thread of the concurrency pool.
final class ChildProgram: Sendable {
    private struct State {
        var processIdentifier: pid_t?
        var status: Int32?
        var failure: String?
    }
    private let state = Mutex(State())
    let outputPath: String
    let errorPath: String

    private init(outputPath: String, errorPath: String) {
        self.outputPath = outputPath
        self.errorPath = errorPath
    }

    /// Starts `executable`; returns once the child runs (or could not be started).
    static func start(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String],
        workingDirectory: String,
        input: String? = nil,
        outputDirectory: String
    ) async throws -> ChildProgram {
        // A program that ends before reading all its input must not take the tests down with it.
        signal(SIGPIPE, SIG_IGN)
        let tag = UUID().uuidString.prefix(8)
        let program = ChildProgram(outputPath: outputDirectory + "/.out-\(tag)", errorPath: outputDirectory + "/.err-\(tag)")
        let output = try FileDescriptor.open(
            FilePath(program.outputPath),
            .writeOnly,
            options: [.create, .truncate, .closeOnExec],
            permissions: [.ownerReadWrite]
        )
        let error = try FileDescriptor.open(
            FilePath(program.errorPath),
            .writeOnly,
            options: [.create, .truncate, .closeOnExec],
            permissions: [.ownerReadWrite]
        )
        let keys = environment.compactMap { key, value in Environment.Key(rawValue: key).map { ($0, value) } }
        Task {
            do {
                let result = try await Subprocess.run(
                    .path(FilePath(executable)),
                    arguments: Arguments(arguments),
                    environment: .custom(Dictionary(uniqueKeysWithValues: keys)),
                    workingDirectory: FilePath(workingDirectory),
                    input: .array(Array((input ?? "").utf8)),
                    output: .fileDescriptor(output, closeAfterSpawningProcess: true),
                    error: .fileDescriptor(error, closeAfterSpawningProcess: true)
                ) { execution in
                    program.state.withLock { $0.processIdentifier = execution.processIdentifier.value }
                }
                let status: Int32
                switch result.terminationStatus {
                case .exited(let code): status = code
                case .signaled(let signal): status = 128 + signal
                }
                program.state.withLock { $0.status = status }
            } catch {
                program.state.withLock {
                    $0.failure = "\(error)"
                    $0.status = -1
                }
            }
        }
        while program.state.withLock({ $0.processIdentifier == nil && $0.status == nil }) {
            try await Task.sleep(for: .milliseconds(5))
        }
        if let failure = program.state.withLock({ $0.failure }) {
            throw ChildProgramError(reason: "cannot start \(executable): \(failure)")
        }
        return program
    }

    var isRunning: Bool { state.withLock { $0.status == nil } }

    /// The exit status (128 + signal for a program killed by one), once it has ended.
    var status: Int32? { state.withLock { $0.status } }

    /// Waits for the end of the program.
    func exitStatus() async -> Int32 {
        while true {
            if let status { return status }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Whether the program ended within the time; if not, it is killed, so that it never
    /// outlives the test.
    func finished(within seconds: Double) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        guard isRunning else { return true }
        send(SIGKILL)
        _ = await exitStatus()
        return false
    }

    func send(_ signal: Int32) {
        state.withLock { state in
            if state.status == nil, let pid = state.processIdentifier { kill(pid, signal) }
        }
    }

    var output: [UInt8] { Array(FileManager.default.contents(atPath: outputPath) ?? Data()) }
    var errors: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }
}

struct ChildProgramError: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}
