import Foundation
import KaopingAggregation
import Logging
import PostgresNIO

/// The SQL behind correcting a round: a draft changed or deleted, an opened round cancelled,
/// branches added after the round was made. Each runs on the caller's connection, inside the
/// transaction `RoundService` opens for it with its audit entry.
extension RoundRepository {
    /// Refuses a spec whose forms are not loaded, or are of the wrong kind for their group.
    func checkForms(_ spec: RoundSpec) throws {
        for (group, settings) in spec.configuration.groups {
            guard let form = forms.form(settings.form), (form.kind == .sheet) == (group == .organisation) else {
                throw RoundError.formNotAvailable(settings.form)
            }
        }
    }

    /// The active branches `codes` names (all of them when nil), refusing codes that name none.
    static func activeBranches(_ codes: [String]?, on connection: PostgresConnection, logger: Logger) async throws -> [(id: UUID, code: String)] {
        var branches: [(id: UUID, code: String)] = []
        let rows = try await connection.query("SELECT id, code FROM branches WHERE active ORDER BY code", logger: logger)
        for try await (id, code) in rows.decode((UUID, String).self) { branches.append((id, code)) }
        guard let codes else { return branches }
        let known = Set(branches.map(\.code))
        var seen = Set<String>()
        let unknown = codes.filter { !known.contains($0) && seen.insert($0).inserted }
        guard unknown.isEmpty else { throw RoundError.unknownBranches(unknown) }
        let wanted = Set(codes)
        return branches.filter { wanted.contains($0.code) }
    }

    /// Gives the round these branches, each with its count of eligible members and a new public link.
    static func insertBranches(_ ids: [UUID], roundID: UUID, publicCap: Int?, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute(
            """
            INSERT INTO round_branches (round_id, branch_id, eligible_members, public_code, public_cap)
            SELECT \(roundID), b.id,
                   (SELECT count(*)::int FROM members m WHERE m.branch_id = b.id AND m.active),
                   substr(replace(gen_random_uuid()::text, '-', ''), 1, 12),
                   \(publicCap)
            FROM unnest(\(ids)::uuid[]) AS b(id)
            ON CONFLICT (round_id, branch_id) DO NOTHING
            """,
            logger: logger
        )
    }

    static func insertGroups(_ spec: RoundSpec, roundID: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        for (group, settings) in spec.configuration.groups.sorted(by: { $0.key < $1.key }) {
            let groupConfig = try Self.json(settings)
            try await connection.execute(
                """
                INSERT INTO round_groups (round_id, rater_group, form_key, weight, config)
                VALUES (\(roundID), \(group.rawValue), \(settings.form), \(settings.weight), \(groupConfig)::jsonb)
                """,
                logger: logger
            )
        }
    }

    /// Replaces everything the new-round page sets of a round that has not opened. Branches
    /// it no longer names leave with what was handed out for them (nobody could answer yet).
    /// Returns the codes of the branches that left.
    func replaceDraft(_ id: UUID, with spec: RoundSpec, on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        try checkForms(spec)
        let branches = try await Self.activeBranches(spec.branches, on: connection, logger: logger)
        guard !branches.isEmpty else { throw RoundError.noBranches }
        let status: RoundStatus = spec.opensAt == nil ? .draft : .scheduled
        let configuration = try Self.json(spec.configuration)
        try await connection.execute(
            """
            UPDATE rounds SET title = \(spec.title), year = \(spec.year), status = \(status), config = \(configuration)::jsonb,
              opens_at = \(spec.opensAt), closes_at = \(spec.closesAt), updated_at = now()
            WHERE id = \(id)
            """,
            logger: logger
        )
        try await connection.execute("DELETE FROM round_groups WHERE round_id = \(id)", logger: logger)
        try await Self.insertGroups(spec, roundID: id, on: connection, logger: logger)
        let kept = branches.map(\.id)
        var leaving: [String] = []
        for try await code in try await connection.query(
            """
            SELECT b.code FROM round_branches rb JOIN branches b ON b.id = rb.branch_id
            WHERE rb.round_id = \(id) AND NOT rb.branch_id = ANY(\(kept)::uuid[]) ORDER BY b.code
            """,
            logger: logger
        ).decode(String.self) { leaving.append(code) }
        for table in ["invitations", "visit_codes", "org_sheets", "evaluator_assignments", "round_branches"] {
            try await connection.execute(
                PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE round_id = $1 AND NOT branch_id = ANY($2::uuid[])", binds: Self.binds(id, kept)),
                logger: logger
            )
        }
        try await Self.insertBranches(kept, roundID: id, publicCap: spec.publicCap, on: connection, logger: logger)
        try await connection.execute("UPDATE round_branches SET public_cap = \(spec.publicCap) WHERE round_id = \(id)", logger: logger)
        return leaving
    }

    /// Removes a round that never opened, with everything made for it; returns its title.
    func deleteDraft(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> String {
        var title = ""
        for try await value in try await connection.query("DELETE FROM rounds WHERE id = \(id) RETURNING title", logger: logger).decode(String.self) {
            title = value
        }
        return title
    }

    /// Withdraws an opened round: it keeps its answers and results, and every page people read
    /// results on leaves it out, as the branch records do (they read closed rounds only).
    func cancel(_ id: UUID, reason: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.execute(
            """
            UPDATE rounds SET status = \(RoundStatus.cancelled), cancelled_at = now(), cancel_reason = \(reason), updated_at = now()
            WHERE id = \(id)
            """,
            logger: logger
        )
    }

    /// Adds active branches to a round that has not closed; returns the codes that were new to it.
    func addBranches(_ id: UUID, codes: [String], on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        let branches = try await Self.activeBranches(codes, on: connection, logger: logger)
        var cap: Int?
        for try await value in try await connection.query(
            "SELECT max(public_cap) FROM round_branches WHERE round_id = \(id)",
            logger: logger
        ).decode(Int?.self) { cap = value }
        var added: [String] = []
        let ids = branches.map(\.id)
        for try await code in try await connection.query(
            """
            SELECT b.code FROM unnest(\(ids)::uuid[]) AS n(id) JOIN branches b ON b.id = n.id
            WHERE NOT EXISTS (SELECT 1 FROM round_branches rb WHERE rb.round_id = \(id) AND rb.branch_id = n.id)
            ORDER BY b.code
            """,
            logger: logger
        ).decode(String.self) { added.append(code) }
        try await Self.insertBranches(ids, roundID: id, publicCap: cap, on: connection, logger: logger)
        return added
    }

    /// A branch named by code and name, as the round page lists them.
    public struct NamedBranch: Sendable, Equatable {
        public let code: String
        public let name: String
    }

    /// The round's branches that have since been deactivated in the organisation: they stay
    /// in the round (their answers count) and the round page names them.
    public func deactivatedBranches(_ id: UUID) async throws -> [NamedBranch] {
        try await database.query(
            """
            SELECT b.code, b.name FROM round_branches rb JOIN branches b ON b.id = rb.branch_id
            WHERE rb.round_id = \(id) AND NOT b.active ORDER BY b.code
            """
        ).map { row in
            let (code, name) = try row.decode((String, String).self)
            return NamedBranch(code: code, name: name)
        }
    }

    /// Active branches that are not in the round: those an administrator can add to it.
    public func branchesOutside(_ id: UUID) async throws -> [NamedBranch] {
        try await database.query(
            """
            SELECT b.code, b.name FROM branches b
            WHERE b.active AND NOT EXISTS (SELECT 1 FROM round_branches rb WHERE rb.round_id = \(id) AND rb.branch_id = b.id)
            ORDER BY b.code
            """
        ).map { row in
            let (code, name) = try row.decode((String, String).self)
            return NamedBranch(code: code, name: name)
        }
    }

    /// The years with business results loaded; nil when the office keeps no business units,
    /// and so reads no round with business results.
    func yearsWithPerformanceResults(on connection: PostgresConnection, logger: Logger) async throws -> Set<Int>? {
        var hasUnits = false
        for try await _ in try await connection.query("SELECT 1 FROM units LIMIT 1", logger: logger) { hasUnits = true }
        guard hasUnits else { return nil }
        var years = Set<Int>()
        for try await year in try await connection.query("SELECT DISTINCT year FROM performance_loads", logger: logger).decode(Int.self) {
            years.insert(year)
        }
        return years
    }

    /// A stored round as its spec: what the edit page starts from.
    public func spec(_ id: UUID) async throws -> (spec: RoundSpec, allBranches: Bool)? {
        guard
            let row = try await database.query(
                """
                SELECT r.title, r.year, r.opens_at, r.closes_at, r.config::text,
                       (SELECT array_agg(b.code ORDER BY b.code) FROM round_branches rb JOIN branches b ON b.id = rb.branch_id WHERE rb.round_id = r.id),
                       (SELECT max(public_cap) FROM round_branches WHERE round_id = r.id),
                       NOT EXISTS (SELECT 1 FROM branches b WHERE b.active
                                   AND NOT EXISTS (SELECT 1 FROM round_branches rb WHERE rb.round_id = r.id AND rb.branch_id = b.id))
                FROM rounds r WHERE r.id = \(id)
                """
            ).first
        else { return nil }
        let (title, year, opens, closes, json, codes, cap, all) = try row.decode((String, Int, Date?, Date?, String, [String]?, Int?, Bool).self)
        let spec = RoundSpec(
            title: title,
            year: year,
            opensAt: opens,
            closesAt: closes,
            branches: codes ?? [],
            configuration: Self.configuration(json: json),
            publicCap: cap
        )
        return (spec, all)
    }

    private static func binds(_ id: UUID, _ ids: [UUID]) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(id)
        binds.append(ids)
        return binds
    }
}
