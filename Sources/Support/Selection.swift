/// The position of the largest element, the first of equals; nil when `values` is empty.
public func argmax<C: Collection>(_ values: C) -> C.Index? where C.Element: Comparable {
    values.indices.max { values[$0] < values[$1] }
}

/// Each row's `argmax` in a row-major matrix of `width` columns (logits of a batch: one label per cloud).
public func rowArgmax<C: RandomAccessCollection>(_ values: C, width: Int) -> [Int] where C.Element: Comparable, C.Index == Int {
    precondition(width > 0 && values.count % width == 0, "rows of \(width) values")
    return stride(from: values.startIndex, to: values.endIndex, by: width).map { start in
        argmax(values[start ..< start + width])! - start
    }
}

/// `count` distinct indices of `0 ..< total`, uniformly at random (the head of a seeded shuffle), in
/// the order drawn; all of them, shuffled, when `count ≥ total`.
public func randomSubset(_ count: Int, of total: Int, using generator: inout some RandomNumberGenerator) -> [Int] {
    Array(Array(0 ..< total).shuffled(using: &generator).prefix(max(count, 0)))
}
