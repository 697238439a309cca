// swift-tools-version:6.0
// libFuzzer targets for pcdiag's file readers. A package of its own, depending on pcdiag's by path, so
// the normal build never sees them: `make fuzz` builds it with `-sanitize=fuzzer,address` in
// .build-fuzz (see the Makefile and Fuzz/README.md).
import PackageDescription

// A path dependency is named by its folder (a worktree, a CI clone): take the name from where this
// manifest is instead of writing one down.
let pcdiag = Context.packageDirectory.split(separator: "/").dropLast().last.map { String($0).lowercased() } ?? "pcdiag"

func fuzzTarget(_ name: String) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport", .product(name: "PCDiagKit", package: pcdiag)])
}

let package = Package(
    name: "pcdiag-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        // libFuzzer's driver entry, declared for Swift.
        .target(name: "CLibFuzzer"),
        // PCDiagPCL: the PCL bridge that PCDiagKit opens on first use, built and linked here so the PCD
        // and PLY targets reach PCL in the same process.
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer", .product(name: "PCDiagKit", package: pcdiag),
                                                    .product(name: "PCDiagPCL", package: pcdiag)]),
        fuzzTarget("FuzzPCD"),
        fuzzTarget("FuzzPLY"),
        fuzzTarget("FuzzModel"),
        fuzzTarget("FuzzManifest"),
        fuzzTarget("FuzzRows"),
        fuzzTarget("FuzzText"),
        fuzzTarget("FuzzNPY"),
        fuzzTarget("FuzzBin"),
        fuzzTarget("FuzzOFF"),
        fuzzTarget("FuzzOBJ"),
        fuzzTarget("FuzzSTL"),
        fuzzTarget("FuzzLAS"),
    ]
)
