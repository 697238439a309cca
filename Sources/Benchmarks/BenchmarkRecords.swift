import Networks
import Output

extension NetworkBenchmark.Result {
    /// Table columns of `pcdiag bench`'s network rows.
    public static let columns: [RecordPrinter.Column] = [
        .init(key: "model", title: "MODEL"), .init(key: "inference_clouds_per_s", title: "INFER/S"),
        .init(key: "latency_ms", title: "LATENCY MS"), .init(key: "saliency_clouds_per_s", title: "SALIENCY/S"),
        .init(key: "train_clouds_per_s", title: "TRAIN/S"), .init(key: "gemm_limit_clouds_per_s", title: "GEMM LIMIT/S"),
        .init(key: "classify_peak_mb", title: "CLASSIFY MB"), .init(key: "train_peak_mb", title: "TRAIN MB"),
    ]

    /// The row of `architecture`, rates to 0.1 clouds/s and latency to 0.01 ms.
    public func record(_ architecture: Architecture) -> Record {
        func rounded(_ x: Double, _ scale: Double) -> Value { .double((x * scale).rounded() / scale) }
        var r = Record()
        r["model"] = .string(architecture.name)
        r["inference_clouds_per_s"] = rounded(inferenceCloudsPerSecond, 10)
        r["latency_ms"] = rounded(latencyMilliseconds, 100)
        r["saliency_clouds_per_s"] = rounded(saliencyCloudsPerSecond, 10)
        r["train_clouds_per_s"] = rounded(trainCloudsPerSecond, 10)
        r["gemm_gflops"] = rounded(gemmGFLOPs, 1)
        r["gemm_limit_clouds_per_s"] = rounded(gemmLimitCloudsPerSecond, 1)
        r["forward_gflop_per_cloud"] = rounded(forwardGFLOPPerCloud, 1e3)
        if let peakMemory {
            r["classify_peak_mb"] = .int(peakMemory.classifyMegabytes)
            r["train_peak_mb"] = .int(peakMemory.trainMegabytes)
            r["peak_rss_mb"] = .int(max(peakMemory.classifyMegabytes, peakMemory.trainMegabytes))
        }
        return r
    }
}

extension LoadingBenchmark {
    /// Table columns of `pcdiag bench`'s loading rows.
    public static let columns: [RecordPrinter.Column] = [
        .init(key: "measurement", title: "MEASUREMENT"), .init(key: "clouds_per_s", title: "CLOUDS/S"), .init(key: "vs_read", title: "VS READ"),
    ]

    /// One row per measurement, each against the first (reading the bytes only).
    public func records(_ measurements: [Measurement]) -> [Record] { records(measurements, named: "measurement", against: "vs_read") }

    /// Rows whose `ratioKey` is each measurement's speed relative to the first's.
    func records(_ measurements: [Measurement], named nameKey: String, against ratioKey: String) -> [Record] {
        let first = measurements.first?.seconds ?? .nan
        return measurements.map { m in
            Record(fields: [
                (nameKey, .string(m.name)), ("clouds", .int(m.clouds)), ("median_s", .double(m.seconds)),
                ("clouds_per_s", .double(m.cloudsPerSecond.rounded())), (ratioKey, .double((first / m.seconds * 1000).rounded() / 1000)),
                ("threads", .int(threads)),
            ])
        }
    }
}
