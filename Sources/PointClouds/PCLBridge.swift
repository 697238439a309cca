import CPCLInterface
import Foundation

/// The PCL bridge (the PCDiagPCL product, `libPCDiagPCL.so`), opened on first use.
///
/// Linked into the binary, PCL's libraries — VTK, Boost and some ninety others behind its I/O — were
/// loaded and relocated on every start, `pcdiag --version` included, and took most of a short
/// command's time. Opened here, only a command that calls PCL pays for it, once.
enum PCLBridge {
    static let libraryName = "libPCDiagPCL.so"

    /// The bridge's functions; throws `.bridgeUnavailable` (naming the library and where it was
    /// looked for) when it cannot be opened.
    static func api() throws(PointCloudError) -> cpcl_api {
        try table.get().pointer.pointee
    }

    /// The table lives in the library's static data and the library is never closed.
    private struct Table: @unchecked Sendable {
        let pointer: UnsafePointer<cpcl_api>
    }

    /// Opened once per process, on first use (a static is initialised lazily and exactly once).
    private static let table: Result<Table, PointCloudError> = open()

    /// Where the library is looked for, in order: already in the process (a program that links the
    /// product, such as the fuzz targets), beside the executable (the build folder), in `../lib/pcdiag`
    /// beside it (`make install`), then by name (LD_LIBRARY_PATH, the system's folders).
    static var candidates: [String] {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        return [executable.appendingPathComponent(libraryName).path,
                executable.appendingPathComponent("../lib/pcdiag/\(libraryName)").standardized.path,
                libraryName]
    }

    private static func open() -> Result<Table, PointCloudError> {
        if let entry = dlsym(UnsafeMutableRawPointer(bitPattern: 0), CPCL_API_ENTRY) {
            return table(from: entry, library: "the \(libraryName) linked into this program")
        }
        var problems = [String]()
        for candidate in candidates {
            // A path that does not exist is no problem worth reporting; the name alone always is tried.
            if candidate.hasPrefix("/") && !FileManager.default.fileExists(atPath: candidate) { continue }
            // Lazy binding, as when PCL was linked: binding every function of PCL's and VTK's libraries
            // at once (RTLD_NOW) made a PLY read 30 % slower.
            guard let handle = dlopen(candidate, RTLD_LAZY | RTLD_LOCAL) else {
                problems.append(dlerror().map { String(cString: $0) } ?? "\(candidate): cannot be opened")
                continue
            }
            guard let entry = dlsym(handle, CPCL_API_ENTRY) else {
                problems.append("\(candidate): no \(CPCL_API_ENTRY) (not pcdiag's PCL bridge)")
                continue
            }
            return table(from: entry, library: candidate)
        }
        let looked = candidates.dropLast().joined(separator: ", ")
        return .failure(.bridgeUnavailable("cannot load pcdiag's PCL bridge \(libraryName) (looked in \(looked) and on the library path): "
            + (problems.first ?? "not found")))
    }

    private static func table(from entry: UnsafeMutableRawPointer, library: String) -> Result<Table, PointCloudError> {
        let table = unsafeBitCast(entry, to: cpcl_api_entry.self)()
        guard let table, table.pointee.version == CPCL_API_VERSION else {
            return .failure(.bridgeUnavailable("\(library) is the PCL bridge of another pcdiag build (version \(table?.pointee.version ?? 0), this one needs \(CPCL_API_VERSION)); rebuild or reinstall"))
        }
        return .success(Table(pointer: table))
    }
}
