import Testing

@testable import KaopingForms

@Suite("Scoring and submissions")
struct ScoringTests {
    let form = try! FormLoader.parse(yaml: validSurvey, file: "mini.yaml")

    @Test func weightedMeanOverScoredItems() {
        // q1 good (100, weight 1), q2 bad (0, weight 2) → 100 / 3
        let score = form.score(["q1": .option("good"), "q2": .option("bad"), "c": .text("fine")])
        #expect(abs((score.score ?? -1) - 100.0 / 3.0) < 1e-12)
        #expect(score.itemPoints == ["q1": 100, "q2": 0])
        #expect(abs((score.dimensionScores["d1"] ?? -1) - 100.0 / 3.0) < 1e-12)
        #expect(!score.straightLined)
    }

    @Test func unscoredAndSkippedItemsDropOut() {
        let notApplicable = form.score(["q1": .option("good"), "q2": .option("na")])
        #expect(notApplicable.score == 100)
        let skipped = form.score(["q1": .option("bad")])
        #expect(skipped.score == 0)
        let nothing = form.score(["q1": .option("na")])
        #expect(nothing.score == nil)
        #expect(nothing.dimensionScores.isEmpty)
    }

    @Test func straightLiningNeedsFiveIdenticalScoredItems() throws {
        let member = try #require(try FormLoader.load(directory: formsDirectory).first { $0.id == "member-integration" })
        var answers: [String: Answer] = [:]
        for item in member.items where item.isScored { answers[item.key] = .option("5") }
        #expect(member.score(answers).straightLined)
        #expect(member.score(answers).score == 100)
        answers["overall"] = .option("4")
        #expect(!member.score(answers).straightLined)
        // Four identical answers are too few to call it straight-lining.
        let few = Dictionary(uniqueKeysWithValues: member.items.filter(\.isScored).prefix(4).map { ($0.key, Answer.option("3")) })
        #expect(!member.score(few).straightLined)
    }

    @Test func dimensionScoresOfTheMemberForm() throws {
        let member = try #require(try FormLoader.load(directory: formsDirectory).first { $0.id == "member-integration" })
        var answers: [String: Answer] = [:]
        for item in member.items where item.isScored {
            answers[item.key] = .option(item.dimension == "thinking" ? "5" : item.dimension == "results" ? "na" : "3")
        }
        let score = member.score(answers)
        #expect(score.dimensionScores["thinking"] == 100)
        #expect(score.dimensionScores["capability"] == 70)
        #expect(score.dimensionScores["results"] == nil)
        // 4 items at 100, 4 + 5 at 70 (一般, version 2) and the overall item at 70 → (400 + 700) / 14
        #expect(abs((score.score ?? 0) - 1100.0 / 14.0) < 1e-12)
    }

    /// The members' and the public's default scales agree where they meet (docs/forms.md): the
    /// top is 100 on both, 较差 is worth what 不满意 is (55), and 一般 lies between 基本满意 (75)
    /// and 不满意, so a branch whose members mostly say 一般 cannot score below one the public
    /// finds unsatisfactory. Version 1 gave 一般 50 and 较差 25.
    @Test func theMembersScaleMeetsThePublicsScale() throws {
        let forms = try FormLoader.load(directory: formsDirectory)
        let member = try #require(forms.first { $0.id == "member-integration" })
        let people = try #require(forms.first { $0.id == "public-satisfaction" })
        #expect(member.version == 2)
        func points(_ form: FormDefinition, _ scale: String) throws -> [String: Double?] {
            let options = try #require(form.scales.first { $0.key == scale }?.options)
            return Dictionary(uniqueKeysWithValues: options.map { ($0.label.zh, $0.points) })
        }
        let five = try points(member, "five")
        let satisfaction = try points(people, "satisfaction")
        #expect(five == ["很好": 100, "较好": 85, "一般": 70, "较差": 55, "很差": 40, "不了解": nil])
        #expect(satisfaction == ["满意": 100, "基本满意": 75, "不满意": 55, "不了解": nil])
        #expect(five["很好"] == satisfaction["满意"] && five["较差"] == satisfaction["不满意"])
        let fair = try #require(five["一般"] ?? nil)
        #expect(fair < 75 && fair > 55)
        // Every rating item carries the scale's points, as a frozen definition needs.
        #expect(member.items.filter { $0.scale == "five" }.allSatisfy { $0.option("3")?.points == 70 })
    }

    @Test func aValidSubmissionBecomesAnswers() throws {
        let parsed = try form.parseSubmission([("q.q1", "good"), ("q.q2", ""), ("q.c", "  很好  ")])
        #expect(parsed.isValid)
        #expect(parsed.answers == ["q1": .option("good"), "c": .text("  很好  ")])
    }

    @Test func everyProblemIsFound() throws {
        let parsed = try form.parseSubmission(
            [("q.q2", "excellent"), ("q.c", String(repeating: "字", count: 2001))],
            limits: .init(maxTextLength: 2000)
        )
        #expect(parsed.problems.map(\.item) == ["q1", "q2", "c"])
        #expect(parsed.problems.map(\.problem) == [.required, .invalidOption, .tooLong])
        #expect(parsed.values["q.q2"] == "excellent")  // kept to show again
        let atLimit = try form.parseSubmission([("q.q1", "good"), ("q.c", String(repeating: "字", count: 2000))])
        #expect(atLimit.isValid)
    }

    @Test func unknownAndRepeatedFieldsAreMalformed() {
        #expect(throws: MalformedSubmission.unknownField("q.q9")) { try form.parseSubmission([("q.q1", "good"), ("q.q9", "x")]) }
        #expect(throws: MalformedSubmission.repeatedField("q.q1")) { try form.parseSubmission([("q.q1", "good"), ("q.q1", "bad")]) }
    }

    @Test func scoreSheetEntries() throws {
        let sheet = try #require(try FormLoader.load(directory: formsDirectory).first { $0.id == "organisation-sheet" })
        var fields: [(String, String)] = []
        for item in sheet.items {
            switch item.type {
            case .deduction: fields.append(("q.\(item.key)", "2"))
            case .baseline: fields.append(("q.\(item.key)", "pass"))
            default: break
            }
        }
        fields.append(("note.org_life", "少开一次党课"))
        let parsed = try sheet.parseSubmission(fields)
        #expect(parsed.isValid, "\(parsed.problems)")
        #expect(parsed.answers["org_life"] == .points(2, note: "少开一次党课"))
        #expect(parsed.answers["no_violations"] == .baseline(passed: true, note: ""))

        let bad = try sheet.parseSubmission([("q.org_life", "26"), ("q.study", "abc"), ("q.awards", "5"), ("q.dues_collected", "maybe")])
        let problems = Dictionary(uniqueKeysWithValues: bad.problems.map { ($0.item, $0.problem) })
        #expect(problems["org_life"] == .outOfRange)
        #expect(problems["study"] == .notANumber)
        #expect(problems["awards"] == .outOfRange)
        #expect(problems["dues_collected"] == .invalidOption)
        #expect(problems["discipline"] == .required)
        #expect(problems["innovation"] == nil)  // bonus items are optional
    }

    @Test func fullWidthDigitsFromAChineseInputMethodAreNumbers() throws {
        let sheet = try #require(try FormLoader.load(directory: formsDirectory).first { $0.id == "organisation-sheet" })
        let parsed = try sheet.parseSubmission([("q.org_life", "２．５"), ("q.study", "３"), ("q.awards", "１。５"), ("q.discipline", "２x")])
        #expect(parsed.answers["org_life"] == .points(2.5, note: ""))
        #expect(parsed.answers["study"] == .points(3, note: ""))
        #expect(parsed.answers["awards"] == .points(1.5, note: ""))
        #expect(Dictionary(uniqueKeysWithValues: parsed.problems.map { ($0.item, $0.problem) })["discipline"] == .notANumber)
        #expect(parsed.values["q.org_life"] == "２．５")  // shown again as typed
        #expect(FormDefinition.halfWidthNumber("－１２３４５６７８９０") == "-1234567890")
    }
}
