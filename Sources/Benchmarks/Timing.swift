import Foundation

/// Wall-clock timing of repeated work, for the benchmarks.
enum Timing {
    /// The median of `repeats` (≥ 1) timings of `body`, in seconds; of an even count, the mean of the
    /// middle two.
    static func median(repeats: Int, _ body: () -> Void) -> Double {
        let times = (0 ..< repeats).map { _ -> Double in
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }.sorted()
        let n = times.count
        return n % 2 == 1 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2
    }
}
