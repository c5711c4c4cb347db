// Logging: log lines as text or JSON, set up once per process.

import Foundation
import Logging
import Synchronization

/// Sets up swift-log once per process: human-readable lines or one JSON object per line.
public enum LogSetup {
    private static let done = Mutex(false)

    /// The first call sets the logging up; later ones change nothing (swift-log stops a process
    /// that bootstraps twice, and the tests run commands in one process).
    public static func bootstrap(level: Logger.Level, format: KaopingConfiguration.LogFormat) {
        guard
            done.withLock({ done in
                defer { done = true }
                return !done
            })
        else { return }
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                switch format {
                case .text: StreamLogHandler.standardError(label: label)
                case .json: JSONLogHandler(label: label)
                }
            handler.logLevel = level
            return handler
        }
    }
}

/// Writes each log record as one JSON object on standard error, for log collectors.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var record: [String: String] = [
            "time": Self.timestamp(),
            "level": event.level.rawValue,
            "label": label,
            "message": event.message.description,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            record[key == "hb.request.id" ? "request_id" : key] = value.description
        }
        guard var line = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) else { return }
        line.append(0x0A)
        FileHandle.standardError.write(line)
    }

    static func timestamp() -> String {
        Date.now.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
