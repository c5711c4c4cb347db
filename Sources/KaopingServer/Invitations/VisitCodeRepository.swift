import Foundation
import Logging
import PostgresNIO

/// How the public of a branch reaches its form.
public enum PublicAccess: String, Sendable, CaseIterable, Codable {
    /// The open link on the poster (`/p/{code}`), limited per address.
    case link
    /// Only one-time visit codes (`/v/{code}`), handed out at the window.
    case codes
    /// Either.
    case both

    public var allowsLink: Bool { self != .codes }
}

/// One printed visit code.
public struct VisitCode: Sendable, Equatable {
    public let branchCode: String
    public let branchName: String
    public let batch: Int
    public let code: String
    public let used: Bool
}

/// A batch of visit codes, as the round page lists them.
public struct VisitCodeBatch: Sendable, Equatable {
    public let branchCode: String
    public let branchName: String
    public let batch: Int
    public let count: Int
    public let used: Int
}

public enum VisitCodeProblem: Error, Equatable {
    case unknownBranches([String])
    case badCount
    case noSuchRound

    public func message(_ language: Language) -> String {
        switch self {
        case .unknownBranches(let codes): language.text("visit_error_unknown_branches", ["codes": language.quotedList(codes)])
        case .badCount: language.text("visit_error_bad_count", ["max": VisitCodeRepository.largestBatch])
        case .noSuchRound: language.text("visit_error_no_round")
        }
    }
}

/// Visit codes (好差评-style one-time codes for the people a service window serves) and each
/// branch's choice between the open public link and the codes.
public struct VisitCodeRepository: Sendable {
    public static let largestBatch = 5000
    let database: Database
    let tokens: InvitationTokens

    public init(database: Database, tokens: InvitationTokens) {
        self.database = database
        self.tokens = tokens
    }

    /// Sets how the public answers for the given branches (all of the round's when empty), in
    /// the caller's transaction.
    func setAccess(roundID: UUID, branchCodes: [String], access: PublicAccess, on connection: PostgresConnection, logger: Logger) async throws -> Int
    {
        try await checkBranches(roundID: roundID, branchCodes, on: connection, logger: logger)
        var changed = 0
        for try await _ in try await connection.query(
            """
            UPDATE round_branches rb SET public_access = \(access.rawValue)
            FROM branches b WHERE b.id = rb.branch_id AND rb.round_id = \(roundID)
              AND (cardinality(\(branchCodes)::text[]) = 0 OR b.code = ANY(\(branchCodes)::text[]))
            RETURNING 1
            """,
            logger: logger
        ) { changed += 1 }
        return changed
    }

    /// Marks the given branches (all of the round's when empty) as answering from a shared
    /// device, or not, in the caller's transaction; returns how many branches were set.
    func setSharedDevice(roundID: UUID, branchCodes: [String], shared: Bool, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        try await checkBranches(roundID: roundID, branchCodes, on: connection, logger: logger)
        var changed = 0
        for try await _ in try await connection.query(
            """
            UPDATE round_branches rb SET shared_device = \(shared)
            FROM branches b WHERE b.id = rb.branch_id AND rb.round_id = \(roundID)
              AND (cardinality(\(branchCodes)::text[]) = 0 OR b.code = ANY(\(branchCodes)::text[]))
            RETURNING 1
            """,
            logger: logger
        ) { changed += 1 }
        return changed
    }

    /// Makes a new batch of `count` codes for each given branch, in the caller's transaction;
    /// returns the codes made.
    func issue(roundID: UUID, branchCodes: [String], count: Int, on connection: PostgresConnection, logger: Logger) async throws -> [VisitCode] {
        guard (1...Self.largestBatch).contains(count) else { throw VisitCodeProblem.badCount }
        try await checkBranches(roundID: roundID, branchCodes, on: connection, logger: logger)
        // One batch number per branch at a time: two administrators issuing at once wait in turn.
        try await connection.execute("SELECT 1 FROM rounds WHERE id = \(roundID) FOR UPDATE", logger: logger)
        var branches: [(UUID, String, String, Int)] = []
        for try await branch in try await connection.query(
            """
            SELECT b.id, b.code, b.name, coalesce((SELECT max(batch) FROM visit_codes v WHERE v.round_id = rb.round_id AND v.branch_id = b.id), 0) + 1
            FROM round_branches rb JOIN branches b ON b.id = rb.branch_id
            WHERE rb.round_id = \(roundID) AND (cardinality(\(branchCodes)::text[]) = 0 OR b.code = ANY(\(branchCodes)::text[]))
            ORDER BY b.code
            """,
            logger: logger
        ).decode((UUID, String, String, Int).self) { branches.append(branch) }
        var made: [VisitCode] = []
        for (branchID, code, name, batch) in branches {
            let ids = (0..<count).map { _ in UUID() }
            let hashes = ids.map { ByteBuffer(bytes: InvitationTokens.hash(tokens.visitCode(for: $0))) }
            try await connection.execute(
                """
                INSERT INTO visit_codes (id, round_id, branch_id, batch, code_hash)
                SELECT id, \(roundID), \(branchID), \(batch), hash FROM unnest(\(ids)::uuid[], \(hashes)::bytea[]) AS t(id, hash)
                """,
                logger: logger
            )
            made += ids.map { VisitCode(branchCode: code, branchName: name, batch: batch, code: tokens.visitCode(for: $0), used: false) }
        }
        return made
    }

    /// The codes of a round, for printing again (optionally one branch, one batch).
    public func codes(roundID: UUID, branchCode: String? = nil, batch: Int? = nil) async throws -> [VisitCode] {
        try await database.query(
            """
            SELECT v.id, b.code, b.name, v.batch, v.used FROM visit_codes v JOIN branches b ON b.id = v.branch_id
            WHERE v.round_id = \(roundID) AND (\(branchCode)::text IS NULL OR b.code = \(branchCode))
              AND (\(batch)::int IS NULL OR v.batch = \(batch))
            ORDER BY b.code, v.batch, v.id
            """
        ).map { row in
            let (id, code, name, batch, used) = try row.decode((UUID, String, String, Int, Bool).self)
            return VisitCode(branchCode: code, branchName: name, batch: batch, code: tokens.visitCode(for: id), used: used)
        }
    }

    public func batches(roundID: UUID) async throws -> [VisitCodeBatch] {
        try await database.query(
            """
            SELECT b.code, b.name, v.batch, count(*)::int, count(*) FILTER (WHERE v.used)::int
            FROM visit_codes v JOIN branches b ON b.id = v.branch_id
            WHERE v.round_id = \(roundID) GROUP BY b.code, b.name, v.batch ORDER BY b.code, v.batch
            """
        ).map { row in
            let (code, name, batch, count, used) = try row.decode((String, String, Int, Int, Int).self)
            return VisitCodeBatch(branchCode: code, branchName: name, batch: batch, count: count, used: used)
        }
    }

    /// The round and branch of a visit code, whether the branch takes codes, and whether it was used.
    public func resolve(code: String) async throws -> (roundID: UUID, branchID: UUID, accepted: Bool, used: Bool)? {
        guard InvitationTokens.isWellFormed(code) else { return nil }
        let hash = ByteBuffer(bytes: InvitationTokens.hash(code))
        guard
            let row = try await database.query(
                """
                SELECT v.round_id, v.branch_id, rb.public_access <> 'link', v.used
                FROM visit_codes v JOIN round_branches rb ON rb.round_id = v.round_id AND rb.branch_id = v.branch_id
                WHERE v.code_hash = \(hash)
                """
            ).first
        else { return nil }
        return try row.decode((UUID, UUID, Bool, Bool).self)
    }

    private func checkBranches(roundID: UUID, _ codes: [String], on connection: PostgresConnection, logger: Logger) async throws {
        var found = false
        for try await _ in try await connection.query("SELECT 1 FROM rounds WHERE id = \(roundID)", logger: logger) { found = true }
        guard found else { throw VisitCodeProblem.noSuchRound }
        let unknown = try await connection.codesNotInRound(codes, roundID: roundID, logger: logger)
        guard unknown.isEmpty else { throw VisitCodeProblem.unknownBranches(unknown) }
    }
}
