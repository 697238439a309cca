import ArgumentParser
import Output
import PointClouds

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert between PCD and PLY (by extension), keeping every field.",
        discussion: "Organized clouds stay organized in PCD; binary output keeps coordinates bit-exact.")

    @Argument(help: "Input cloud (.pcd or .ply).")
    var input: String

    @Argument(help: "Output cloud (.pcd or .ply).")
    var output: String

    @OptionGroup var out: CloudOutputOptions
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let file = try PointCloudFile.read(input)
        try out.write(file.cloud, to: output)
        global.console.verbose("\(input) → \(output): \(file.cloud.count) points, fields \(file.cloud.fieldNames.joined(separator: " "))")
    }
}
