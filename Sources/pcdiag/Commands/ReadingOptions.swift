import ArgumentParser
import PointClouds

extension PointCloudFormat: ExpressibleByArgument {}

/// How every command that reads clouds reads files whose extension does not say enough: a format for
/// all inputs, the layout of .bin records, what a mesh becomes.
struct ReadingOptions: ParsableArguments {
    @Option(name: .customLong("input-format"), help: ArgumentHelp(
        "Read every input as this format, whatever its extension: \(PointCloudFormat.allCases.map(\.rawValue).joined(separator: ", ")). Folders then take that format's files (.xyz .txt .csv .pts for any text format), and globs every file they match.",
        valueName: "format"))
    var inputFormat: PointCloudFormat?
    @Option(name: .customLong("bin-fields"), help: ArgumentHelp(
        "The float32 fields of a .bin record, in order (nuScenes: x,y,z,intensity,ring).", valueName: "names"))
    var binFields = CloudReadOptions.kittiFields.joined(separator: ",")
    @Option(help: ArgumentHelp(
        "What a mesh (.off, .obj, .stl) becomes: 'sample' (surface points, area-weighted and seeded: the model's input point count, else 2048), 'sample:N' or 'vertices'.",
        valueName: "how"))
    var mesh = "sample"

    func validate() throws {
        guard CloudReadOptions.parseFields(binFields) != nil else {
            throw ValidationError("--bin-fields needs comma-separated names, x, y and z among them, none twice (e.g. x,y,z,intensity)")
        }
        guard CloudReadOptions.parseMesh(mesh) != nil else {
            throw ValidationError("--mesh takes 'sample', 'sample:N' (N ≥ 1) or 'vertices'")
        }
    }

    /// What the library's readers take (checked by `validate`).
    var options: CloudReadOptions {
        CloudReadOptions(format: inputFormat, binFields: CloudReadOptions.parseFields(binFields)!, mesh: CloudReadOptions.parseMesh(mesh)!)
    }
}
