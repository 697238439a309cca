// swift-tools-version:6.0
import PackageDescription

// Data flows one way: bridges (CPCL for files, CEigen for numerics) → point clouds → engine → networks →
// diagnostics / adaptation → report, output, pipelines → CLI.
let package = Package(
    name: "pcdiag",
    products: [
        .executable(name: "pcdiag", targets: ["pcdiag"]),
        .library(name: "PCDiagKit", targets: ["PointClouds", "Engine", "Networks", "Statistics", "Diagnostics", "Adaptation", "Report", "Output", "Pipelines"]),
        // The PCL bridge, a shared library that PointClouds opens on first use (dlopen): PCL's libraries and
        // VTK behind them take longer to load than most commands run. Install it beside the binary or in
        // ../lib/pcdiag (make install does).
        .library(name: "PCDiagPCL", type: .dynamic, targets: ["CPCL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Include paths of PCL and Eigen come from pkg-config through this system library target.
        .systemLibrary(name: "CPCLSystem", pkgConfig: "pcl_common",
                       providers: [.apt(["libpcl-dev", "libeigen3-dev"])]),
        // The bridge's C header alone (types and the table of its functions), for the code that opens it.
        .systemLibrary(name: "CPCLInterface"),
        .target(
            name: "CPCL",
            dependencies: ["CPCLSystem"],
            linkerSettings: [
                .linkedLibrary("pcl_io"), .linkedLibrary("pcl_io_ply"), .linkedLibrary("pcl_filters"),
                .linkedLibrary("pcl_segmentation"), .linkedLibrary("pcl_sample_consensus"), .linkedLibrary("pcl_features"),
                .linkedLibrary("pcl_search"), .linkedLibrary("pcl_kdtree"), .linkedLibrary("pcl_common"),
                .linkedLibrary("flann_cpp"),
            ]),
        // The numeric bridge: Eigen's eigensolver, with Eigen's headers only (no PCL).
        .systemLibrary(name: "CEigenSystem", pkgConfig: "eigen3", providers: [.apt(["libeigen3-dev"])]),
        .target(name: "CEigen", dependencies: ["CEigenSystem"]),
        // libgomp: oneDNN's and PCL's OpenMP runtime, which pcdiag's parallel loops share.
        .systemLibrary(name: "COpenMP"),
        // Small shared pieces: the seeded generator, parallel loops.
        .target(name: "Support", dependencies: ["COpenMP"]),
        .target(name: "PointClouds", dependencies: ["CPCLInterface", "Support"]),
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .target(name: "Engine", dependencies: ["CDNNL", "Support"]),
        .target(name: "Networks", dependencies: ["Engine", "PointClouds", "Output", "Support"]),
        // Rank metrics, two-sample tests and logistic regression for the diagnostics; dependency-free.
        .target(name: "Statistics"),
        .target(name: "Diagnostics", dependencies: ["Networks", "Engine", "PointClouds", "Statistics", "Output", "CEigen", "Support"]),
        // The batch report (HTML with SVG charts) and the renders of saliency maps (SVG, PNG).
        .target(name: "Report", dependencies: ["PointClouds"]),
        // What a command says: result records as table / JSON / JSON lines / CSV, logs and progress on
        // stderr, exit statuses.
        .target(name: "Output", dependencies: ["Support"]),
        // What the commands run: the batch runner (resume, shards, the output lock), the one row schema
        // of classify / batch / merge, input preparation, saliency export.
        .target(name: "Pipelines", dependencies: ["Adaptation", "Diagnostics", "Networks", "PointClouds", "Statistics", "Report", "Output", "Support"]),
        // Unsupervised domain adaptation: self-supervised heads and tasks, the SM-DSB gate, the UDA step on the training loop.
        .target(name: "Adaptation", dependencies: ["Diagnostics", "Networks", "Engine", "PointClouds", "Output", "Support"]),
        // What `pcdiag bench` measures: loading, network speed, peak memory. Not part of PCDiagKit.
        .target(name: "Benchmarks", dependencies: ["Networks", "Engine", "PointClouds", "Output", "Support"]),
        .executableTarget(
            name: "pcdiag",
            dependencies: ["Support", "PointClouds", "Networks", "Diagnostics", "Adaptation", "Output", "Pipelines", "Benchmarks",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // The finite-difference gradient check every layer's, loss's and network's backward is tested with.
        .target(name: "EngineTestSupport", dependencies: ["Engine", "Support"], path: "Tests/EngineTestSupport"),
        .testTarget(name: "PointCloudsTests", dependencies: ["PointClouds", "Support", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Support", "EngineTestSupport", "TestSupport"]),
        .testTarget(name: "NetworksTests", dependencies: ["Networks", "Engine", "PointClouds", "Output", "Support", "EngineTestSupport", "TestSupport"]),
        .testTarget(name: "OutputTests", dependencies: ["Output"]),
        .testTarget(name: "StatisticsTests", dependencies: ["Statistics", "Support"]),
        .testTarget(name: "DiagnosticsTests", dependencies: ["Diagnostics", "Networks", "Engine", "PointClouds", "Output", "Statistics", "Support", "EngineTestSupport", "TestSupport"]),
        .testTarget(name: "PipelinesTests", dependencies: ["Pipelines", "Diagnostics", "PointClouds", "Output", "Support", "TestSupport"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Diagnostics", "PointClouds", "Support", "TestSupport"]),
        .testTarget(name: "AdaptationTests", dependencies: ["Adaptation", "Networks", "Engine", "PointClouds", "Support", "EngineTestSupport"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "PointClouds", "TestSupport"]),
        // The CLI tests run the built binary: depending on it gets it built first.
        .testTarget(name: "pcdiagTests", dependencies: ["pcdiag", "PointClouds", "Engine", "Networks", "Diagnostics", "Support", "TestSupport"]),
    ],
    cxxLanguageStandard: .cxx17
)
