/// A dense row-major array of scalars with an explicit shape.
///
/// A reference type on purpose: layers own their output and gradient tensors and reuse them from call
/// to call (memory planned per batch shape, as in ggml), so a forward pass allocates nothing once the
/// batch shape has been seen. `resize` keeps the storage when it is large enough.
///
/// Per-point activations are [clouds, points, channels]; per-cloud ones [clouds, channels].
public final class Tensor<T: EngineScalar> {
    public private(set) var shape: [Int]
    public private(set) var count: Int
    @usableFromInline var capacity: Int
    @usableFromInline var storage: UnsafeMutablePointer<T>

    public init(shape: [Int], repeating value: T = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        count = shape.reduce(1, *)
        capacity = max(count, 1)
        storage = .allocate(capacity: capacity)
        storage.initialize(repeating: value, count: capacity)
    }

    public convenience init(shape: [Int], values: [T]) {
        self.init(shape: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { storage.update(from: $0.baseAddress!, count: count) }
    }

    deinit { storage.deallocate() }

    /// Changes the shape; the contents are unspecified afterwards unless the count is unchanged.
    public func resize(_ newShape: [Int]) {
        let newCount = newShape.reduce(1, *)
        if newCount > capacity {
            storage.deallocate()
            capacity = newCount
            storage = .allocate(capacity: capacity)
            zero(storage, capacity)
        }
        shape = newShape
        count = newCount
    }

    /// Reshapes without touching the data (same count).
    public func reshape(_ newShape: [Int]) {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        shape = newShape
    }

    @inlinable public var pointer: UnsafeMutablePointer<T> { storage }
    @inlinable public var buffer: UnsafeMutableBufferPointer<T> { UnsafeMutableBufferPointer(start: storage, count: count) }
    public var array: [T] { Array(buffer) }

    @inlinable public subscript(i: Int) -> T {
        get { storage[i] }
        set { storage[i] = newValue }
    }

    /// The size of the last dimension: channels for activations.
    @inlinable public var channels: Int { shape.last ?? 1 }
    /// Everything but the last dimension, flattened: points over all clouds, or clouds.
    @inlinable public var rows: Int { channels == 0 ? 0 : count / channels }

    public func fill(_ value: T) {
        if value == 0 { zero(storage, count) } else { storage.update(repeating: value, count: count) }
    }

    public func copy(from other: Tensor<T>) {
        resize(other.shape)
        UnsafeMutableRawPointer(storage).copyMemory(from: other.storage, byteCount: count * MemoryLayout<T>.stride)
    }

    /// Zeroes as bytes: 0.0 is all zero bits, and memset beats the generic element-wise fill this
    /// non-inlinable code would otherwise run.
    private func zero(_ p: UnsafeMutablePointer<T>, _ n: Int) {
        UnsafeMutableRawPointer(p).initializeMemory(as: UInt8.self, repeating: 0, count: n * MemoryLayout<T>.stride)
    }
}
