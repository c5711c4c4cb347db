import Foundation
import Testing

@testable import KaopingServer

/// How a posted performance document is read, without a server: what the performance office's
/// system may send as a string or a number, and what makes a document unreadable.
@Suite("Performance document")
struct PerformanceDocumentTests {
    func read(_ json: String) throws(PerformanceDocument.Problem) -> (year: Int, source: String, entries: [PerformanceDocument.Entry]) {
        try PerformanceDocument.read(Data(json.utf8))
    }

    @Test func codesAndScoresComeAsStringsOrNumbersAndAreTrimmed() throws {
        let document = try read(
            #"{"year": 2026, "source": " 绩效办 ", "results": [{"unit": 1001, "score": "  88.5 ", "grade": "优秀"}, {"unit": " u2 ", "score": 90, "indicators": {"质量": 9.5, "时效": "A"}}]}"#
        )
        #expect(document.year == 2026 && document.source == "绩效办")
        #expect(document.entries.count == 2)
        #expect(document.entries[0].columns["unit"] == "1001")
        #expect(document.entries[0].columns["score"] == "88.5")
        #expect(document.entries[0].columns["grade"] == "优秀")
        #expect(document.entries[1].columns["unit"] == "u2")
        #expect(document.entries[1].columns["score"] == "90")
        #expect(document.entries[1].columns[OrganisationCSV.otherColumnPrefix + "质量"] == "9.5")
        #expect(document.entries[1].columns[OrganisationCSV.otherColumnPrefix + "时效"] == "A")
    }

    @Test func aValueOfAnotherKindCountsAsMissingNotAsANumber() throws {
        let document = try read(#"{"year": 2026, "results": [{"unit": "u1", "score": true}, 7, {"unit": ["u3"], "score": 70}]}"#)
        // true is not the score 1, and a number is not an entry.
        #expect(document.entries[0].columns["score"] == nil)
        #expect(document.entries[1].columns.isEmpty)
        #expect(document.entries[2].columns["unit"] == nil && document.entries[2].columns["score"] == "70")
    }

    @Test func theYearRunsFrom2000To2100() throws {
        func year(_ value: String) -> PerformanceDocument.Problem? {
            do {
                _ = try read(#"{"year": \#(value), "results": [{"unit": "u1", "score": 80}]}"#)
                return nil
            } catch {
                return error
            }
        }
        #expect(year("1999") == .year)
        #expect(year("2000") == nil)
        #expect(year("2100") == nil)
        #expect(year("2101") == .year)
        #expect(year("\"2026\"") == .year)
    }

    @Test func whatCannotBeReadAsADocumentIsSaidSo() {
        #expect(throws: PerformanceDocument.Problem.notJSON) { try read("[1, 2]") }
        #expect(throws: PerformanceDocument.Problem.notJSON) { try read("{\"year\": 2026, ") }
        #expect(throws: PerformanceDocument.Problem.noResults) { try read(#"{"year": 2026, "results": []}"#) }
        #expect(throws: PerformanceDocument.Problem.noResults) { try read(#"{"year": 2026, "results": {"unit": "u1"}}"#) }
        // A NUL fits neither PostgreSQL's text nor its jsonb: in a value and in an indicator's name.
        #expect(throws: PerformanceDocument.Problem.notJSON) { try read(#"{"year": 2026, "results": [{"unit": "u\u0000", "score": 80}]}"#) }
        #expect(throws: PerformanceDocument.Problem.notJSON) {
            try read(#"{"year": 2026, "results": [{"unit": "u1", "score": 80, "indicators": {"a\u0000": 1}}]}"#)
        }
    }
}
