import Foundation
import Testing

@testable import KaopingAggregation

@Suite("Named values")
struct NamedValuesTests {
    @Test func keepsNamesInOrderAndBehavesAsADictionary() {
        var values: NamedValues<Double> = ["thinking": 80, "results": 70]
        values["ability"] = 60
        values["results"] = 75
        values["missing"] = nil
        #expect(values.keys == ["ability", "results", "thinking"])
        #expect(values.values == [60, 75, 80])
        #expect(values["results"] == 75 && values["style"] == nil)
        values["ability"] = nil
        #expect(values.count == 2 && values.dictionary == ["results": 75, "thinking": 80])
        #expect(values == NamedValues(["thinking": 80, "results": 75]))
        #expect(values != ["thinking": 80])
        #expect(NamedValues<Double>().isEmpty)
    }

    @Test func encodesAsTheDictionaryItReplaces() throws {
        let dictionary: [String: Double] = ["思想": 81.25, "b": 2, "a": 1, "Z": 0.5]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let named = try encoder.encode(NamedValues(dictionary))
        #expect(named == (try encoder.encode(dictionary)))
        let decoded = try JSONDecoder().decode(NamedValues<Double>.self, from: named)
        #expect(decoded.dictionary == dictionary)
        #expect(decoded.keys == dictionary.keys.sorted())
    }
}
