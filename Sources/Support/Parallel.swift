import Foundation
import Dispatch

/// Splits `0 ..< count` into at most `workers` contiguous ranges and runs `body` on each, in parallel.
/// Ranges are never smaller than `grain` items, so small jobs stay on the calling thread.
@inlinable
public func parallelRanges(_ count: Int, grain: Int = 4096, workers: Int = Parallelism.workers,
                           _ body: (Range<Int>) -> Void) {
    let parts = max(1, min(workers, count / max(grain, 1)))
    if parts == 1 {
        if count > 0 { body(0 ..< count) }
        return
    }
    // Each part touches its own range only, which is what makes sharing `body` across threads safe.
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let work = body
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            work(count * p / parts ..< count * (p + 1) / parts)
        }
    }
}

public enum Parallelism {
    /// Worker threads for parallel loops: the machine's cores.
    public static let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
}


