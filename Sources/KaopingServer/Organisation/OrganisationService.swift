import Foundation
import Logging
import PostgresNIO

/// The office's lists changed one entry at a time on the organisation pages: a branch, a
/// member or a unit added or changed (a change can also deactivate it). Each entry is checked
/// by the same rules as a row of an imported list, then stored with its audit entry in one
/// transaction.
public struct OrganisationService: Sendable {
    let database: Database
    let organisation: OrganisationRepository
    let performance: PerformanceRepository

    public init(database: Database, organisation: OrganisationRepository, performance: PerformanceRepository) {
        self.database = database
        self.organisation = organisation
        self.performance = performance
    }

    /// What became of an entry.
    public enum Edit<Row: Sendable>: Sendable {
        case saved(Row)
        /// The problems, each said as for a row of an imported list.
        case refused([ImportProblem])
        /// Nothing has the code or staff number that was to be changed.
        case notFound
    }

    /// The fields as typed, trimmed, empty ones left out, keyed as the list's columns
    /// (`OrganisationCSV`): code, name, parent, secretary / staff, branch, phone / headcount.
    public typealias Fields = [String: String]

    public func addBranch(_ fields: Fields, actor: AuditActor, logger: Logger) async throws -> Edit<BranchRow> {
        var problems: [ImportProblem] = []
        guard let row = OrganisationCSV.branchRow(line: 0, fields, problems: &problems) else { return .refused(problems) }
        return try await store(action: "org.branch.added", subject: row.code, actor: actor, logger: logger) { connection in
            try await organisation.addBranch(row, on: connection, logger: logger)
                ? .saved(row) : .refused([.init(line: 0, kind: .alreadyExists(row.code))])
        }
    }

    public func updateBranch(_ fields: Fields, active: Bool, actor: AuditActor, logger: Logger) async throws -> Edit<BranchRow> {
        var problems: [ImportProblem] = []
        guard let row = OrganisationCSV.branchRow(line: 0, fields, problems: &problems) else { return .refused(problems) }
        let action = active ? "org.branch.updated" : "org.branch.deactivated"
        return try await store(action: action, subject: row.code, actor: actor, logger: logger) { connection in
            try await organisation.updateBranch(row, active: active, on: connection, logger: logger) ? .saved(row) : .notFound
        }
    }

    public func addMember(_ fields: Fields, actor: AuditActor, logger: Logger) async throws -> Edit<MemberRow> {
        var problems: [ImportProblem] = []
        let known = try await organisation.branchCodes()
        guard let row = OrganisationCSV.memberRow(line: 0, fields, knownBranches: known, problems: &problems) else { return .refused(problems) }
        return try await store(action: "org.member.added", subject: row.staffNumber, actor: actor, logger: logger) { connection in
            try await organisation.addMember(row, on: connection, logger: logger)
                ? .saved(row) : .refused([.init(line: 0, kind: .alreadyExists(row.staffNumber))])
        }
    }

    /// A member who is deactivated can no longer answer: their unused invitations are revoked.
    public func updateMember(_ fields: Fields, active: Bool, actor: AuditActor, logger: Logger) async throws -> Edit<MemberRow> {
        var problems: [ImportProblem] = []
        let known = try await organisation.branchCodes()
        guard let row = OrganisationCSV.memberRow(line: 0, fields, knownBranches: known, problems: &problems) else { return .refused(problems) }
        let action = active ? "org.member.updated" : "org.member.deactivated"
        return try await store(action: action, subject: row.staffNumber, actor: actor, logger: logger) { connection in
            try await organisation.updateMember(row, active: active, on: connection, logger: logger) ? .saved(row) : .notFound
        }
    }

    public func addUnit(_ fields: Fields, actor: AuditActor, logger: Logger) async throws -> Edit<UnitRow> {
        var problems: [ImportProblem] = []
        let known = try await organisation.branchCodes()
        guard let row = OrganisationCSV.unitRow(line: 0, fields, knownBranches: known, problems: &problems) else { return .refused(problems) }
        return try await store(action: "org.unit.added", subject: row.code, actor: actor, logger: logger) { connection in
            try await performance.addUnit(row, on: connection, logger: logger)
                ? .saved(row) : .refused([.init(line: 0, kind: .alreadyExists(row.code))])
        }
    }

    public func updateUnit(_ fields: Fields, active: Bool, actor: AuditActor, logger: Logger) async throws -> Edit<UnitRow> {
        var problems: [ImportProblem] = []
        let known = try await organisation.branchCodes()
        guard let row = OrganisationCSV.unitRow(line: 0, fields, knownBranches: known, problems: &problems) else { return .refused(problems) }
        let action = active ? "org.unit.updated" : "org.unit.deactivated"
        return try await store(action: action, subject: row.code, actor: actor, logger: logger) { connection in
            try await performance.updateUnit(row, active: active, on: connection, logger: logger) ? .saved(row) : .notFound
        }
    }

    /// Runs `change` in a transaction and, when it saved, writes the audit entry in the same one.
    private func store<Row: Sendable>(
        action: String,
        subject: String,
        actor: AuditActor,
        logger: Logger,
        _ change: @escaping @Sendable (PostgresConnection) async throws -> Edit<Row>
    ) async throws -> Edit<Row> {
        try await database.transaction(logger: logger) { connection in
            let edit = try await change(connection)
            if case .saved = edit {
                try await AuditLog.record(.init(action: action, actor: actor, subject: subject), on: connection, logger: logger)
            }
            return edit
        }
    }
}
