import ArgumentParser
import Output
import PointClouds

extension PointCloudEncoding: ExpressibleByArgument {}
extension PreprocessStep.Axis: ExpressibleByArgument {}

/// How a command writes a cloud file, and the rule that nothing is overwritten unless asked.
struct CloudOutputOptions: ParsableArguments {
    @Option(help: "Encoding of the output: ascii, binary or compressed (PCD only).") var encoding: PointCloudEncoding = .binary
    @Flag(help: "Overwrite the output file if it exists.") var force = false

    /// Checks before any work that `path` (when a file is asked for) can be written in this encoding.
    func validate(_ path: String?) throws {
        if encoding == .compressed, let path, PointCloudFormat(path: path) == .ply {
            throw ValidationError("-o \(path): PLY has no compressed encoding (use ascii or binary)")
        }
    }

    /// Writes `cloud` to `path`, refusing to replace an existing file without `--force`.
    func write(_ cloud: PointCloud, to path: String) throws {
        try CommandFailure.checkOutputs([path], force: force)
        if encoding == .compressed, PointCloudFormat(path: path) == .ply {
            throw CommandFailure(status: .usage, message: "\(path): PLY has no compressed encoding (use ascii or binary)")
        }
        try cloud.write(to: path, encoding: encoding)
    }
}
extension OutputFormat: ExpressibleByArgument {}
