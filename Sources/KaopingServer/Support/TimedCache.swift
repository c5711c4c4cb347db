import NIOConcurrencyHelpers

/// A small map whose entries expire after a fixed lifetime.
public final class TimedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        let value: Value
        let expires: ContinuousClock.Instant
    }

    private let entries = NIOLockedValueBox<[Key: Entry]>([:])
    let lifetime: Duration
    let capacity: Int

    public init(lifetime: Duration, capacity: Int = 100_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    public func value(for key: Key) -> Value? {
        let now = ContinuousClock.now
        return entries.withLockedValue { entries in
            guard let entry = entries[key], entry.expires > now else { return nil }
            return entry.value
        }
    }

    /// The value stored for `key` even if it has expired (until it is evicted): for answering
    /// from the last known state while the source cannot be asked.
    public func staleValue(for key: Key) -> Value? {
        entries.withLockedValue { $0[key]?.value }
    }

    public func forget(_ key: Key) {
        _ = entries.withLockedValue { $0.removeValue(forKey: key) }
    }

    public func store(_ value: Value, for key: Key) {
        let expires = ContinuousClock.now + lifetime
        entries.withLockedValue { entries in
            if entries.count >= capacity {
                let now = ContinuousClock.now
                entries = entries.filter { $0.value.expires > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[key] = Entry(value: value, expires: expires)
        }
    }
}
