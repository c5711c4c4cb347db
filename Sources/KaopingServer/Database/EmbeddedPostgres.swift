import Foundation
import Logging
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster that Kaoping manages itself under `<data dir>/postgres`, using the
/// system's PostgreSQL binaries.
///
/// The first start runs `initdb` with a generated superuser password (kept in
/// `<data dir>/postgres-password`, readable by the owner only); later starts reuse the cluster.
/// A cluster that is already running (another `kaoping` process, say) is used as it is and left
/// running. PostgreSQL refuses to run as root, so when Kaoping runs as root every PostgreSQL
/// binary runs as the `postgres` system user, which owns the cluster's files.
public struct EmbeddedPostgres: Sendable {
    public static let databaseName = "kaoping"
    public static let superuser = "postgres"

    /// The directory that holds the cluster, its password file and its lock file.
    public let stateDirectory: String
    /// Extra `-c name=value` server settings (the test cluster turns fsync off, for instance).
    public let serverSettings: [String: String]

    public var clusterDirectory: String { stateDirectory + "/postgres" }
    var passwordFile: String { stateDirectory + "/postgres-password" }
    var lockFile: String { stateDirectory + "/postgres.lock" }
    var serverLogFile: String { clusterDirectory + "/kaoping-server.log" }

    public init(dataDirectory: String, serverSettings: [String: String] = [:]) {
        self.stateDirectory = EmbeddedPostgres.absolutePath(dataDirectory)
        self.serverSettings = serverSettings
    }

    /// Where a running cluster can be reached, and whether this call started it.
    public struct Running: Sendable {
        public let url: DatabaseURL
        public let startedHere: Bool
        public let socketDirectory: String
    }

    // MARK: - Start and stop

    /// Initialises the cluster when needed and starts it, or finds it already running.
    ///
    /// - Parameter port: the port to start on; by default a free one. A restart must come back
    ///   on the port the connection pool already knows.
    public func start(logger: Logger, port preferredPort: Int? = nil) async throws(EmbeddedPostgresError) -> Running {
        let binaries = try await PostgresBinaries.locate()
        let runner = CommandRunner(runAsPostgres: geteuid() == 0)
        try await prepareStateDirectory(runner: runner)
        let lock = try await FileLock.acquire(path: lockFile)
        defer { lock.release() }

        if !FileManager.default.fileExists(atPath: clusterDirectory + "/PG_VERSION") {
            try await initialise(binaries: binaries, runner: runner, logger: logger)
        }
        let password = try readPassword()

        switch try await status(binaries: binaries, runner: runner) {
        case .running:
            guard let port = runningPort() else {
                throw .startFailed(reason: "a server is running on \(clusterDirectory) but its postmaster.pid names no port")
            }
            logger.info("embedded PostgreSQL already running", metadata: ["port": "\(port)", "cluster": "\(clusterDirectory)"])
            return Running(url: url(port: port, password: password), startedHere: false, socketDirectory: clusterDirectory)
        case .stopped:
            let pidFile = clusterDirectory + "/postmaster.pid"
            if FileManager.default.fileExists(atPath: pidFile) {
                // pg_ctl status found no live process behind the pid file: a crash or a power cut.
                logger.warning(
                    "removing stale postmaster.pid left by a server that is no longer running",
                    metadata: ["cluster": "\(clusterDirectory)"]
                )
                try? FileManager.default.removeItem(atPath: pidFile)
            }
        }

        var lastFailure = ""
        for attempt in 0..<3 {
            let port: Int
            if let preferredPort { port = preferredPort } else { port = try FreePort.find() }
            if preferredPort != nil && attempt > 0 { try? await Task.sleep(for: .milliseconds(500)) }
            var options = [
                "-c listen_addresses=127.0.0.1",
                "-p \(port)",
                "-k \(clusterDirectory)",
                "-c unix_socket_permissions=0700",
            ]
            for (name, value) in serverSettings.sorted(by: { $0.key < $1.key }) {
                options.append("-c \(name)=\(value)")
            }
            let result = try await runner.run(
                binaries.path("pg_ctl"),
                ["-D", clusterDirectory, "-l", serverLogFile, "-w", "-t", "60", "-o", options.joined(separator: " "), "start"]
            )
            if result.status == 0 {
                logger.info("embedded PostgreSQL started", metadata: ["port": "\(port)", "cluster": "\(clusterDirectory)"])
                return Running(url: url(port: port, password: password), startedHere: true, socketDirectory: clusterDirectory)
            }
            lastFailure = result.output + "\n" + tail(of: serverLogFile)
            if !lastFailure.contains("Address already in use") { break }
        }
        throw .startFailed(reason: lastFailure.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Stops the cluster (fast shutdown: open transactions are rolled back, data is safe).
    public func stop(logger: Logger) async throws(EmbeddedPostgresError) {
        let binaries = try await PostgresBinaries.locate()
        let runner = CommandRunner(runAsPostgres: geteuid() == 0)
        guard case .running = try await status(binaries: binaries, runner: runner) else { return }
        let result = try await runner.run(binaries.path("pg_ctl"), ["-D", clusterDirectory, "-m", "fast", "-w", "-t", "60", "stop"])
        guard result.status == 0 else {
            throw .stopFailed(reason: result.output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        logger.info("embedded PostgreSQL stopped", metadata: ["cluster": "\(clusterDirectory)"])
    }

    /// Stops the cluster from code that cannot wait asynchronously (a `defer`, an exit handler):
    /// the fast-shutdown signal `pg_ctl stop -m fast` sends (SIGINT to the postmaster), then up
    /// to `timeout` for the postmaster to be gone. No child process is needed.
    public func stopNow(timeout: Duration = .seconds(60)) {
        guard let pid = postmasterPID(), kill(pid, SIGINT) == 0 else { return }
        let deadline = ContinuousClock.now + timeout
        while postmasterIsAlive() && ContinuousClock.now < deadline { usleep(50_000) }
    }

    /// Whether the postmaster named in `postmaster.pid` is alive. Cheap (no child process), for
    /// the supervisor's check every second.
    public func postmasterIsAlive() -> Bool {
        guard let pid = postmasterPID() else { return false }
        // EPERM: the process exists but belongs to another user (the postgres user, when we are root).
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Line 1 of postmaster.pid.
    private func postmasterPID() -> pid_t? {
        guard let data = FileManager.default.contents(atPath: clusterDirectory + "/postmaster.pid"),
            let text = String(data: data, encoding: .utf8),
            let first = text.split(separator: "\n").first,
            let pid = pid_t(first.trimmingCharacters(in: .whitespaces)), pid > 0
        else { return nil }
        return pid
    }

    // MARK: - Steps

    enum ClusterStatus { case running, stopped }

    func status(binaries: PostgresBinaries, runner: CommandRunner) async throws(EmbeddedPostgresError) -> ClusterStatus {
        let result = try await runner.run(binaries.path("pg_ctl"), ["-D", clusterDirectory, "status"])
        switch result.status {
        case 0: return .running
        case 3: return .stopped
        default:
            throw .startFailed(reason: "pg_ctl status: \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    private func prepareStateDirectory(runner: CommandRunner) async throws(EmbeddedPostgresError) {
        do {
            // The postgres user must be able to pass through the state directory to reach its cluster.
            try FileManager.default.createDirectory(
                atPath: stateDirectory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: runner.runAsPostgres ? 0o711 : 0o700]
            )
        } catch {
            // Foundation's error hides the cause; the same steps again give the errno.
            let reason = DataDirectoryLock.makeDirectories(stateDirectory).map(DataDirectoryLock.reason(errno:)) ?? "\(error)"
            throw .dataDirectory(reason: "cannot create the data directory \(stateDirectory): \(reason)")
        }
        if runner.runAsPostgres {
            let probe = try await runner.run("/usr/bin/test", ["-x", stateDirectory])
            if probe.status != 0 {
                throw .dataDirectory(
                    reason:
                        "the postgres system user cannot reach \(stateDirectory); choose a --data-dir outside private directories such as /root (for example /var/lib/kaoping), or make its parent directories searchable (chmod o+x)"
                )
            }
        }
    }

    private func initialise(binaries: PostgresBinaries, runner: CommandRunner, logger: Logger) async throws(EmbeddedPostgresError) {
        let fileManager = FileManager.default
        if let contents = try? fileManager.contentsOfDirectory(atPath: clusterDirectory), !contents.isEmpty {
            throw .dataDirectory(
                reason: "\(clusterDirectory) exists but is not a PostgreSQL cluster (no PG_VERSION); move it away or choose another --data-dir"
            )
        }
        logger.info("creating the embedded PostgreSQL cluster (first run)", metadata: ["cluster": "\(clusterDirectory)"])
        let password = Self.generatePassword()
        let temporaryPasswordFile = stateDirectory + "/.initdb-password"
        do {
            try fileManager.createDirectory(atPath: clusterDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try Data(password.utf8).write(to: URL(fileURLWithPath: passwordFile))
            try fileManager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: passwordFile)
            fileManager.createFile(atPath: temporaryPasswordFile, contents: Data(password.utf8), attributes: [.posixPermissions: 0o600])
            if runner.runAsPostgres {
                try runner.chownToPostgres(clusterDirectory)
                try runner.chownToPostgres(temporaryPasswordFile)
            }
        } catch let error as EmbeddedPostgresError {
            throw error
        } catch {
            throw .dataDirectory(reason: "cannot prepare \(clusterDirectory): \(error.localizedDescription)")
        }
        defer { try? fileManager.removeItem(atPath: temporaryPasswordFile) }
        let result = try await runner.run(
            binaries.path("initdb"),
            [
                "-D", clusterDirectory, "-U", Self.superuser, "--auth=scram-sha-256",
                "--pwfile=\(temporaryPasswordFile)", "-E", "UTF8", "--locale=C.UTF-8",
            ]
        )
        guard result.status == 0 else {
            // Leave nothing half-made behind: the next start would refuse the directory.
            try? fileManager.removeItem(atPath: clusterDirectory)
            throw .initFailed(reason: result.output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    private func readPassword() throws(EmbeddedPostgresError) -> String {
        guard let data = FileManager.default.contents(atPath: passwordFile),
            let password = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
            !password.isEmpty
        else {
            throw .dataDirectory(reason: "\(passwordFile) is missing or empty; the cluster in \(clusterDirectory) cannot be used without it")
        }
        return password
    }

    /// Line 4 of postmaster.pid is the port the running server listens on.
    private func runningPort() -> Int? {
        guard let data = FileManager.default.contents(atPath: clusterDirectory + "/postmaster.pid"),
            let text = String(data: data, encoding: .utf8)
        else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > 3 else { return nil }
        return Int(lines[3].trimmingCharacters(in: .whitespaces))
    }

    private func url(port: Int, password: String) -> DatabaseURL {
        DatabaseURL(host: "127.0.0.1", port: port, username: Self.superuser, password: password, database: Self.databaseName)
    }

    private func tail(of path: String, lines count: Int = 15) -> String {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { return "" }
        return text.split(separator: "\n").suffix(count).joined(separator: "\n")
    }

    static func generatePassword() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<32).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    static func absolutePath(_ path: String) -> String {
        let url =
            path.hasPrefix("/")
            ? URL(fileURLWithPath: path)
            : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path)
        return url.standardizedFileURL.path
    }
}

public enum EmbeddedPostgresError: Error, CustomStringConvertible, Equatable {
    case binariesNotFound
    case noPostgresUser
    case dataDirectory(reason: String)
    case initFailed(reason: String)
    case startFailed(reason: String)
    case stopFailed(reason: String)
    case command(reason: String)

    public var description: String {
        switch self {
        case .binariesNotFound:
            "PostgreSQL server programs (initdb, pg_ctl) were not found: install PostgreSQL (Debian: apt-get install postgresql) or pass --database-url"
        case .noPostgresUser:
            "running as root needs a 'postgres' system user to run PostgreSQL (it refuses to run as root): install PostgreSQL from the system packages or pass --database-url"
        case .dataDirectory(let reason): "embedded PostgreSQL: \(reason)"
        case .initFailed(let reason): "embedded PostgreSQL: initdb failed: \(reason)"
        case .startFailed(let reason): "embedded PostgreSQL: could not start: \(reason)"
        case .stopFailed(let reason): "embedded PostgreSQL: could not stop: \(reason)"
        case .command(let reason): "embedded PostgreSQL: \(reason)"
        }
    }
}

/// The directory of the system's PostgreSQL server programs.
struct PostgresBinaries {
    let directory: String

    func path(_ program: String) -> String { directory + "/" + program }

    static func locate() async throws(EmbeddedPostgresError) -> PostgresBinaries {
        let fileManager = FileManager.default
        func usable(_ directory: String) -> Bool {
            fileManager.isExecutableFile(atPath: directory + "/initdb") && fileManager.isExecutableFile(atPath: directory + "/pg_ctl")
        }
        if let configured = try? await CommandRunner(runAsPostgres: false).run("/usr/bin/env", ["pg_config", "--bindir"]),
            configured.status == 0
        {
            let directory = configured.output.trimmingCharacters(in: .whitespacesAndNewlines)
            if usable(directory) { return PostgresBinaries(directory: directory) }
        }
        // Debian and Ubuntu install server programs per major version; prefer the newest.
        let root = "/usr/lib/postgresql"
        let versions = ((try? fileManager.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap { name in Double(name).map { (name, $0) } }
            .sorted { $0.1 > $1.1 }
        for (name, _) in versions where usable("\(root)/\(name)/bin") {
            return PostgresBinaries(directory: "\(root)/\(name)/bin")
        }
        throw .binariesNotFound
    }
}

/// Runs PostgreSQL's programs, as the `postgres` user when we are root.
struct CommandRunner {
    let runAsPostgres: Bool

    struct Result {
        let status: Int32
        let output: String
    }

    /// Runs a program to its end with its output (and errors) collected.
    ///
    /// The output goes to a file, not a pipe, and swift-subprocess gives the child no other
    /// descriptor of ours: `pg_ctl start` leaves a server running that would inherit them and
    /// hold them open (a pipe's end of output would never come; a listening socket of ours would
    /// stay open in the postmaster).
    func run(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:]) async throws(EmbeddedPostgresError) -> Result {
        var argv: [String]
        if runAsPostgres {
            guard getpwnam("postgres") != nil else { throw .noPostgresUser }
            argv = ["/usr/sbin/runuser", "-u", "postgres", "--", executable] + arguments
        } else {
            argv = [executable] + arguments
        }
        let outputPath = NSTemporaryDirectory() + "kaoping-cmd-\(UUID().uuidString).out"
        defer { unlink(outputPath) }
        let output = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw .command(reason: "cannot write \(outputPath) (errno \(errno))") }
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C.UTF-8"
        environment.removeValue(forKey: "PGDATA")
        environment.merge(extra) { $1 }
        let status: Int32
        do {
            let result = try await Subprocess.run(
                .path(FilePath(argv[0])),
                arguments: Arguments(Array(argv.dropFirst())),
                environment: .custom(
                    Dictionary(uniqueKeysWithValues: environment.compactMap { key, value in Environment.Key(rawValue: key).map { ($0, value) } })
                ),
                input: .none,
                output: .fileDescriptor(FileDescriptor(rawValue: output), closeAfterSpawningProcess: true),
                error: .combinedWithOutput
            )
            switch result.terminationStatus {
            case .exited(let code): status = code
            case .signaled(let signal): status = 128 + signal
            }
        } catch {
            throw .command(reason: "cannot run \(argv[0]): \(error)")
        }
        let text = FileManager.default.contents(atPath: outputPath).flatMap { String(data: $0, encoding: .utf8) } ?? ""
        return Result(status: status, output: text)
    }

    func chownToPostgres(_ path: String) throws(EmbeddedPostgresError) {
        guard let entry = getpwnam("postgres") else { throw .noPostgresUser }
        if chown(path, entry.pointee.pw_uid, entry.pointee.pw_gid) != 0 {
            throw .dataDirectory(reason: "cannot give \(path) to the postgres user (errno \(errno))")
        }
    }
}

/// An exclusive `flock` so that two processes do not initialise or start one cluster at once.
struct FileLock {
    let descriptor: Int32

    /// Waits (asynchronously, trying again every tenth of a second) while another process
    /// holds the lock: it is starting the cluster, which takes seconds at most.
    static func acquire(path: String, patience: Duration = .seconds(120)) async throws(EmbeddedPostgresError) -> FileLock {
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .dataDirectory(reason: "cannot open lock file \(path) (errno \(errno))") }
        let deadline = ContinuousClock.now + patience
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, ContinuousClock.now < deadline else {
                close(descriptor)
                throw .dataDirectory(reason: "cannot lock \(path) (errno \(errno))")
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return FileLock(descriptor: descriptor)
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

/// Asks the kernel for a free loopback port.
enum FreePort {
    static func find() throws(EmbeddedPostgresError) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .command(reason: "cannot open a socket to find a free port") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw .command(reason: "cannot bind a socket to find a free port") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw .command(reason: "cannot read the port of a socket") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
