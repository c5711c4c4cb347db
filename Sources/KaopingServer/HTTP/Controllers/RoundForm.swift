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

    /// The spec's defaults, as the page first shows them.
    /// Fourteen days from now, at 18:00 Beijing time.
    static func proposedClosing(from now: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = ChinaTime.zone
        let day = calendar.date(byAdding: .day, value: 14, to: now) ?? now
        return calendar.date(bySettingHour: 18, minute: 0, second: 0, of: day) ?? day
    }

    static func defaults(year: Int) -> RoundForm {
        let configuration = RoundConfiguration()
        var entered: [String: String] = ["year": String(year), "branches": "all"]
        for group in groups {
            guard let settings = configuration.groups[group] else { continue }
            let prefix = group.rawValue
            entered["\(prefix)_use"] = "1"
            entered["\(prefix)_form"] = settings.form
            entered["\(prefix)_weight"] = number(settings.weight)
            entered["\(prefix)_quorum"] = String(settings.quorum.minimum)
            entered["\(prefix)_quorum_share"] = number(settings.quorum.share)
            entered["\(prefix)_trim"] = String(settings.trimming.drop)
            entered["\(prefix)_trim_from"] = String(settings.trimming.from)
        }
        for (index, band) in configuration.bands.enumerated() {
            entered["grade\(index)_name"] = band.grade
            entered["grade\(index)_min"] = number(band.minimum)
        }
        entered["veto_grade"] = configuration.vetoGrade
        entered["bonus_cap"] = number(configuration.bonusCap)
        entered["anonymity_threshold"] = String(configuration.anonymityThreshold)
        entered["missing_groups"] = configuration.missingGroups.rawValue
        let integration = configuration.integrationSettings
        entered["integration_weight"] = number(integration.partyWeight)
        if integration.baselineBarsAwards { entered["integration_veto"] = "1" }
        // A round without a closing time never closes by itself: propose one, two weeks on.
        entered["closes"] = ChinaTime.format(Self.proposedClosing(from: .now))
        return RoundForm(entered: entered)
    }

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
