import CLibFuzzer
import Foundation

/// Hands the process to libFuzzer. On Linux SwiftPM links every executable with its `main` renamed
/// to `MODULE_main` and aliased back by the linker, so one without a `main` of its own (libFuzzer's,
/// with -parse-as-library) does not link: each target keeps an ordinary main.swift that calls this.
public func runFuzzer(_ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, body))
}
