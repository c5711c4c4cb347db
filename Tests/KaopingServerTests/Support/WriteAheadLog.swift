import Foundation
import PostgresNIO

@testable import KaopingServer

/// The write-ahead log of the test cluster, read as the database's owner can: the records
/// `pg_waldump` lists, and each record's raw bytes from the segment files.
struct WriteAheadLog {
    struct Record {
        let transaction: UInt64
        let lsn: UInt64
        let length: Int
        /// `tablespace/database/relfilenode` of each block the record changes.
        let relations: [String]
    }

    let directory: String
    let records: [Record]
    let segmentSize: UInt64
    let pageSize: UInt64
    private var segments: [UInt64: Data] = [:]

    /// Lists the records between two positions that change blocks of one database, with the
    /// installation's own `pg_waldump`.
    static func read(
        dataDirectory: String,
        databaseOID: Int,
        from start: String,
        to end: String,
        segmentSize: UInt64,
        pageSize: UInt64
    ) async throws -> WriteAheadLog {
        let binaries = try await PostgresBinaries.locate()
        let runner = CommandRunner(runAsPostgres: getuid() == 0)
        let directory = dataDirectory + "/pg_wal"
        // The last record may be cut at `end`: pg_waldump then says so and stops with an error,
        // after listing every whole record before it.
        // Named, the first segment tells pg_waldump the segment size; otherwise it reads
        // the first file it finds, which may be a fresh one still full of zeros.
        let first = try Self.segmentName(of: start, directory: directory, segmentSize: segmentSize)
        let last = try Self.segmentName(of: end, directory: directory, segmentSize: segmentSize)
        let result = try await runner.run(binaries.path("pg_waldump"), ["--path", directory, "--start", start, "--end", end, first, last])
        var records: [Record] = []
        let database = "/\(databaseOID)/"
        for line in result.output.split(separator: "\n") where line.hasPrefix("rmgr:") && line.contains(database) {
            guard let transaction = Self.field(line, after: "tx:", until: ",").flatMap({ UInt64($0) }),
                let lsnText = Self.field(line, after: "lsn:", until: ","),
                let total = Self.field(line, after: "len (rec/tot):", until: ",")?.split(separator: "/").last.flatMap({
                    Int($0.trimmingCharacters(in: .whitespaces))
                })
            else { continue }
            let halves = lsnText.split(separator: "/").compactMap { UInt64($0, radix: 16) }
            guard halves.count == 2 else { continue }
            var relations: [String] = []
            var rest = line[...]
            while let range = rest.range(of: "rel ") {
                let name = rest[range.upperBound...].prefix { $0.isNumber || $0 == "/" }
                relations.append(String(name))
                rest = rest[range.upperBound...]
            }
            records.append(Record(transaction: transaction, lsn: halves[0] << 32 | halves[1], length: total, relations: relations))
        }
        guard !records.isEmpty else { throw WriteAheadLogError.unreadable(String(result.output.suffix(2000))) }
        return WriteAheadLog(directory: directory, records: records, segmentSize: segmentSize, pageSize: pageSize)
    }

    private static func segmentName(of lsn: String, directory: String, segmentSize: UInt64) throws -> String {
        let halves = lsn.split(separator: "/").compactMap { UInt64($0, radix: 16) }
        guard halves.count == 2 else { throw WriteAheadLogError.unreadable("position \(lsn)") }
        let number = (halves[0] << 32 | halves[1]) / segmentSize
        let perLog = 0x1_0000_0000 / segmentSize
        let suffix = String(format: "%08X%08X", UInt32(number / perLog), UInt32(number % perLog))
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.count == 24 && $0.hasSuffix(suffix) }
        guard let name = names.sorted().last else { throw WriteAheadLogError.segmentMissing(suffix) }
        return name
    }

    private static func field(_ line: Substring, after label: String, until end: Character) -> String? {
        guard let range = line.range(of: label) else { return nil }
        return String(line[range.upperBound...].prefix { $0 != end }).trimmingCharacters(in: .whitespaces)
    }

    /// The record's bytes as written, without the page headers of any page it runs across.
    mutating func bytes(of record: Record) throws -> Data {
        var out = Data()
        var position = record.lsn
        var remaining = UInt64(record.length)
        while remaining > 0 {
            let inPage = position % pageSize
            if inPage == 0 {
                // A segment's first page has the long header, every other page the short one.
                position += position % segmentSize == 0 ? 40 : 24
                continue
            }
            let take = min(remaining, pageSize - inPage)
            let segment = try segmentData(position / segmentSize)
            let offset = Int(position % segmentSize)
            out.append(segment[segment.startIndex + offset..<segment.startIndex + offset + Int(take)])
            position += take
            remaining -= take
        }
        return out
    }

    private mutating func segmentData(_ number: UInt64) throws -> Data {
        if let cached = segments[number] { return cached }
        let position = number * segmentSize
        let name = try Self.segmentName(
            of: "\(String(position >> 32, radix: 16))/\(String(position & 0xFFFF_FFFF, radix: 16))",
            directory: directory,
            segmentSize: segmentSize
        )
        guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { throw WriteAheadLogError.segmentMissing(name) }
        segments[number] = data
        return data
    }
}

enum WriteAheadLogError: Error {
    case segmentMissing(String)
    case unreadable(String)
}
