import ArgumentParser
import Output
import PointClouds

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a cloud between formats (by extension), keeping every field.",
        discussion: """
            Reads every format pcdiag reads (.pcd .ply .xyz .txt .csv .pts .npy .bin .off .obj .stl .las); \
            writes .pcd, .ply, .xyz/.txt/.pts (space-separated) and .csv with a header line of field names, \
            and .npy (float32, points × columns: x y z, red green blue when there is colour, then the fields). \
            Organized clouds stay organized in PCD; binary PCD/PLY, text and NPY output keep coordinates bit-exact.
            """)

    @Argument(help: "Input cloud (any format pcdiag reads; see --input-format).") var input: String
    @Argument(help: "Output cloud (.pcd, .ply, .xyz, .txt, .pts, .csv or .npy).") var output: String
    @OptionGroup var out: CloudOutputOptions
    @OptionGroup var reading: ReadingOptions
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let file = try PointCloudFile.read(input, options: reading.options)
        try out.write(file.cloud, to: output)
        global.console.verbose("\(input) → \(output): \(file.cloud.count) points, fields \(file.cloud.fieldNames.joined(separator: " "))")
    }
}
