import FuzzSupport

/// A .pcd file as pcdiag reads it: the native reader (PCDReader), and whatever it leaves to PCL through
/// the CPCL bridge (its header checks, then PCL's reader, then the decode into a PointCloud). Every
/// failure must be a thrown PointCloudError, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { InputFile.readCloud(data, size, extension: "pcd") }

runFuzzer(fuzz)
