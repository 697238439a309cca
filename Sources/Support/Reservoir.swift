/// A bounded uniform sample of a stream (Vitter's algorithm R, seeded): what a batch of any size keeps
/// for its percentiles and tests, in constant memory. Exact — every element kept — up to `capacity`.
public struct Reservoir<Element: Sendable>: Sendable {
    public let capacity: Int
    public private(set) var elements: [Element] = []
    /// How many were offered.
    public private(set) var seen = 0
    private var generator: SeededGenerator

    public init(capacity: Int, seed: UInt64 = 0) {
        precondition(capacity > 0, "a reservoir holds at least one element")
        self.capacity = capacity
        generator = SeededGenerator(seed: seed)
    }

    public mutating func add(_ element: Element) {
        seen += 1
        if elements.count < capacity {
            elements.append(element)
        } else {
            let slot = Int.random(in: 0 ..< seen, using: &generator)
            if slot < capacity { elements[slot] = element }
        }
    }
}
