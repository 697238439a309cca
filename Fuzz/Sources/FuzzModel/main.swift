import FuzzSupport
import Networks

/// A .safetensors model: the safetensors header and data checks, the pcdiag metadata, the state dict
/// against the network the metadata asks for, and the attachments (calibration). Anything wrong must
/// be a thrown ModelError.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    InputFile.with(data, size, extension: "safetensors") { path in _ = try? Model.load(path) }
    return 0
}

runFuzzer(fuzz)
