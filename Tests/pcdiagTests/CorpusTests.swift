import Foundation
import Testing
import TestSupport

/// Every file of the malformed-input corpus (Tests/Corpus, written by scripts/make-corpus.py) through
/// the binary: no signal, never an internal error, the documented exit status, at most one line on
/// stderr and that line naming the file.
@Suite struct CorpusTests {
    static let clouds = files("clouds")
    static let models = files("models")

    /// Files that are legitimately valid: every command must read them (exit 0).
    static let valid: Set<String> = [
        "valid-pcd-ascii.pcd", "valid-pcd-binary.pcd", "valid-pcd-compressed.pcd", "valid-pcd-some-nan.pcd",
        "valid-ply-ascii.ply", "valid-ply-binary-le.ply", "valid-ply-binary-be.ply", "valid-ply-with-faces.ply",
        "valid-text-modelnet-resampled.txt", "valid-npy-f8-fortran.npy", "valid-kitti.bin", "valid-off-modelnet.off",
        "valid-stl-binary.stl", "valid-las-format0.las",
        "valid-tiny-pointnet.safetensors", "valid-tiny-pointnet-f16.safetensors", "valid-tiny-pointnet-calibrated.safetensors",
    ]

    /// Models whose weights are sound but whose calibration is damaged: `info` describes the weights and
    /// shows the calibration as unreadable and reports it (exit 4); commands that diagnose refuse them (exit 4).
    static let damagedCalibration: Set<String> = [
        "missing-calibration-tensor.safetensors", "calibration-json-missing.safetensors", "calibration-weights-short.safetensors",
        "calibration-wrong-dimension.safetensors", "absurd-flip-trials.safetensors", "absurd-alpha.safetensors",
    ]

    static func files(_ folder: String) -> [String] {
        let dir = TestPaths.root.appendingPathComponent("Tests/Corpus/\(folder)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().map { "Tests/Corpus/\(folder)/\($0)" }
    }

    static func name(_ path: String) -> String { (path as NSString).lastPathComponent }

    /// The checks every run gets; `expected` the exit status a broken file must give.
    static func check(_ run: CLI.Run, path: String, valid: Bool, expected: Int32, _ command: String) {
        #expect(!run.signaled, "\(command) \(path) died of signal \(run.status)")
        #expect(run.status != -1, "\(command) \(path) hung")
        #expect(run.status != 1, "\(command) \(path): internal error \(run.stderr)")
        #expect(run.status < 128, "\(command) \(path): status \(run.status)")
        if valid {
            #expect(run.status == 0, "\(command) \(path): \(run.stderr)")
        } else {
            #expect(run.status == expected, "\(command) \(path): status \(run.status), \(run.stderr)")
            #expect(run.stderrLines.count == 1, "\(command) \(path): \(run.stderr)")
            #expect(run.stderr.contains(path), "\(command) \(path): \(run.stderr)")
        }
    }

    @Test func theCorpusIsThere() {
        #expect(Self.clouds.count >= 40 && Self.models.count >= 25)
        // Every file the corpus calls valid is named above, and the other way round.
        let named = Set((Self.clouds + Self.models).map(Self.name).filter { $0.hasPrefix("valid-") })
        #expect(named == Self.valid)
        #expect(Self.damagedCalibration.isSubset(of: Set(Self.models.map(Self.name))))
    }

    @Test(arguments: clouds)
    func cloud(_ path: String) throws {
        let valid = Self.valid.contains(Self.name(path))
        Self.check(try CLI.run(["info", path]), path: path, valid: valid, expected: 3, "info")
        Self.check(try CLI.run(["classify", path]), path: path, valid: valid, expected: 3, "classify")
    }

    @Test(arguments: models)
    func model(_ path: String) throws {
        let name = Self.name(path)
        let valid = Self.valid.contains(name)
        let info = try CLI.run(["info", path])
        if Self.damagedCalibration.contains(name) {
            Self.check(info, path: path, valid: false, expected: 4, "info")
            #expect(info.stdout.contains("unreadable"), "info \(path) still describes the weights: \(info.stdout)")
        } else {
            Self.check(info, path: path, valid: valid, expected: 4, "info")
        }
        let classify = try CLI.run(["classify", "--model", path, "Samples/chair_cad.pcd"])
        Self.check(classify, path: path, valid: valid, expected: 4, "classify")
    }
}
