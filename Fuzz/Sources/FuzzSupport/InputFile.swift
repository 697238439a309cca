import Foundation

/// The readers under test take paths, so each input is written to a file first: one per process and
/// extension, in /dev/shm so the fuzzer's hundreds of writes a second never touch a disk. libFuzzer
/// runs inputs one after another in a process, so one file each is enough.
public enum InputFile {
    public static func with(_ data: UnsafePointer<UInt8>?, _ size: Int, extension ext: String,
                            _ body: (String) -> Void) {
        let directory = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = "\(directory)/pcdiag-fuzz-\(getpid()).\(ext)"
        guard let file = fopen(path, "wb") else { fatalError("cannot write the fuzz input \(path)") }
        if let data, size > 0, fwrite(data, 1, size, file) != size { fatalError("short write to \(path)") }
        fclose(file)
        body(path)
        unlink(path)
    }
}
