import Foundation
import KaopingAggregation
import Yams

/// A round described in a YAML file, for `kaoping round create --spec FILE` (format:
/// docs/rounds.md). Times are China Standard Time, as people write them.
public struct RoundSpec: Sendable, Equatable {
    public var title: String
    public var year: Int
    public var opensAt: Date?
    public var closesAt: Date?
    /// Branch codes, or `nil` for every active branch.
    public var branches: [String]?
    public var configuration: RoundConfiguration
    /// Most public responses accepted per branch, if any.
    public var publicCap: Int?

    public init(
        title: String,
        year: Int,
        opensAt: Date? = nil,
        closesAt: Date? = nil,
        branches: [String]? = nil,
        configuration: RoundConfiguration = .init(),
        publicCap: Int? = nil
    ) {
        self.title = title
        self.year = year
        self.opensAt = opensAt
        self.closesAt = closesAt
        self.branches = branches
        self.configuration = configuration
        self.publicCap = publicCap
    }

    public typealias Problem = RoundConfiguration.Problem

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let problems: [Problem]
        public var description: String { problems.map { $0.text(.english) }.joined(separator: "\n") }
    }

    /// A round as written in a spec file or entered in the admin area, not yet checked.
    public struct Draft: Decodable, Sendable {
        public struct Group: Decodable, Sendable {
            public var form: String?
            public var weight: Double?
            public var quorum: Int?
            public var quorumShare: Double?
            public var trim: Int?
            public var trimFrom: Int?

            public init(
                form: String? = nil,
                weight: Double? = nil,
                quorum: Int? = nil,
                quorumShare: Double? = nil,
                trim: Int? = nil,
                trimFrom: Int? = nil
            ) {
                self.form = form
                self.weight = weight
                self.quorum = quorum
                self.quorumShare = quorumShare
                self.trim = trim
                self.trimFrom = trimFrom
            }
            enum CodingKeys: String, CodingKey {
                case form, weight, quorum
                case quorumShare = "quorum-share"
                case trim
                case trimFrom = "trim-from"
            }
        }
        public struct Grade: Decodable, Sendable {
            public var grade: String
            public var min: Double

            public init(grade: String, min: Double) {
                self.grade = grade
                self.min = min
            }
        }
        /// How the round is read with the office's performance results.
        public struct Integration: Decodable, Sendable {
            public var performanceYear: Int?
            /// A share: 0.2, "20%" or "1/5".
            public var partyWeight: Share?
            public var baselineBarsAwards: Bool?
            public var businessLine: Double?
            public var partyLine: Double?

            public init(
                performanceYear: Int? = nil,
                partyWeight: Share? = nil,
                baselineBarsAwards: Bool? = nil,
                businessLine: Double? = nil,
                partyLine: Double? = nil
            ) {
                self.performanceYear = performanceYear
                self.partyWeight = partyWeight
                self.baselineBarsAwards = baselineBarsAwards
                self.businessLine = businessLine
                self.partyLine = partyLine
            }
            enum CodingKeys: String, CodingKey {
                case performanceYear = "performance-year"
                case partyWeight = "party-weight"
                case baselineBarsAwards = "baseline-bars-awards"
                case businessLine = "business-line"
                case partyLine = "party-line"
            }
        }
        public var title: String
        public var year: Int
        public var kind: String?
        public var opens: String?
        public var closes: String?
        public var branches: BranchChoice?
        public var groups: [String: Group]?
        public var grades: [Grade]?
        public var vetoGrade: String?
        public var bonusCap: Double?
        /// A share: 0.25, "25%" or "1/3".
        public var topGradeQuota: Share?
        public var anonymityThreshold: Int?
        public var missingGroups: String?
        public var publicCap: Int?
        public var integration: Integration?

        public init(title: String, year: Int) {
            self.title = title
            self.year = year
        }
        enum CodingKeys: String, CodingKey {
            case title, year, kind, opens, closes, branches, groups, grades
            case vetoGrade = "veto-grade"
            case bonusCap = "bonus-cap"
            case topGradeQuota = "top-grade-quota"
            case anonymityThreshold = "anonymity-threshold"
            case missingGroups = "missing-groups"
            case publicCap = "public-cap"
            case integration
        }
    }

    /// A share as people write it: 0.25, 25% or 1/3 (a fraction keeps one third exact, where
    /// 0.3333 of three branches is no place at all).
    public struct Share: Decodable, Sendable, Equatable {
        public var text: String
        public var value: Double?

        public init(_ text: String) {
            self.text = text
            self.value = Share.parse(text)
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) {
                self.init(String(number))
            } else {
                self.init(try container.decode(String.self))
            }
        }

        static func parse(_ raw: String) -> Double? {
            let text = raw.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "％", with: "%")
            if text.hasSuffix("%") { return Double(text.dropLast()).map { $0 / 100 } }
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            if parts.count == 2, let top = Double(parts[0].trimmingCharacters(in: .whitespaces)),
                let bottom = Double(parts[1].trimmingCharacters(in: .whitespaces)), bottom != 0
            {
                return top / bottom
            }
            return Double(text)
        }
    }

    public enum BranchChoice: Decodable, Sendable {
        case all
        case codes([String])
        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self), text == "all" {
                self = .all
            } else {
                self = .codes(try container.decode([String].self))
            }
        }
    }

    /// Reads a spec; every problem (including those of the scoring configuration) is reported.
    public static func parse(yaml: String) throws(ParseError) -> RoundSpec {
        let draft: Draft
        do {
            draft = try YAMLDecoder().decode(Draft.self, from: yaml)
        } catch {
            let reason = describe(error)
            throw ParseError(problems: [Problem("spec_unreadable", ["reason": reason])])
        }
        return try build(draft)
    }

    /// Checks a draft and fills in the spec's defaults for what it leaves out.
    public static func build(_ file: Draft) throws(ParseError) -> RoundSpec {
        var problems: [Problem] = []
        if let kind = file.kind, kind != "branch-evaluation" {
            problems.append(Problem("spec_kind", ["kind": kind]))
        }
        if file.title.trimmingCharacters(in: .whitespaces).isEmpty { problems.append(Problem("spec_no_title")) }
        if !EvaluationYear.plausible.contains(file.year) { problems.append(Problem("spec_year")) }
        let opens = file.opens.flatMap { text -> Date? in
            let date = ChinaTime.parse(text)
            if date == nil {
                problems.append(Problem("spec_opens", ["text": text]))
            }
            return date
        }
        let closes = file.closes.flatMap { text -> Date? in
            let date = ChinaTime.parse(text)
            if date == nil {
                problems.append(Problem("spec_closes", ["text": text]))
            }
            return date
        }
        if let opens, let closes, closes <= opens { problems.append(Problem("spec_closes_before_opens")) }
        // A scheduled round would open by itself and then never close.
        if file.opens != nil && file.closes == nil {
            problems.append(Problem("spec_opens_without_closes"))
        }

        var configuration = RoundConfiguration()
        if let groups = file.groups {
            var chosen: [RoundConfiguration.RaterGroup: RoundConfiguration.Group] = [:]
            for (name, group) in groups {
                guard let rater = RoundConfiguration.RaterGroup(rawValue: name) else {
                    problems.append(Problem("spec_unknown_group", ["name": name]))
                    continue
                }
                let defaults = RoundConfiguration.defaultGroups[rater]!
                chosen[rater] = RoundConfiguration.Group(
                    form: group.form ?? defaults.form,
                    weight: group.weight ?? defaults.weight,
                    quorum: .init(minimum: group.quorum ?? defaults.quorum.minimum, share: group.quorumShare ?? defaults.quorum.share),
                    trimming: .init(drop: group.trim ?? defaults.trimming.drop, from: group.trimFrom ?? defaults.trimming.from)
                )
            }
            configuration.groups = chosen
        }
        if let grades = file.grades { configuration.bands = grades.map { .init(grade: $0.grade, minimum: $0.min) } }
        if let veto = file.vetoGrade { configuration.vetoGrade = veto }
        if let cap = file.bonusCap { configuration.bonusCap = cap }
        if let quota = file.topGradeQuota {
            if let value = quota.value {
                configuration.topGradeQuota = value
            } else {
                problems.append(Problem("spec_quota", ["text": quota.text]))
            }
        }
        if let threshold = file.anonymityThreshold { configuration.anonymityThreshold = threshold }
        if let rule = file.missingGroups {
            if let parsed = RoundConfiguration.MissingGroupRule(rawValue: rule) {
                configuration.missingGroups = parsed
            } else {
                problems.append(Problem("spec_missing_groups", ["rule": rule]))
            }
        }
        if let cap = file.publicCap, cap < 1 { problems.append(Problem("spec_public_cap")) }
        if let given = file.integration {
            var settings = IntegrationSettings.standard
            if let year = given.performanceYear { settings.performanceYear = year }
            if let weight = given.partyWeight {
                if let value = weight.value {
                    settings.partyWeight = value
                } else {
                    problems.append(Problem("spec_party_weight", ["text": weight.text]))
                }
            }
            if let bars = given.baselineBarsAwards { settings.baselineBarsAwards = bars }
            settings.businessLine = given.businessLine
            settings.partyLine = given.partyLine
            configuration.integration = settings
        }
        problems += configuration.problems()
        guard problems.isEmpty else { throw ParseError(problems: problems) }
        let branches: [String]? =
            switch file.branches {
            case .codes(let codes): codes
            case .all, .none: nil
            }
        return RoundSpec(
            title: file.title,
            year: file.year,
            opensAt: opens,
            closesAt: closes,
            branches: branches,
            configuration: configuration,
            publicCap: file.publicCap
        )
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing '\(path(context.codingPath + [key]))'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context), DecodingError.dataCorrupted(let context):
            return "'\(path(context.codingPath))': \(context.debugDescription)"
        case let error as YamlError:
            return "not valid YAML: \(error)"
        default:
            return "\(error)"
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}

/// China Standard Time (UTC+8, no daylight saving), the time people in the offices use.
public enum ChinaTime {
    public static let zone = TimeZone(identifier: "Asia/Shanghai")!

    /// Reads "2026-12-15 18:00" (or with seconds, or a T between) as Beijing time.
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "T", with: " ")
        for format in ["yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = zone
            formatter.dateFormat = format
            if let date = formatter.date(from: trimmed) { return date }
        }
        return nil
    }

    /// "2026-12-15 18:00" in Beijing time. One style made once: a `DateFormatter` made per
    /// call cost 85 µs, which a quarter of a million lines of sheets export pay each.
    public static func format(_ date: Date) -> String {
        minutes.format(date)
    }

    /// "2026-12-15 18:00:07": where seconds matter (how far a standby lags).
    public static func formatWithSeconds(_ date: Date) -> String {
        seconds.format(date)
    }

    private static let minutes = style(withSeconds: false)
    private static let seconds = style(withSeconds: true)

    private static func style(withSeconds: Bool) -> Date.VerbatimFormatStyle {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let format: Date.FormatString =
            withSeconds
            ? """
            \(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits) \
            \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits)
            """
            : """
            \(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits) \
            \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits)
            """
        return Date.VerbatimFormatStyle(format: format, locale: Locale(identifier: "en_US_POSIX"), timeZone: zone, calendar: calendar)
    }
}
