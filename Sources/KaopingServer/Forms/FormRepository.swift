import Foundation
import KaopingForms
import NIOConcurrencyHelpers
import PostgresNIO

/// Frozen form versions: the exact definition a round used, kept for as long as its answers.
public final class FormRepository: Sendable {
    let database: Database
    /// Frozen definitions never change, so each is read from the database once.
    private let cache = NIOLockedValueBox<[UUID: FormDefinition]>([:])

    public init(database: Database) {
        self.database = database
    }

    public func freeze(_ form: FormDefinition) async throws -> UUID {
        var frozen = form
        frozen.sourceFile = nil
        let json = try Self.canonicalJSON(frozen)
        let rows = try await database.query(
            """
            WITH incoming AS (
              SELECT \(form.id)::text AS form_key, \(form.version)::int AS version, \(json)::text AS body
            ), inserted AS (
              INSERT INTO form_versions (form_key, version, checksum, definition, source_file)
              SELECT form_key, version, encode(sha256(convert_to(body, 'UTF8')), 'hex'), body::jsonb, \(form.sourceFile ?? "")
              FROM incoming
              ON CONFLICT (form_key, version, checksum) DO NOTHING
              RETURNING id
            )
            SELECT id FROM inserted
            UNION ALL
            SELECT v.id FROM form_versions v, incoming i
            WHERE v.form_key = i.form_key AND v.version = i.version
              AND v.checksum = encode(sha256(convert_to(i.body, 'UTF8')), 'hex')
            LIMIT 1
            """
        )
        guard let row = rows.first else { throw FormStorageError.notFrozen(form.id) }
        let id = try row.decode(UUID.self)
        cache.withLockedValue { $0[id] = frozen }
        return id
    }

    public func definition(id: UUID) async throws -> FormDefinition? {
        if let cached = cache.withLockedValue({ $0[id] }) { return cached }
        guard let row = try await database.query("SELECT definition::text FROM form_versions WHERE id = \(id)").first else {
            return nil
        }
        let form = try JSONDecoder().decode(FormDefinition.self, from: Data(try row.decode(String.self).utf8))
        cache.withLockedValue { $0[id] = form }
        return form
    }

    static func canonicalJSON(_ form: FormDefinition) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(form), as: UTF8.self)
    }
}

public enum FormStorageError: Error {
    case notFrozen(String)
}
