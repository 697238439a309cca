import FuzzSupport
import Pipelines

/// A batch-row file (what `batch -o` resumes from and `merge` reads). The format follows the name, so
/// the first byte picks it (odd: CSV, even: JSON lines) and the rest is the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    InputFile.with(data + 1, size - 1, extension: data[0] & 1 == 1 ? "csv" : "jsonl") { path in
        _ = try? RowFile(path).read { _ in }
    }
    return 0
}

runFuzzer(fuzz)
