import Foundation
import Testing

@testable import KaopingForms

/// The repository's forms/ directory.
let formsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("forms").path

/// A minimal valid survey; fixtures break one thing in it at a time.
let validSurvey = """
    id: mini
    version: 1
    title: {zh-Hans: 小表, en: Mini}
    dimensions:
      - {key: d1, label: 维度一}
    scales:
      - key: s
        options:
          - {key: good, label: 好, points: 100, satisfied: true}
          - {key: bad, label: 差, points: 0}
          - {key: na, label: 不了解, unscored: true}
    sections:
      - key: one
        title: 一
        dimension: d1
        items:
          - {key: q1, type: rating, scale: s, label: 问题一}
          - {key: q2, type: rating, scale: s, label: 问题二, required: false, weight: 2}
          - {key: c, type: long-text, label: 意见}
    """

@Suite("Form files")
struct FormLoaderTests {
    @Test func theDefaultFormsLoad() throws {
        let forms = try FormLoader.load(directory: formsDirectory)
        #expect(Set(forms.map(\.id)) == ["member-integration", "public-satisfaction", "organisation-sheet"])

        let member = try #require(forms.first { $0.id == "member-integration" })
        #expect(member.kind == .survey)
        #expect(Set(member.dimensions.map(\.label.zh)) == ["思想认识融合", "能力提升融合", "作风建设融合", "实践成效融合"])
        for dimension in member.dimensions {
            let count = member.items.filter { $0.dimension == dimension.key }.count
            #expect((4...5).contains(count), "\(dimension.key) has \(count) items")
        }
        #expect(member.items.filter { $0.type == .longText }.count == 2)
        #expect(member.items.allSatisfy { $0.label.en != nil })

        let publicForm = try #require(forms.first { $0.id == "public-satisfaction" })
        #expect(publicForm.satisfactionItem == "overall")
        let scale = try #require(publicForm.scales.first)
        #expect(scale.options.map(\.label.zh) == ["满意", "基本满意", "不满意", "不了解"])
        #expect(scale.options.map(\.points) == [100, 75, 55, nil])
        #expect(scale.options.map(\.satisfied) == [true, true, false, false])

        let sheet = try #require(forms.first { $0.id == "organisation-sheet" })
        #expect(sheet.kind == .sheet)
        #expect(sheet.items.filter { $0.type == .deduction }.compactMap(\.maximum).reduce(0, +) == 100)
        #expect(sheet.items.filter { $0.type == .baseline }.count == 3)
        #expect(sheet.items.filter { $0.type == .bonus }.allSatisfy { ($0.maximum ?? 0) > 0 })
    }

    @Test func aValidFormParsesWithDefaults() throws {
        let form = try FormLoader.parse(yaml: validSurvey, file: "mini.yaml")
        #expect(form.title == LocalizedText(zh: "小表", en: "Mini"))
        let q1 = try #require(form.item("q1"))
        #expect(q1.required)
        #expect(q1.weight == 1)
        #expect(q1.dimension == "d1")  // inherited from the section
        #expect(q1.options.count == 3)  // the scale's options are copied onto the item
        #expect(form.item("q2")?.required == false)
        #expect(form.item("q2")?.weight == 2)
        #expect(form.item("c")?.required == false)
        #expect(form.item("c")?.dimension == nil)
    }

    /// Each documented error, provoked by one change to a valid form: the message and the line.
    @Test(
        arguments: [
            ("id: mini", "id: mini form", 1, "id must be 1 to 64 letters, digits, '-' or '_'"),
            ("version: 1", "version: one", 2, "version must be a whole number"),
            ("title: {zh-Hans: 小表, en: Mini}", "title: {en: Mini}", 3, "title has no zh-Hans text"),
            ("title: {zh-Hans: 小表, en: Mini}", "title: {zh-Hans: 小表, fr: Mini}", 3, "unknown key 'fr'"),
            ("version: 1", "version: 1\ncolour: red", 3, "unknown key 'colour' in a form"),
            ("version: 1", "version: 1\nkind: poll", 3, "kind must be survey or sheet"),
            ("points: 100, satisfied", "points: 120, satisfied", 9, "points must be between 0 and 100, not 120"),
            ("{key: bad, label: 差, points: 0}", "{key: bad, label: 差}", 10, "option 'bad' has no points"),
            ("{key: bad, label: 差, points: 0}", "{key: good, label: 差, points: 0}", 10, "option key 'good' is used twice"),
            ("{key: na, label: 不了解, unscored: true}", "{key: na, label: 不了解, unscored: true, points: 5}", 11, "an unscored option has no points"),
            ("scale: s, label: 问题一", "scale: t, label: 问题一", 17, "unknown scale 't' (defined: s)"),
            ("{key: q2, type: rating", "{key: q1, type: rating", 18, "item key 'q1' is already used at line 17"),
            ("type: long-text", "type: essay", 19, "unknown item type 'essay'"),
            ("type: long-text, label: 意见", "type: long-text, label: 意见, weight: 2", 19, "weight has no meaning on a long-text item"),
            ("weight: 2", "weight: 0", 18, "weight must be greater than 0"),
            ("dimension: d1", "dimension: d9", 15, "unknown dimension 'd9' (declared: d1)"),
            ("{key: q1, type: rating, scale: s, label: 问题一}", "{key: q1, type: rating, scale: s}", 17, "missing 'label'"),
            ("{key: q1, type: rating, scale: s, label: 问题一}", "{key: q1, type: rating, label: 问题一}", 17, "rating item 'q1' needs a scale"),
            ("type: long-text, label: 意见", "type: long-text, label: 意见, max-length: 0", 19, "max-length must be a whole number from 1"),
            ("type: long-text, label: 意见", "type: deduction, label: 意见, max: 5", 19, "deduction items belong on score sheets"),
            ("title: 一", "title: 一\n    colour: red", 15, "unknown key 'colour' in a section"),
            ("- key: one", "- key: one\n    items: []\n  - key: two", 14, "a section needs at least one item"),
            ("version: 1", "version: 1\nsatisfaction: nothing", 3, "satisfaction names 'nothing', which is not an item of this form"),
            ("version: 1", "version: 1\nsatisfaction: c", 3, "satisfaction item 'c' needs options marked satisfied: true"),
            ("version: 1", "version: 1\ndeduction-total: 100", 3, "deduction-total applies to score sheets"),
            ("version: 1", "version: 1\nversion: 2", 2, "duplicate key 'version'"),
            ("title: 一", "title: [一", 15, "not valid YAML"),
            (
                "{key: q1, type: rating, scale: s, label: 问题一}", "{key: q1, type: rating, scale: s, label: 问题一, options: []}", 17,
                "'options' does not apply to rating items"
            ),
            (
                "{key: na, label: 不了解, unscored: true}", "{key: na, label: 不了解, unscored: true, satisfied: true}", 11,
                "an unscored option cannot count as satisfied"
            ),
        ] as [(String, String, Int, String)]
    )
    func documentedErrorsAreReportedWithTheirLine(original: String, replacement: String, line: Int, message: String) throws {
        #expect(validSurvey.contains(original), "fixture does not apply: \(original)")
        let broken = validSurvey.replacingOccurrences(of: original, with: replacement)
        do {
            _ = try FormLoader.parse(yaml: broken, file: "forms/mini.yaml")
            Issue.record("expected: \(message)")
        } catch {
            let match = error.issues.first { $0.message.contains(message) }
            #expect(match != nil, "expected '\(message)' in:\n\(error.description)")
            #expect(match?.line == line, "line of '\(message)': \(error.description)")
            #expect(match?.file == "forms/mini.yaml")
            #expect(match?.description.hasPrefix("forms/mini.yaml:\(line):") == true)
        }
    }

    @Test func requiredItemsWithoutAScoredOptionAreRefused() throws {
        let yaml = validSurvey + "\n      - {key: q3, type: choice, label: 问题三, options: [{key: x, label: X, unscored: true}]}"
        #expect(throws: FormLoadError.self) { try FormLoader.parse(yaml: yaml, file: "f.yaml") }
        do {
            _ = try FormLoader.parse(yaml: yaml, file: "f.yaml")
        } catch {
            #expect(error.description == "f.yaml:20:9: required item 'q3' has no scored option, so it can never be scored")
        }
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let broken =
            validSurvey
            .replacingOccurrences(of: "version: 1", with: "version: 0")
            .replacingOccurrences(of: "points: 0}", with: "points: -1}")
            .replacingOccurrences(of: "scale: s, label: 问题二", with: "scale: x, label: 问题二")
        do {
            _ = try FormLoader.parse(yaml: broken, file: "f.yaml")
            Issue.record("expected errors")
        } catch {
            #expect(error.issues.count == 3, "\(error.description)")
            #expect(error.issues.map(\.line) == [2, 10, 18])
        }
    }

    @Test func scoreSheetDeductionsMustAddUpWhenTheSheetSaysSo() throws {
        let sheet = """
            id: sheet
            version: 1
            kind: sheet
            title: 考评表
            deduction-total: 100
            sections:
              - key: s
                title: 扣分
                items:
                  - {key: a, type: deduction, max: 60, label: 甲}
                  - {key: b, type: deduction, max: 35, label: 乙}
                  - {key: v, type: baseline, label: 底线}
                  - {key: x, type: bonus, cap: 3, label: 加分}
                  - {key: y, type: bonus, label: 无上限}
                  - {key: r, type: rating, scale: s, label: 不该在这里}
            """
        do {
            _ = try FormLoader.parse(yaml: sheet, file: "sheet.yaml")
            Issue.record("expected errors")
        } catch {
            let messages = error.issues.map(\.message)
            #expect(messages.contains("the deduction items' maxima add up to 95, but this sheet says they must add up to 100"))
            #expect(messages.contains("bonus item 'y' needs cap (the most points it can add)"))
            #expect(messages.contains { $0.hasPrefix("rating items belong on surveys") })
            #expect(error.issues.first { $0.message.hasPrefix("the deduction items") }?.line == 5)
        }
    }

    @Test func aDirectoryReportsEveryBrokenFileAndDuplicateIDs() throws {
        let directory = NSTemporaryDirectory() + "kaoping-forms-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try validSurvey.write(toFile: directory + "/a.yaml", atomically: true, encoding: .utf8)
        try validSurvey.write(toFile: directory + "/b.yaml", atomically: true, encoding: .utf8)
        try "id: [".write(toFile: directory + "/c.yml", atomically: true, encoding: .utf8)
        try "ignored".write(toFile: directory + "/notes.txt", atomically: true, encoding: .utf8)
        do {
            _ = try FormLoader.load(directory: directory)
            Issue.record("expected errors")
        } catch {
            #expect(error.issues.count == 2, "\(error.description)")
            #expect(error.issues[0].message == "form id 'mini' is also used by \(directory)/a.yaml")
            #expect(error.issues[1].file == directory + "/c.yml")
        }
    }

    @Test func theExampleInTheDocumentationIsValid() throws {
        let guide = try String(contentsOfFile: formsDirectory + "/../docs/forms.md", encoding: .utf8)
        let start = try #require(guide.range(of: "```yaml\n"))
        let end = try #require(guide.range(of: "```", range: start.upperBound..<guide.endIndex))
        let form = try FormLoader.parse(yaml: String(guide[start.upperBound..<end.lowerBound]), file: "docs/forms.md")
        #expect(form.id == "example-survey")
        #expect(form.item("plan")?.weight == 2)
        #expect(form.item("overall")?.dimension == "results")
        #expect(form.item("one_job")?.dimension == "thinking")
    }

    @Test func aFrozenDefinitionRoundTripsThroughJSON() throws {
        let form = try FormLoader.parse(yaml: validSurvey, file: "mini.yaml")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(form)
        #expect(try JSONDecoder().decode(FormDefinition.self, from: data) == form)
        #expect(try encoder.encode(form) == data)  // stable bytes: the checksum does not wobble
    }
}
