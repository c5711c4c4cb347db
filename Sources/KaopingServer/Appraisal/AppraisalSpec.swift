// Appraisal: the members' annual appraisal (民主评议党员, docs/appraisal.md): its rounds, the
// members' links, self-assessments and sealed ballots, the counts the mixer keeps, and the
// committee's proposals with their approval.

import Foundation
import KaopingAggregation
import Yams

/// An appraisal round as written in a spec file (`kaoping appraisal create --spec FILE`) or
/// entered on the new-round page. Times are Beijing time, as people write them.
public struct AppraisalSpec: Sendable, Equatable {
    public var title: String
    public var year: Int
    public var opensAt: Date?
    public var closesAt: Date?
    /// Branch codes, or nil for every active branch.
    public var branches: [String]?
    public var settings: AppraisalSettings

    public init(
        title: String,
        year: Int,
        opensAt: Date? = nil,
        closesAt: Date? = nil,
        branches: [String]? = nil,
        settings: AppraisalSettings = AppraisalSettings()
    ) {
        self.title = title
        self.year = year
        self.opensAt = opensAt
        self.closesAt = closesAt
        self.branches = branches
        self.settings = settings
    }

    public typealias Problem = RoundConfiguration.Problem

    /// The file as written, not yet checked.
    public struct Draft: Decodable, Sendable {
        public struct Category: Decodable, Sendable {
            public var key: String
            public var name: String
            public var english: String?
        }
        public var title: String
        public var year: Int
        public var kind: String?
        public var opens: String?
        public var closes: String?
        public var branches: RoundSpec.BranchChoice?
        public var categories: [Category]?
        /// A share: 1/3, 30% or 0.3.
        public var topQuota: RoundSpec.Share?
        public var representatives: Bool?
        public var anonymityThreshold: Int?
        public var byPartyGroup: Bool?

        public init(title: String, year: Int) {
            self.title = title
            self.year = year
        }

        enum CodingKeys: String, CodingKey {
            case title, year, kind, opens, closes, branches, categories, representatives
            case topQuota = "top-quota"
            case anonymityThreshold = "anonymity-threshold"
            case byPartyGroup = "by-party-group"
        }
    }

    /// The `kind` a spec file names to be an appraisal round.
    public static let kind = "member-appraisal"

    /// Reads a spec; every problem is reported.
    public static func parse(yaml: String) throws(RoundSpec.ParseError) -> AppraisalSpec {
        let draft: Draft
        do {
            draft = try YAMLDecoder().decode(Draft.self, from: yaml)
        } catch {
            throw RoundSpec.ParseError(problems: [Problem("spec_unreadable", ["reason": RoundSpec.describe(error)])])
        }
        return try build(draft)
    }

    /// Checks a draft and fills in the defaults for what it leaves out.
    public static func build(_ file: Draft) throws(RoundSpec.ParseError) -> AppraisalSpec {
        var problems: [Problem] = []
        if let kind = file.kind, kind != Self.kind { problems.append(Problem("spec_kind", ["kind": kind])) }
        if file.title.trimmingCharacters(in: .whitespaces).isEmpty { problems.append(Problem("spec_no_title")) }
        if !EvaluationYear.plausible.contains(file.year) { problems.append(Problem("spec_year")) }
        let opens = file.opens.flatMap { text -> Date? in
            let date = ChinaTime.parse(text)
            if date == nil { problems.append(Problem("spec_opens", ["text": text])) }
            return date
        }
        let closes = file.closes.flatMap { text -> Date? in
            let date = ChinaTime.parse(text)
            if date == nil { problems.append(Problem("spec_closes", ["text": text])) }
            return date
        }
        if let opens, let closes, closes <= opens { problems.append(Problem("spec_closes_before_opens")) }
        if file.opens != nil && file.closes == nil { problems.append(Problem("spec_opens_without_closes")) }
        var settings = AppraisalSettings()
        if let categories = file.categories {
            settings.categories = categories.map {
                AppraisalSettings.Category(key: $0.key, name: $0.name, englishName: $0.english ?? $0.name)
            }
        }
        if let quota = file.topQuota {
            if let value = quota.value {
                settings.topQuota = value
            } else {
                problems.append(Problem("spec_quota", ["text": quota.text]))
            }
        }
        if let vote = file.representatives { settings.representativesVote = vote }
        if let threshold = file.anonymityThreshold { settings.anonymityThreshold = threshold }
        if let groups = file.byPartyGroup { settings.byPartyGroup = groups }
        problems += settings.problems()
        guard problems.isEmpty else { throw RoundSpec.ParseError(problems: problems) }
        let branches: [String]? =
            switch file.branches {
            case .codes(let codes): codes
            case .all, .none: nil
            }
        return AppraisalSpec(title: file.title, year: file.year, opensAt: opens, closesAt: closes, branches: branches, settings: settings)
    }
}
