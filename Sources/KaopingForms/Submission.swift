/// Limits applied to what respondents send.
public struct SubmissionLimits: Sendable, Equatable {
    /// Longest text answer, in characters, unless an item sets its own `max-length`.
    public var maxTextLength: Int

    public init(maxTextLength: Int = 2000) {
        self.maxTextLength = maxTextLength
    }
}

/// Why one item's answer was not accepted.
public enum AnswerProblem: String, Sendable, Equatable, Codable {
    /// A required item was left empty.
    case required
    /// The value is not one of the item's options.
    case invalidOption
    /// Not a number, where a number was expected.
    case notANumber
    /// A number outside what the item allows (negative, over its maximum or cap).
    case outOfRange
    /// A text longer than allowed.
    case tooLong
}

/// A submission that no page of ours could have produced: it is refused outright.
public enum MalformedSubmission: Error, Sendable, Equatable {
    case unknownField(String)
    case repeatedField(String)
}

/// The outcome of reading a form post against its form.
public struct ParsedSubmission: Sendable, Equatable {
    /// The accepted answers, by item key (empty items are absent).
    public var answers: [String: Answer]
    /// What was sent, by field name, to show again when there are problems.
    public var values: [String: String]
    /// Problems by item key, in form order.
    public var problems: [(item: String, problem: AnswerProblem)]

    public var isValid: Bool { problems.isEmpty }

    public init(answers: [String: Answer], values: [String: String], problems: [(item: String, problem: AnswerProblem)]) {
        self.answers = answers
        self.values = values
        self.problems = problems
    }

    public static func == (lhs: ParsedSubmission, rhs: ParsedSubmission) -> Bool {
        lhs.answers == rhs.answers && lhs.values == rhs.values
            && lhs.problems.map(\.item) == rhs.problems.map(\.item) && lhs.problems.map(\.problem) == rhs.problems.map(\.problem)
    }
}

extension FormDefinition {
    /// The field that carries an item's answer.
    public static func answerField(_ itemKey: String) -> String { "q." + itemKey }
    /// The field that carries an evaluator's note on a score-sheet item.
    public static func noteField(_ itemKey: String) -> String { "note." + itemKey }

    /// Reads posted fields (without the page's own fields such as the CSRF token) against
    /// this form: every item checked, every problem reported.
    public func parseSubmission(
        _ fields: [(name: String, value: String)],
        limits: SubmissionLimits = .init()
    ) throws(MalformedSubmission) -> ParsedSubmission {
        var known: Set<String> = []
        for item in items {
            known.insert(Self.answerField(item.key))
            if item.type.isScoreSheetItem { known.insert(Self.noteField(item.key)) }
        }
        var values: [String: String] = [:]
        for field in fields {
            guard known.contains(field.name) else { throw .unknownField(field.name) }
            guard values[field.name] == nil else { throw .repeatedField(field.name) }
            values[field.name] = field.value
        }

        var answers: [String: Answer] = [:]
        var problems: [(String, AnswerProblem)] = []
        for item in items {
            let raw = values[Self.answerField(item.key)] ?? ""
            let value = item.type.isText ? raw : raw.trimmingWhitespace()
            let note = values[Self.noteField(item.key)] ?? ""
            if item.type.isScoreSheetItem && note.count > limits.maxTextLength {
                problems.append((item.key, .tooLong))
                continue
            }
            if value.trimmingWhitespace().isEmpty {
                if item.required { problems.append((item.key, .required)) }
                continue
            }
            switch item.type {
            case .rating, .choice:
                if item.option(value) != nil { answers[item.key] = .option(value) } else { problems.append((item.key, .invalidOption)) }
            case .text, .longText:
                if value.count > (item.maxLength ?? limits.maxTextLength) {
                    problems.append((item.key, .tooLong))
                } else {
                    answers[item.key] = .text(value)
                }
            case .deduction, .bonus:
                guard let number = Double(Self.halfWidthNumber(value)), number.isFinite else {
                    problems.append((item.key, .notANumber))
                    continue
                }
                if number < 0 || number > (item.maximum ?? 100) {
                    problems.append((item.key, .outOfRange))
                } else {
                    answers[item.key] = .points(number, note: note)
                }
            case .baseline:
                switch value {
                case "pass": answers[item.key] = .baseline(passed: true, note: note)
                case "fail": answers[item.key] = .baseline(passed: false, note: note)
                default: problems.append((item.key, .invalidOption))
                }
            }
        }
        return ParsedSubmission(answers: answers, values: values, problems: problems)
    }
}

extension FormDefinition {
    /// A number as typed with a Chinese input method: full-width digits, point and signs
    /// (５．５, －１) become their ASCII forms; anything else is left for the check to refuse.
    public static func halfWidthNumber(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.map { scalar in
                    switch scalar.value {
                    case 0xFF10...0xFF19: Unicode.Scalar(scalar.value - 0xFF10 + 0x30)!
                    case 0xFF0E, 0x3002: "."  // ． and 。, which some input methods give for the point
                    case 0xFF0D: "-"
                    case 0xFF0B: "+"
                    default: scalar
                    }
                }
            )
        )
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
