import FuzzSupport

/// A STL mesh (ascii or binary) file through pcdiag's Swift reader: header checks against the size, then the parse.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { InputFile.readCloud(data, size, extension: "stl") }

runFuzzer(fuzz)
