import Foundation
import Logging
import PostgresNIO

public struct ImportSummary: Sendable, Equatable {
    public var created: Int
    public var updated: Int
}

public struct BranchSummary: Sendable {
    public let id: UUID
    public let code: String
    public let name: String
    public let organisation: String?
    public let secretary: String?
    public let active: Bool
    public let members: Int
}

public struct MemberSummary: Sendable {
    public let id: UUID
    public let staffNumber: String
    public let name: String
    public let phone: String?
    public let active: Bool
    public var branchCode: String = ""
}

/// An uploaded list waiting between preview and confirmation.
public struct OrganisationUpload: Sendable {
    public enum Kind: String, Sendable { case branches, members, units, performance }
    public let kind: Kind
    public let fileName: String
    public let content: [UInt8]
    public var appliedAt: Date?
    /// The year a performance file is for.
    public var year: Int?

    public init(kind: Kind, fileName: String, content: [UInt8], appliedAt: Date? = nil, year: Int? = nil) {
        self.kind = kind
        self.fileName = fileName
        self.content = content
        self.appliedAt = appliedAt
        self.year = year
    }
}

/// Branches, members and the organisations above them.
public struct OrganisationRepository: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Every member's staff number, to recognise one a spreadsheet stripped of its zeros.
    public func staffNumbers() async throws -> Set<String> {
        Set(try await database.query("SELECT staff_number FROM members").map { try $0.decode(String.self) })
    }

    public func branchCodes() async throws -> Set<String> {
        Set(try await database.query("SELECT code FROM branches").map { try $0.decode(String.self) })
    }

    /// Creates or updates every row, all in one transaction: a list lands whole or not at all.
    /// Branches are matched by code, so importing a corrected list updates instead of duplicating.
    public func importBranches(_ rows: [BranchRow], logger: Logger) async throws -> ImportSummary {
        try await database.transaction(logger: logger) { connection in try await importBranches(rows, on: connection, logger: logger) }
    }

    /// The same, in the caller's transaction (with the caller's audit entry).
    func importBranches(_ rows: [BranchRow], on connection: PostgresConnection, logger: Logger) async throws -> ImportSummary {
        let json = JSONText.array(
            rows.map { row in
                JSONText.object([
                    ("code", JSONText.string(row.code)), ("name", JSONText.string(row.name)),
                    ("parent", row.parent.map(JSONText.string) ?? "null"), ("secretary", row.secretary.map(JSONText.string) ?? "null"),
                ])
            }
        )
        try await connection.execute(
            """
            INSERT INTO organisations (code, name)
            SELECT DISTINCT r.parent, r.parent FROM jsonb_to_recordset(\(json)::jsonb) AS r(parent text)
            WHERE r.parent IS NOT NULL
            ON CONFLICT (name) DO NOTHING
            """,
            logger: logger
        )
        let rows = try await connection.query(
            """
            INSERT INTO branches (code, name, organisation_id, secretary_name)
            SELECT r.code, r.name, o.id, r.secretary
            FROM jsonb_to_recordset(\(json)::jsonb) AS r(code text, name text, parent text, secretary text)
            LEFT JOIN organisations o ON o.name = r.parent
            ON CONFLICT (code) DO UPDATE SET
              name = EXCLUDED.name, organisation_id = EXCLUDED.organisation_id,
              secretary_name = EXCLUDED.secretary_name, active = true, updated_at = now()
            RETURNING (xmax = 0)
            """,
            logger: logger
        )
        var summary = ImportSummary(created: 0, updated: 0)
        for try await inserted in rows.decode(Bool.self) {
            if inserted { summary.created += 1 } else { summary.updated += 1 }
        }
        return summary
    }

    /// Members are matched by staff number; a member who moved is moved to the new branch.
    public func importMembers(_ rows: [MemberRow], logger: Logger) async throws -> ImportSummary {
        try await database.transaction(logger: logger) { connection in try await importMembers(rows, on: connection, logger: logger) }
    }

    /// The same, in the caller's transaction (with the caller's audit entry).
    func importMembers(_ rows: [MemberRow], on connection: PostgresConnection, logger: Logger) async throws -> ImportSummary {
        let json = JSONText.array(
            rows.map { row in
                JSONText.object([
                    ("staff", JSONText.string(row.staffNumber)), ("name", JSONText.string(row.name)),
                    ("branch", JSONText.string(row.branchCode)), ("phone", row.phone.map(JSONText.string) ?? "null"),
                    ("party_group", row.partyGroup.map(JSONText.string) ?? "null"),
                ])
            }
        )
        let expected = rows.count
        // A file without the party-group column keeps each member's group; a blank cell clears it.
        let givesGroups = rows.contains { $0.partyGroup != nil }
        let inserted = try await connection.query(
            """
            INSERT INTO members (staff_number, name, branch_id, phone, party_group)
            SELECT r.staff, r.name, b.id, r.phone, nullif(r.party_group, '')
            FROM jsonb_to_recordset(\(json)::jsonb) AS r(staff text, name text, branch text, phone text, party_group text)
            JOIN branches b ON b.code = r.branch
            ON CONFLICT (staff_number) DO UPDATE SET
              name = EXCLUDED.name, branch_id = EXCLUDED.branch_id, phone = EXCLUDED.phone, active = true, updated_at = now(),
              party_group = CASE WHEN \(givesGroups) THEN EXCLUDED.party_group ELSE members.party_group END
            RETURNING (xmax = 0)
            """,
            logger: logger
        )
        var summary = ImportSummary(created: 0, updated: 0)
        for try await isNew in inserted.decode(Bool.self) {
            if isNew { summary.created += 1 } else { summary.updated += 1 }
        }
        // A branch code that vanished between preview and import would drop rows silently.
        guard summary.created + summary.updated == expected else { throw OrganisationError.branchesChanged }
        return summary
    }

    public func branches() async throws -> [BranchSummary] {
        try await branchSummaries(code: nil)
    }

    /// A branch's code, found by its id (a viewer account names its branch by id).
    public func branchCode(id: UUID) async throws -> String? {
        try await database.query("SELECT code FROM branches WHERE id = \(id)").first?.decode(String.self)
    }

    /// A branch's name, found by its id.
    public func branchName(id: UUID) async throws -> String? {
        try await database.query("SELECT name FROM branches WHERE id = \(id)").first?.decode(String.self)
    }

    /// One branch, found by its code.
    public func branch(code: String) async throws -> BranchSummary? {
        try await branchSummaries(code: code).first
    }

    private func branchSummaries(code: String?) async throws -> [BranchSummary] {
        try await database.query(
            """
            SELECT b.id, b.code, b.name, o.name, b.secretary_name, b.active,
                   (SELECT count(*)::int FROM members m WHERE m.branch_id = b.id AND m.active)
            FROM branches b LEFT JOIN organisations o ON o.id = b.organisation_id
            WHERE \(code)::text IS NULL OR b.code = \(code)
            ORDER BY o.name NULLS FIRST, b.code
            """
        ).map { row in
            let (id, code, name, organisation, secretary, active, members) = try row.decode((UUID, String, String, String?, String?, Bool, Int).self)
            return BranchSummary(id: id, code: code, name: name, organisation: organisation, secretary: secretary, active: active, members: members)
        }
    }

    public func members(branchCode: String) async throws -> [MemberSummary] {
        try await database.query(
            """
            SELECT m.id, m.staff_number, m.name, m.phone, m.active FROM members m JOIN branches b ON b.id = m.branch_id
            WHERE b.code = \(branchCode) ORDER BY m.staff_number
            """
        ).map { row in
            let (id, staff, name, phone, active) = try row.decode((UUID, String, String, String?, Bool).self)
            return MemberSummary(id: id, staffNumber: staff, name: name, phone: phone, active: active)
        }
    }
}

extension OrganisationRepository {
    public func member(staffNumber: String) async throws -> MemberSummary? {
        guard
            let row = try await database.query(
                """
                SELECT m.id, m.staff_number, m.name, m.phone, m.active, b.code FROM members m JOIN branches b ON b.id = m.branch_id
                WHERE m.staff_number = \(staffNumber)
                """
            ).first
        else { return nil }
        let (id, staff, name, phone, active, code) = try row.decode((UUID, String, String, String?, Bool, String).self)
        return MemberSummary(id: id, staffNumber: staff, name: name, phone: phone, active: active, branchCode: code)
    }

    func addBranch(_ row: BranchRow, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        try await connection.changes(
            """
            WITH parent AS (
              INSERT INTO organisations (code, name) SELECT \(row.parent), \(row.parent) WHERE \(row.parent)::text IS NOT NULL
              ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id
            )
            INSERT INTO branches (code, name, organisation_id, secretary_name)
            VALUES (\(row.code), \(row.name), (SELECT id FROM parent), \(row.secretary))
            ON CONFLICT (code) DO NOTHING RETURNING 1
            """,
            logger: logger
        )
    }

    func updateBranch(_ row: BranchRow, active: Bool, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        try await connection.changes(
            """
            WITH parent AS (
              INSERT INTO organisations (code, name) SELECT \(row.parent), \(row.parent) WHERE \(row.parent)::text IS NOT NULL
              ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id
            )
            UPDATE branches SET name = \(row.name), organisation_id = (SELECT id FROM parent), secretary_name = \(row.secretary),
                   active = \(active), updated_at = now()
            WHERE code = \(row.code) RETURNING 1
            """,
            logger: logger
        )
    }

    func addMember(_ row: MemberRow, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        try await connection.changes(
            """
            INSERT INTO members (staff_number, name, branch_id, phone)
            SELECT \(row.staffNumber), \(row.name), id, \(row.phone) FROM branches WHERE code = \(row.branchCode)
            ON CONFLICT (staff_number) DO NOTHING RETURNING 1
            """,
            logger: logger
        )
    }

    func updateMember(_ row: MemberRow, active: Bool, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        try await connection.changes(
            """
            WITH changed AS (
              UPDATE members SET name = \(row.name), phone = \(row.phone), active = \(active), updated_at = now(),
                     branch_id = (SELECT id FROM branches WHERE code = \(row.branchCode))
              WHERE staff_number = \(row.staffNumber) AND EXISTS (SELECT 1 FROM branches WHERE code = \(row.branchCode))
              RETURNING id, active
            ), revoked AS (
              -- Someone who has left stops being able to answer: their unused links die.
              UPDATE invitations SET revoked_at = now()
              WHERE member_id IN (SELECT id FROM changed WHERE NOT active) AND NOT used AND revoked_at IS NULL
              RETURNING 1
            )
            SELECT 1 FROM changed
            """,
            logger: logger
        )
    }

    /// In the caller's transaction, so that the service's audit entry lands with it.
    func saveUpload(_ upload: OrganisationUpload, by userID: UUID?, on connection: PostgresConnection, logger: Logger) async throws -> UUID {
        let content = ByteBuffer(bytes: upload.content)
        var id: UUID?
        for try await saved in try await connection.query(
            """
            INSERT INTO org_imports (kind, file_name, content, uploaded_by, year)
            VALUES (\(upload.kind.rawValue), \(upload.fileName), \(content), \(userID), \(upload.year)) RETURNING id
            """,
            logger: logger
        ).decode(UUID.self) { id = saved }
        return id!
    }

    public func upload(id: UUID) async throws -> OrganisationUpload? {
        guard
            let row = try await database.query(
                "SELECT kind, file_name, content, applied_at, year FROM org_imports WHERE id = \(id)"
            ).first
        else { return nil }
        let (kind, name, content, applied, year) = try row.decode((String, String, ByteBuffer, Date?, Int?).self)
        guard let parsedKind = OrganisationUpload.Kind(rawValue: kind) else { return nil }
        return OrganisationUpload(kind: parsedKind, fileName: name, content: Array(content.readableBytesView), appliedAt: applied, year: year)
    }
}

public enum OrganisationError: Error {
    case branchesChanged
}
