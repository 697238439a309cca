import FuzzSupport
import PointClouds

/// A `path,label` CSV manifest (LabelledSet(at:)); the clouds it names are not read, only listed.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    InputFile.with(data, size, extension: "csv") { path in _ = try? LabelledSet(at: path) }
    return 0
}

runFuzzer(fuzz)
