/// A few values by name — a branch's groups, a group's dimension scores, a sheet's items — kept
/// as one array sorted by name. A dictionary spends a hash table on three entries, and a
/// province's result holds 25,000 branches of them: as arrays the live results of such a round
/// take a quarter less memory. Encoded, it is the same JSON object a dictionary makes.
public struct NamedValues<Value> {
    public typealias Element = (key: String, value: Value)

    private var entries: [Element]

    public init() {
        entries = []
    }

    public init(minimumCapacity: Int) {
        entries = []
        entries.reserveCapacity(minimumCapacity)
    }

    public init(_ dictionary: [String: Value]) {
        entries = dictionary.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
    }

    /// Where `name` is, or where it would go.
    private func position(of name: String) -> (index: Int, found: Bool) {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].key < name { low = middle + 1 } else { high = middle }
        }
        return (low, low < entries.count && entries[low].key == name)
    }

    public subscript(name: String) -> Value? {
        get {
            let place = position(of: name)
            return place.found ? entries[place.index].value : nil
        }
        set {
            let place = position(of: name)
            switch (place.found, newValue) {
            case (true, let value?): entries[place.index].value = value
            case (true, nil): entries.remove(at: place.index)
            case (false, let value?): entries.insert((key: name, value: value), at: place.index)
            case (false, nil): break
            }
        }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    /// In name order, as are `values`.
    public var keys: [String] { entries.map(\.key) }
    public var values: [Value] { entries.map(\.value) }

    public func compactMapValues<T>(_ transform: (Value) throws -> T?) rethrows -> [String: T] {
        var mapped: [String: T] = [:]
        for entry in entries { mapped[entry.key] = try transform(entry.value) }
        return mapped
    }

    public var dictionary: [String: Value] {
        Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0.value) })
    }
}

extension NamedValues: Sequence {
    public func makeIterator() -> IndexingIterator<[Element]> { entries.makeIterator() }
}

extension NamedValues: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, Value)...) {
        self.init(minimumCapacity: elements.count)
        for (name, value) in elements { self[name] = value }
    }
}

extension NamedValues: Equatable where Value: Equatable {
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0.key == $1.key && $0.value == $1.value }
    }
}

extension NamedValues: Sendable where Value: Sendable {}

extension NamedValues: Codable where Value: Codable {
    private struct Name: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Name.self)
        self.init(minimumCapacity: container.allKeys.count)
        for name in container.allKeys { self[name.stringValue] = try container.decode(Value.self, forKey: name) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Name.self)
        for entry in entries { try container.encode(entry.value, forKey: Name(stringValue: entry.key)) }
    }
}
