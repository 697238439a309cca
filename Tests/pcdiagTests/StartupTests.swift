import Foundation
import Testing
import TestSupport

/// pcdiag opens the PCL bridge (libPCDiagPCL.so) only when a command needs PCL: a binary without it
/// still starts, reads .pcd files and classifies them, and a command that needs PCL ends with one line
/// that names the library.
@Suite struct StartupTests {
    @Test func onlyCommandsThatNeedPCLNeedTheBridge() throws {
        let dir = TestPaths.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let alone = dir.appendingPathComponent("pcdiag")
        try FileManager.default.copyItem(at: CLI.binary, to: alone)

        #expect(try CLI.run(["--version"], executable: alone).status == 0)
        // The table: class and probabilities, no timing column.
        let classify = try CLI.run(["classify", TestPaths.sample("chair_scan.pcd"), "--no-diagnostics"], executable: alone)
        #expect(classify.status == 0, "\(classify.stderr)")
        #expect(classify.stdout == (try CLI.run(["classify", TestPaths.sample("chair_scan.pcd"), "--no-diagnostics"]).stdout))

        let ply = try CLI.run(["info", TestPaths.sample("lamp_cad.ply")], executable: alone)
        #expect(ply.status == 1)
        #expect(ply.stderrLines.count == 1)
        #expect(ply.stderr.contains("pcdiag: error: cannot load pcdiag's PCL bridge libPCDiagPCL.so (looked in \(dir.path)/libPCDiagPCL.so"), "\(ply.stderr)")
    }
}
