import Foundation
import KaopingAggregation
import KaopingForms

/// The "new round" page: the fields of a round spec (docs/rounds.md) as a web form, read back
/// into a `RoundSpec.Draft` so that the page and the spec file are checked by the same rules.
struct RoundForm {
    /// What the person typed, by field name; empty fields are absent.
    var entered: [String: String]

    static let groups = RoundConfiguration.RaterGroup.allCases
    static let gradeRows = 5

    /// The spec's defaults, as the page first shows them, with a closing time proposed for the year.
    static func defaults(year: Int, now: Date = .now) -> RoundForm {
        // A round without a closing time never closes by itself: propose one.
        let closes = RoundDates.proposedClosing(year: year, now: now, timeZone: ChinaTime.zone)
        var form = RoundForm(RoundSpec(title: "", year: year, closesAt: closes), allBranches: true)
        form.entered["title"] = nil
        return form
    }

    /// A stored round as the page shows it for editing (or the defaults, for a new one).
    init(_ spec: RoundSpec, allBranches: Bool) {
        let configuration = spec.configuration
        var entered: [String: String] = ["title": spec.title, "year": String(spec.year)]
        entered["opens"] = spec.opensAt.map(ChinaTime.format)
        entered["closes"] = spec.closesAt.map(ChinaTime.format)
        for group in Self.groups {
            guard let settings = configuration.groups[group] else { continue }
            let prefix = group.rawValue
            entered["\(prefix)_use"] = "1"
            entered["\(prefix)_form"] = settings.form
            entered["\(prefix)_weight"] = Self.number(settings.weight)
            entered["\(prefix)_quorum"] = String(settings.quorum.minimum)
            entered["\(prefix)_quorum_share"] = Self.number(settings.quorum.share)
            entered["\(prefix)_trim"] = String(settings.trimming.drop)
            entered["\(prefix)_trim_from"] = String(settings.trimming.from)
        }
        for (index, band) in configuration.bands.enumerated() {
            entered["grade\(index)_name"] = band.grade
            entered["grade\(index)_min"] = Self.number(band.minimum)
        }
        entered["veto_grade"] = configuration.vetoGrade
        entered["bonus_cap"] = Self.number(configuration.bonusCap)
        entered["top_grade_quota"] = configuration.topGradeQuota.map(Self.number)
        entered["anonymity_threshold"] = String(configuration.anonymityThreshold)
        entered["missing_groups"] = configuration.missingGroups.rawValue
        entered["public_cap"] = spec.publicCap.map(String.init)
        let integration = configuration.integrationSettings
        entered["integration_year"] = integration.performanceYear.map(String.init)
        entered["integration_weight"] = Self.number(integration.partyWeight)
        if integration.baselineBarsAwards { entered["integration_veto"] = "1" }
        entered["integration_business_line"] = integration.businessLine.map(Self.number)
        entered["integration_party_line"] = integration.partyLine.map(Self.number)
        if allBranches {
            entered["branches"] = "all"
        } else {
            entered["branches"] = "codes"
            entered["branch_codes"] = (spec.branches ?? []).joined(separator: ", ")
        }
        self.entered = entered.compactMapValues { $0 }
    }

    /// Whether the person ticked that they have read the date warnings and want the round as it is.
    var acceptsWarnings: Bool { entered["accept_warnings"] == "1" }

    init(entered: [String: String]) {
        self.entered = entered
    }

    init(_ form: FormData) {
        var entered: [String: String] = [:]
        for (name, value) in form.fields where name != "_csrf" {
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { entered[name] = trimmed }
        }
        self.entered = entered
    }

    /// The draft the page describes, or what is wrong with the fields themselves (numbers
    /// that are not numbers), said in `language`; the draft's own rules are checked by
    /// `RoundSpec.build`.
    func draft(_ language: Language) -> (RoundSpec.Draft?, [String]) {
        var problems: [String] = []
        func integer(_ key: String, _ field: String) -> Int? {
            guard let text = entered[key] else { return nil }
            guard let value = Int(text) else {
                problems.append(language.text("round_problem_not_integer", ["field": field, "text": text]))
                return nil
            }
            return value
        }
        func decimal(_ key: String, _ field: String) -> Double? {
            guard let text = entered[key] else { return nil }
            guard let value = Double(text.replacingOccurrences(of: "％", with: "").replacingOccurrences(of: "%", with: "")), value.isFinite else {
                problems.append(language.text("round_problem_not_number", ["field": field, "text": text]))
                return nil
            }
            return text.contains("%") || text.contains("％") ? value / 100 : value
        }
        let year = integer("year", language.text("round_field_year"))
        var draft = RoundSpec.Draft(title: entered["title"] ?? "", year: year ?? 0)
        if entered["year"] == nil { problems.append(language.text("round_problem_no_year")) }
        draft.opens = entered["opens"]
        draft.closes = entered["closes"]
        var groups: [String: RoundSpec.Draft.Group] = [:]
        for group in Self.groups where entered["\(group.rawValue)_use"] != nil {
            let prefix = group.rawValue
            let named: KeyValuePairs<String, any CustomStringConvertible> = ["group": language.text("group_\(prefix)")]
            groups[prefix] = RoundSpec.Draft.Group(
                form: entered["\(prefix)_form"],
                weight: decimal("\(prefix)_weight", language.text("round_field_weight", named)),
                quorum: integer("\(prefix)_quorum", language.text("round_field_quorum", named)),
                quorumShare: decimal("\(prefix)_quorum_share", language.text("round_field_quorum_share", named)),
                trim: integer("\(prefix)_trim", language.text("round_field_trim", named)),
                trimFrom: integer("\(prefix)_trim_from", language.text("round_field_trim_from", named))
            )
        }
        draft.groups = groups
        var grades: [RoundSpec.Draft.Grade] = []
        for index in 0..<Self.gradeRows {
            let name = entered["grade\(index)_name"]
            let minimum = decimal("grade\(index)_min", language.text("round_field_grade_min", ["n": index + 1]))
            switch (name, minimum) {
            case (let name?, let minimum?): grades.append(.init(grade: name, min: minimum))
            case (nil, nil): continue
            default:
                if entered["grade\(index)_min"] == nil || name == nil {
                    problems.append(language.text("round_problem_grade_incomplete", ["n": index + 1]))
                }
            }
        }
        draft.grades = grades
        draft.vetoGrade = entered["veto_grade"]
        draft.bonusCap = decimal("bonus_cap", language.text("round_field_bonus_cap"))
        draft.topGradeQuota = entered["top_grade_quota"].map(RoundSpec.Share.init)
        draft.anonymityThreshold = integer("anonymity_threshold", language.text("round_field_anonymity"))
        draft.missingGroups = entered["missing_groups"]
        draft.publicCap = integer("public_cap", language.text("round_field_public_cap"))
        draft.integration = RoundSpec.Draft.Integration(
            performanceYear: integer("integration_year", language.text("round_field_integration_year")),
            partyWeight: entered["integration_weight"].map(RoundSpec.Share.init),
            baselineBarsAwards: entered["integration_veto"] != nil,
            businessLine: decimal("integration_business_line", language.text("round_field_integration_business_line")),
            partyLine: decimal("integration_party_line", language.text("round_field_integration_party_line"))
        )
        if entered["branches"] == "codes" {
            let codes = (entered["branch_codes"] ?? "")
                .split(whereSeparator: { ",，;；、 \n\r\t".contains($0) }).map(String.init)
            if codes.isEmpty {
                problems.append(language.text("round_problem_no_codes"))
            }
            draft.branches = .codes(codes)
        } else {
            draft.branches = .all
        }
        return (problems.isEmpty ? draft : nil, problems)
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
