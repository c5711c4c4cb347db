import Foundation
import Testing

@testable import KaopingServer

/// The interface text files: both languages say everything, with the same placeholders; every
/// text the code and the templates ask for exists, and none is left unused.
@Suite("Interface text")
struct TextCatalogueTests {
    static let sources = TestDatabaseServer.repositoryRoot + "/Sources"
    static let locales = sources + "/KaopingServer/Resources/locales"
    static let templates = sources + "/KaopingServer/Resources/templates"

    static func files(under directory: String, ending suffix: String) throws -> [(path: String, text: String)] {
        let enumerator = try #require(FileManager.default.enumerator(atPath: directory))
        return try enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(suffix) }.sorted().map { relative in
            (relative, try String(contentsOfFile: directory + "/" + relative, encoding: .utf8))
        }
    }

    static func matches(_ pattern: String, in text: String) throws -> [String] {
        let regex = try NSRegularExpression(pattern: pattern)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    @Test func bothLanguagesHaveTheSameKeysAndPlaceholders() throws {
        let catalogue = try TextCatalogue(directory: Self.locales)
        let chinese = try #require(catalogue.texts[.chinese])
        let english = try #require(catalogue.texts[.english])
        #expect(chinese.count > 300)
        #expect(Set(chinese.keys) == Set(english.keys))
        for (key, text) in chinese {
            #expect(TextCatalogue.placeholders(in: text) == TextCatalogue.placeholders(in: english[key] ?? ""), "\(key)")
        }
        #expect(TextCatalogue.placeholders(in: chinese["rounds_confirm_close_1"] ?? "") == ["n", "time"])
        // What the server reads is the same as the files.
        #expect(Language.chinese.text("app_name") == "考评")
        #expect(Language.english.text("rounds_issued", ["n": 12]) == "12 invitations issued.")
    }

    @Test func everyKeyTheTemplatesAndTheCodeUseExists() throws {
        let known = Set(try #require(try TextCatalogue(directory: Self.locales).texts[.chinese]).keys)
        var used: [(key: String, place: String)] = []
        for (path, text) in try Self.files(under: Self.templates, ending: ".mustache") {
            used += try Self.matches(#"\{\{[#^/&]?t\.([A-Za-z0-9_]+)\}\}"#, in: text).map { ($0, path) }
        }
        for (path, text) in try Self.files(under: Self.sources, ending: ".swift") {
            used += try Self.matches(#"messageKey: "([a-z0-9_]+)""#, in: text).map { ($0, path) }
            // Keys given to language.text(…) or to a catalogue-named problem, also as either
            // side of a choice: every key-shaped literal there that is not a placeholder's name.
            for line in text.split(separator: "\n") where line.contains("text(") || line.contains("Problem(") || line.contains(".init(\"") {
                used += try Self.matches(#"(?:text\(|Problem\(|\.init\(|\? |: )"([a-z][a-z0-9]*_[a-z0-9_]*[a-z0-9])"(?!:)"#, in: String(line))
                    .map { ($0, path) }
            }
        }
        #expect(used.count > 400)
        for (key, place) in used {
            #expect(known.contains(key), "\(place) uses '\(key)', which no catalogue has")
        }
    }

    @Test func noKeyIsUnused() throws {
        let keys = try #require(try TextCatalogue(directory: Self.locales).texts[.chinese]).keys
        let templates = try Self.files(under: Self.templates, ending: ".mustache").map(\.text).joined(separator: "\n")
        let swift = try Self.files(under: Self.sources, ending: ".swift").map(\.text).joined(separator: "\n")
        // Keys made at run time, such as "round_status_\(status.rawValue)": a family is used as
        // a whole.
        let families = try Self.matches(#""([a-z0-9_]+_)\\\("#, in: swift)
        #expect(families.contains("round_status_"))
        let unused = keys.filter { key in
            !templates.contains("t.\(key)}}") && !swift.contains("\"\(key)\"") && !families.contains { key.hasPrefix($0) }
        }
        #expect(unused.isEmpty, "unused: \(unused.sorted().joined(separator: ", "))")
    }

    @Test func aBrokenFileIsNamedWithItsLine() throws {
        let directory = NSTemporaryDirectory() + "kaoping-locales-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func write(chinese: String, english: String) throws {
            try chinese.write(toFile: directory + "/zh-Hans.yaml", atomically: true, encoding: .utf8)
            try english.write(toFile: directory + "/en.yaml", atomically: true, encoding: .utf8)
        }
        func problem() -> TextCatalogueError? {
            do {
                _ = try TextCatalogue(directory: directory)
                return nil
            } catch {
                return error
            }
        }

        try write(chinese: "# comment\nsaved: \"已保存\"\ncount: \"共 {n} 份\"\n", english: "saved: \"Saved\"\ncount: \"{n} in all\"\n")
        #expect(problem() == nil)

        try write(chinese: "saved: \"已保存\"\ncount: \"共 {n} 份\"\n", english: "saved: \"Saved\"\n")
        #expect(problem() == TextCatalogueError(file: directory + "/zh-Hans.yaml", line: 2, reason: "'count' is missing from \(directory)/en.yaml"))

        try write(chinese: "saved: \"已保存\"\n", english: "saved: \"Saved\"\nextra: \"More\"\n")
        #expect(problem()?.line == 2)
        #expect(problem()?.reason == "'extra' is missing from \(directory)/zh-Hans.yaml")

        try write(chinese: "saved: \"已保存\"\ncount: \"共 {n} 份\"\n", english: "saved: \"Saved\"\ncount: \"{count} in all\"\n")
        #expect(problem()?.description == "\(directory)/en.yaml:2: 'count' has the placeholders {count} but \(directory)/zh-Hans.yaml has {n}")

        try write(chinese: "saved: \"已保存\"\nsaved: \"又一个\"\n", english: "saved: \"Saved\"\n")
        #expect(problem()?.file == directory + "/zh-Hans.yaml")
        #expect(problem()?.reason.contains("saved") == true)

        try write(chinese: "saved: [\"已保存\"]\n", english: "saved: \"Saved\"\n")
        #expect(problem()?.reason == "'saved' must have a text")

        try write(chinese: "saved: \"已保存\n", english: "saved: \"Saved\"\n")
        #expect(problem()?.reason.hasPrefix("is not valid YAML") == true)
    }
}
