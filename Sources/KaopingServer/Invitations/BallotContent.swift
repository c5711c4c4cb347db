import Foundation
import KaopingForms

/// What a sealed ballot holds: the scores and answers a response will carry once mixed.
///
/// Sealed in a compact binary form (below), so that the mixer reads a batch of a thousand
/// ballots without a JSON parser, in Swift or in the database: parsing the batch as JSON was a
/// third of a mix. Ballots sealed as JSON (by earlier versions) and plaintext ballots that
/// waited from before sealing are still read.
struct BallotContent: Equatable {
    struct Answer: Equatable {
        var item: String
        var option: String?
        var number: Double?
        var text: String?
        var points: Double?
    }

    struct Dimension: Equatable {
        var key: String
        var value: Double
    }

    var score: Double?
    var dimensions: [Dimension]
    var straightLined: Bool
    var satisfied: Bool?
    var answers: [Answer]

    /// The answers in the form's order, with the points each scored option earned.
    init(_ record: SubmissionRecord) {
        score = record.score.score
        dimensions = record.score.dimensionScores.sorted { $0.key < $1.key }.map { Dimension(key: $0.key, value: $0.value) }
        straightLined = record.score.straightLined
        satisfied = record.score.satisfied
        answers = record.form.items.compactMap { item in
            guard let answer = record.answers[item.key] else { return nil }
            switch answer {
            case .option(let key): return Answer(item: item.key, option: key, points: record.score.itemPoints[item.key])
            case .text(let text): return Answer(item: item.key, text: text)
            case .points(let value, let note): return Answer(item: item.key, number: value, text: note.isEmpty ? nil : note)
            case .baseline(let passed, let note):
                return Answer(item: item.key, option: passed ? "pass" : "fail", text: note.isEmpty ? nil : note)
            }
        }
    }

    init(score: Double?, dimensions: [Dimension], straightLined: Bool, satisfied: Bool?, answers: [Answer]) {
        self.score = score
        self.dimensions = dimensions
        self.straightLined = straightLined
        self.satisfied = satisfied
        self.answers = answers
    }

    // MARK: The sealed form

    /// Version 1: a version byte; score; straight-lined and satisfied (one byte each); the
    /// dimensions as a count and (key, value) pairs; the answers as a count and, for each, its
    /// item, option, number, text and points. A number is a presence byte and 8 bytes of its
    /// bit pattern; a string a presence byte, a 4-byte length and its UTF-8 bytes.
    static let version: UInt8 = 1

    func encoded() -> [UInt8] {
        var out: [UInt8] = [Self.version]
        out.reserveCapacity(64 + answers.count * 48)
        Self.put(score, &out)
        out.append(straightLined ? 1 : 0)
        out.append(satisfied.map { $0 ? 1 : 0 } ?? 2)
        Self.put(UInt32(dimensions.count), &out)
        for dimension in dimensions {
            Self.put(dimension.key, &out)
            Self.put(dimension.value, &out)
        }
        Self.put(UInt32(answers.count), &out)
        for answer in answers {
            Self.put(answer.item, &out)
            Self.put(answer.option, &out)
            Self.put(answer.number, &out)
            Self.put(answer.text, &out)
            Self.put(answer.points, &out)
        }
        return out
    }

    /// Reads a ballot as it was sealed: this binary form, or JSON from earlier versions.
    init(decoding bytes: [UInt8]) throws(BallotContentError) {
        if bytes.first == UInt8(ascii: "{") {
            try self.init(json: bytes)
        } else {
            self = try Self.binary(bytes)
        }
    }

    private static func binary(_ bytes: [UInt8]) throws(BallotContentError) -> BallotContent {
        var reader = Reader(bytes: bytes)
        guard try reader.byte() == Self.version else { throw .malformed }
        let score = try reader.number()
        let straightLined = try reader.byte() == 1
        let satisfied: Bool? =
            switch try reader.byte() {
            case 0: false
            case 1: true
            default: nil
            }
        var dimensions: [Dimension] = []
        for _ in 0..<(try reader.count()) { dimensions.append(Dimension(key: try reader.requiredString(), value: try reader.requiredNumber())) }
        var answers: [Answer] = []
        for _ in 0..<(try reader.count()) {
            answers.append(
                Answer(
                    item: try reader.requiredString(),
                    option: try reader.string(),
                    number: try reader.number(),
                    text: try reader.string(),
                    points: try reader.number()
                )
            )
        }
        guard reader.atEnd else { throw .malformed }
        return BallotContent(score: score, dimensions: dimensions, straightLined: straightLined, satisfied: satisfied, answers: answers)
    }

    /// A ballot written as JSON: `{"score", "dimensions", "straightLined", "satisfied", "answers":
    /// [{"item_key", "option_key", "number_value", "text_value", "points"}]}`. Earlier versions
    /// left out absent values or wrote them as `null`; the database prints plaintext ballots as
    /// jsonb, spaced and with its keys reordered. An answer without its item, or a value of
    /// another type than these, is not a ballot.
    init(json bytes: [UInt8]) throws(BallotContentError) {
        let ballot: JSONBallot
        do {
            ballot = try JSONDecoder().decode(JSONBallot.self, from: Data(bytes))
        } catch {
            throw .malformed
        }
        score = ballot.score
        dimensions = (ballot.dimensions ?? [:]).compactMap { key, value in value.map { Dimension(key: key, value: $0) } }
            .sorted { $0.key < $1.key }
        straightLined = ballot.straightLined ?? false
        satisfied = ballot.satisfied
        answers = (ballot.answers ?? []).map {
            Answer(item: $0.item, option: $0.option, number: $0.number, text: $0.text, points: $0.points)
        }
    }

    /// The JSON form, as earlier versions wrote it.
    private struct JSONBallot: Decodable {
        struct Answer: Decodable {
            var item: String
            var option: String?
            var number: Double?
            var text: String?
            var points: Double?

            enum CodingKeys: String, CodingKey {
                case item = "item_key"
                case option = "option_key"
                case number = "number_value"
                case text = "text_value"
                case points
            }
        }

        var score: Double?
        /// A dimension's value was written as `null` if it was not finite.
        var dimensions: [String: Double?]?
        var straightLined: Bool?
        var satisfied: Bool?
        var answers: [Answer]?
    }

    private static func put(_ value: Double, _ out: inout [UInt8]) {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func put(_ value: Double?, _ out: inout [UInt8]) {
        guard let value else { return out.append(0) }
        out.append(1)
        put(value, &out)
    }

    private static func put(_ value: UInt32, _ out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func put(_ value: String, _ out: inout [UInt8]) {
        let utf8 = value.utf8
        put(UInt32(utf8.count), &out)
        out.append(contentsOf: utf8)
    }

    private static func put(_ value: String?, _ out: inout [UInt8]) {
        guard let value else { return out.append(0) }
        out.append(1)
        put(value, &out)
    }

    private struct Reader {
        let bytes: [UInt8]
        var position = 0

        var atEnd: Bool { position == bytes.count }

        mutating func byte() throws(BallotContentError) -> UInt8 {
            guard position < bytes.count else { throw .malformed }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func count() throws(BallotContentError) -> Int {
            guard position + 4 <= bytes.count else { throw .malformed }
            var value: UInt32 = 0
            for offset in 0..<4 { value |= UInt32(bytes[position + offset]) << (8 * offset) }
            position += 4
            return Int(value)
        }

        mutating func requiredNumber() throws(BallotContentError) -> Double {
            guard position + 8 <= bytes.count else { throw .malformed }
            var pattern: UInt64 = 0
            for offset in 0..<8 { pattern |= UInt64(bytes[position + offset]) << (8 * offset) }
            position += 8
            return Double(bitPattern: pattern)
        }

        mutating func number() throws(BallotContentError) -> Double? {
            try byte() == 1 ? try requiredNumber() : nil
        }

        mutating func requiredString() throws(BallotContentError) -> String {
            let length = try count()
            guard position + length <= bytes.count else { throw .malformed }
            defer { position += length }
            return String(decoding: bytes[position..<position + length], as: UTF8.self)
        }

        mutating func string() throws(BallotContentError) -> String? {
            try byte() == 1 ? try requiredString() : nil
        }
    }
}

enum BallotContentError: Error, CustomStringConvertible {
    case malformed

    var description: String { "a waiting ballot opened but its content is not a ballot" }
}
