import COpenMP
import Synchronization

/// Splits `0 ..< count` into at most `workers` contiguous ranges and runs `body` on each, in parallel.
/// Ranges are never smaller than `grain` items, so small jobs stay on the calling thread.
///
/// The work runs on libgomp's thread team — the one oneDNN's GEMMs use — not on a pool of its own:
/// between a GEMM and the loop after it, the team's threads are still spinning and take the loop at
/// once, where a second pool's threads would fight them for the cores. Called inside a parallel
/// region, it runs the ranges on the calling thread (no nested teams).
@inlinable
public func parallelRanges(_ count: Int, grain: Int = 4096, workers: Int = Parallelism.workers,
                           _ body: (Range<Int>) -> Void) {
    let parts = max(1, min(workers, count / max(grain, 1)))
    if parts == 1 {
        if count > 0 { body(0 ..< count) }
        return
    }
    withoutActuallyEscaping(body) { body in
        let job = ParallelJob(count: count, parts: parts, body: body)
        withExtendedLifetime(job) {
            GOMP_parallel({ data in
                Unmanaged<ParallelJob>.fromOpaque(data!).takeUnretainedValue().runShare()
            }, Unmanaged.passUnretained(job).toOpaque(), UInt32(parts), 0)
        }
    }
}

/// One `parallelRanges` call as the team's threads see it: each thread takes the parts numbered
/// from its thread number in steps of the team size (the team may be smaller than asked for).
@usableFromInline
final class ParallelJob: @unchecked Sendable {
    // Each part touches its own range only, which is what makes sharing `body` across threads safe.
    let count: Int, parts: Int
    let body: (Range<Int>) -> Void

    @usableFromInline
    init(count: Int, parts: Int, body: @escaping (Range<Int>) -> Void) {
        self.count = count
        self.parts = parts
        self.body = body
    }

    @usableFromInline
    func runShare() {
        let team = Int(omp_get_num_threads())
        for p in stride(from: Int(omp_get_thread_num()), to: parts, by: max(team, 1)) {
            body(count * p / parts ..< count * (p + 1) / parts)
        }
    }
}

public enum Parallelism {
    /// Worker threads for parallel loops: OpenMP's (the cores, or $OMP_NUM_THREADS).
    public static let workers = max(1, Int(omp_get_max_threads()))
}

/// `body(i)` for every `i` in `0 ..< count`, run on up to `workers` threads of the same OpenMP team as
/// `parallelRanges`; the results come back in index order, whatever thread computed them.
///
/// Items are handed out one at a time as threads come free, so a few slow items (large files) do not
/// hold up a whole share. A result must depend on its index only (derive seeds from the item, not
/// from the order of work) for the output to be the same for any number of workers. Called inside a
/// parallel region, it runs every item on the calling thread, in order.
public func parallelMap<T>(_ count: Int, workers: Int = Parallelism.workers, _ body: (Int) -> T) -> [T] {
    guard count > 0 else { return [] }
    let slots = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
    slots.initialize(repeating: nil)
    defer {
        slots.deinitialize()
        slots.deallocate()
    }
    let queue = WorkQueue(count: count)
    // One range per worker; each worker then takes items from the shared queue until it is empty.
    parallelRanges(max(1, min(workers, count)), grain: 1, workers: workers) { shares in
        for _ in shares {
            while let i = queue.next() { slots[i] = body(i) }
        }
    }
    return slots.map { $0! }
}

/// `parallelMap` for work that can fail item by item: each index's value or its error, in index order.
/// One failing item does not stop the others.
public func parallelResults<T, E: Error>(_ count: Int, workers: Int = Parallelism.workers,
                                         _ body: (Int) throws(E) -> T) -> [Result<T, E>] {
    parallelMap(count, workers: workers) { i in Result { () throws(E) -> T in try body(i) } }
}

/// The next unclaimed index of a `parallelMap`, shared by its workers.
final class WorkQueue: Sendable {
    private let claimed = Atomic<Int>(0)
    private let count: Int

    init(count: Int) { self.count = count }

    func next() -> Int? {
        let i = claimed.wrappingAdd(1, ordering: .relaxed).oldValue
        return i < count ? i : nil
    }
}
