import FuzzSupport

/// A XYZ/TXT/CSV/PTS text (a .pts, so the count line and colour columns are reached too) file through pcdiag's Swift reader: header checks against the size, then the parse.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { InputFile.readCloud(data, size, extension: "pts") }

runFuzzer(fuzz)
