import Foundation
import KaopingAggregation

/// A year's performance results as the performance office's system posts them to
/// `/api/v1/performance`:
/// `{"year": 2026, "source": "…", "results": [{"unit": "…", "score": 90, "grade": "…", "indicators": {…}}]}`.
///
/// Read leniently, as a person would read the same table: a unit code or a score may come as
/// a string or a number, and a field of the wrong kind counts as missing, so that each entry's
/// problems are named by the same rules as a row of an uploaded file, rather than the whole
/// document being refused for one odd value.
public struct PerformanceDocument: Decodable, Sendable {
    public let year: Int?
    public let source: String?
    /// Nil when `results` is missing or is not an array.
    public let results: [Entry]?

    public struct Entry: Decodable, Sendable {
        public let unit: String?
        public let score: String?
        public let grade: String?
        public let indicators: [String: String]

        public init(from decoder: any Decoder) throws {
            // An entry that is not an object is an entry with nothing in it.
            guard let fields = try? decoder.container(keyedBy: Field.self) else {
                (unit, score, grade, indicators) = (nil, nil, nil, [:])
                return
            }
            unit = fields.loose(.unit)
            score = fields.loose(.score)
            grade = fields.loose(.grade)
            let named = (try? fields.decodeIfPresent([String: LooseText].self, forKey: .indicators)) ?? nil
            indicators = (named ?? [:]).mapValues { $0.text ?? "" }
        }

        /// The entry as a row of an uploaded file: the same columns, indicators by their names.
        public var columns: [String: String] {
            var values: [String: String] = [:]
            values["unit"] = unit
            values["score"] = score
            values["grade"] = grade
            for (name, value) in indicators { values[OrganisationCSV.otherColumnPrefix + name] = value }
            return values
        }

        enum Field: String, CodingKey {
            case unit, score, grade, indicators
        }
    }

    enum Field: String, CodingKey {
        case year, source, results
    }

    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: Field.self)
        year = (try? fields.decodeIfPresent(Int.self, forKey: .year)) ?? nil
        source = fields.loose(.source)
        results = (try? fields.decodeIfPresent([Entry].self, forKey: .results)) ?? nil
    }

    private var holdsNUL: Bool {
        var kept: [String?] = [source]
        for entry in results ?? [] {
            kept += [entry.unit, entry.score, entry.grade]
            for (name, value) in entry.indicators { kept += [name, value] }
        }
        return kept.contains { $0?.unicodeScalars.contains("\u{0}") == true }
    }

    /// Why a document cannot be read at all, before its entries are looked at.
    public enum Problem: Error, Equatable, Sendable {
        case notJSON
        case year
        case noResults
    }

    /// Reads a posted body. A NUL (`\u0000`) is valid JSON but fits neither PostgreSQL's text
    /// nor its jsonb, so a document with one in any value it keeps is refused as unreadable.
    public static func read(_ body: Data) throws(Problem) -> (year: Int, source: String, entries: [Entry]) {
        guard let document = try? JSONDecoder().decode(PerformanceDocument.self, from: body), !document.holdsNUL else { throw .notJSON }
        guard let year = document.year, EvaluationYear.plausible.contains(year) else { throw .year }
        guard let entries = document.results, !entries.isEmpty else { throw .noResults }
        return (year, document.source ?? "", entries)
    }
}

/// A value that a person would read as text: a string (trimmed) or a number as written.
struct LooseText: Decodable {
    let text: String?

    init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer()
        if let text = try? value.decode(String.self) {
            self.text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let whole = try? value.decode(Int.self) {
            text = String(whole)
        } else if let number = try? value.decode(Double.self) {
            text = String(number)
        } else {
            text = nil
        }
    }
}

extension KeyedDecodingContainer {
    /// The field as text when it is a string or a number; nil when missing or of another kind.
    func loose(_ key: Key) -> String? {
        ((try? decodeIfPresent(LooseText.self, forKey: key)) ?? nil)?.text
    }
}
