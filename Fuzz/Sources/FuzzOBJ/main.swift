import FuzzSupport
import PointClouds

/// A OBJ mesh file through pcdiag's Swift reader: header checks against the size, then the parse.
/// Every failure must be a thrown PointCloudError, never a crash. Meshes are sampled to 64 points
/// (the sampler runs; the parse is what is under test).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    InputFile.with(data, size, extension: "obj") { path in
        _ = try? PointCloudFile.read(path, options: CloudReadOptions(mesh: .sample(points: 64)))
    }
    return 0
}

runFuzzer(fuzz)
