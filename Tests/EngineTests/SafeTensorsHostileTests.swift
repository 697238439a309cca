import Engine
import Foundation
import Testing
import TestSupport

@Suite struct SafeTensorsHostileTests {
    /// JSONSerialization keeps one of two equal keys: the second tensor of a name must not pass unseen.
    @Test func aNameTwiceInTheHeaderIsCorrupt() {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) } + Array(header.utf8)
        bytes += [UInt8](repeating: 0, count: 8)
        #expect(throws: SafeTensorsError.invalid(path: "f", reason: "the header names 'a' twice")) {
            try SafeTensors.decode(bytes, path: "f")
        }
    }

    /// A killed writer's temporary goes on the next write to that output; a live writer's stays.
    @Test func staleTemporariesAreRemovedOnTheNextWrite() throws {
        let dir = TestPaths.scratch()
        let output = dir.appendingPathComponent("model.safetensors").path
        let stale = dir.appendingPathComponent(".model.safetensors.tmp-\(try deadProcessID())-1").path
        let live = dir.appendingPathComponent(".model.safetensors.tmp-\(getpid())-1").path
        for path in [stale, live] { #expect(FileManager.default.createFile(atPath: path, contents: Data(count: 100))) }
        var file = SafeTensors()
        file["w"] = .init(shape: [2], floats: [1, 2])
        try file.write(to: output)
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(try SafeTensors.read(output) == file)
        let mask = umask(0o022)
        umask(mask)
        #expect(try FileManager.default.attributesOfItem(atPath: output)[.posixPermissions] as? Int == 0o644 & ~Int(mask))
    }
}
