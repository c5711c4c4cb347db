import Foundation
import NIOCore

/// Turns an error that stopped the server into the one line the operator reads.
public enum StartupFailure {
    public static func describe(_ error: any Error, configuration: KaopingConfiguration) -> String {
        if let error = error as? IOError {
            switch error.errnoCode {
            case EADDRINUSE:
                return
                    "cannot listen on \(configuration.host):\(configuration.port): the port is already in use by another program; stop it or choose another --port"
            case EACCES:
                return
                    "cannot listen on \(configuration.host):\(configuration.port): permission denied (ports below 1024 need privileges); choose another --port"
            case EADDRNOTAVAIL:
                return "cannot listen on \(configuration.host):\(configuration.port): this machine has no such address; check --host"
            default:
                return "cannot start the HTTP server: \(error)"
            }
        }
        return "\(error)"
    }
}
