import FuzzSupport

/// A .ply file through the CPCL bridge: its header checks, then PCL's reader, then the decode into a
/// PointCloud. Every failure must be a thrown PointCloudError, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { InputFile.readCloud(data, size, extension: "ply") }

runFuzzer(fuzz)
