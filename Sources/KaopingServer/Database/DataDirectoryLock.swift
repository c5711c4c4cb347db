// Database: the connection pool and its watchdog, the embedded PostgreSQL cluster, migrations,
// backups and the first connection that says clearly why a database cannot be used.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Keeps a second `kaoping serve` off a data directory that a running one uses.
///
/// Two servers on one embedded cluster would share it without a word, and when the first
/// stopped it would take the database away from the second. The lock is an `flock` on
/// `<data dir>/serve.lock`, held until the process exits (the kernel releases it even after a
/// crash, so a stale lock never blocks a restart). Commands other than `serve` do not take it:
/// they may run beside a server and use its database.
public enum DataDirectoryLock {
    public enum Failure: Error, CustomStringConvertible {
        case inUse(directory: String)
        case unusable(directory: String, reason: String)

        public var description: String {
            switch self {
            case .inUse(let directory):
                "another kaoping serve is already running on the data directory \(directory); stop it first, or give this one another --data-dir"
            case .unusable(let directory, let reason):
                "cannot use the data directory \(directory): \(reason)"
            }
        }
    }

    /// Takes the lock for the life of the process, or says why not.
    public static func acquire(dataDirectory: String) throws(Failure) {
        let directory = EmbeddedPostgres.absolutePath(dataDirectory)
        if let code = makeDirectories(directory) { throw .unusable(directory: directory, reason: Self.reason(errno: code)) }
        let descriptor = open(directory + "/serve.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .unusable(directory: directory, reason: Self.reason(errno: Int(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(descriptor)
            if code == EWOULDBLOCK { throw .inUse(directory: directory) }
            throw .unusable(directory: directory, reason: Self.reason(errno: Int(code)))
        }
        // Deliberately never closed: the lock lasts as long as the process.
    }

    /// `mkdir -p`, keeping the errno of the step that failed (Foundation's error hides it).
    static func makeDirectories(_ path: String) -> Int? {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST { return Int(errno) }
        }
        var status = stat()
        if stat(path, &status) != 0 { return Int(errno) }
        if status.st_mode & S_IFMT != S_IFDIR { return Int(ENOTDIR) }
        if access(path, W_OK) != 0 { return Int(errno) }
        return nil
    }

    static func reason(errno code: Int) -> String {
        switch Int32(code) {
        case EACCES, EPERM: "permission denied (the user running kaoping must be able to write there)"
        case EROFS: "the file system is read-only"
        case ENOSPC: "the disk is full"
        case ENOTDIR: "a part of the path is a file, not a directory"
        default: String(cString: strerror(Int32(code)))
        }
    }
}
