import ArgumentParser
import Output
import Pipelines
import PointClouds

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe point cloud files: points, fields, layout, bounds, centroid.",
        discussion: """
            With --format json: one object for a single file, an array for several. A .safetensors model \
            file is described by its architecture, classes, parameter count, preprocessing, training and adaptation. \
            'points' counts valid points (all coordinates finite); 'total_points' counts every record, \
            including the NaN holes of organized depth scans. Inputs may be files, folders, globs or list \
            files (@list.txt). A file that cannot be read is reported on stderr and the others go on; a model \
            whose calibration is damaged is described, its calibration shown as unreadable, and reported \
            on stderr with exit status 4.
            """)

    @Argument(help: "Point cloud files (.pcd .ply .xyz .txt .csv .pts .npy .bin .off .obj .stl .las), folders, globs or @list files.") var inputs: [String]

    @OptionGroup var reading: ReadingOptions
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let console = global.console
        let paths = try CloudPaths.expand(inputs, reading: reading.options)
        let printer = RecordPrinter(format: global.format, columns: [
            .init(key: "path", title: "FILE"), .init(key: "points", title: "POINTS"),
            .init(key: "total_points", title: "TOTAL"), .init(key: "layout", title: "LAYOUT"),
            .init(key: "encoding", title: "ENCODING"), .init(key: "fields", title: "FIELDS"),
        ], single: paths.count == 1)
        let outcome = BatchOutcome(total: paths.count)
        let progress = console.progress(total: paths.count, label: "info")
        for path in paths {
            do {
                let (record, problem) = try FileDescription.record(of: path, perAxis: global.format == .csv, reading: reading.options)
                // A model has nothing to fill the clouds' table with: for reading, a block of its own.
                if global.format == .table && FileDescription.isModel(path) { printResult(FileDescription.block(record)) } else { printer.emit(record) }
                if let problem {
                    console.error(problem)
                    outcome.failed(.model)
                }
            } catch let error as PointCloudError {
                progress.finish()
                console.error(error.description)
                outcome.failed(ExitStatus.status(for: error))
            } catch {
                progress.finish()
                console.error("\(error)")
                outcome.failed(.model)
            }
            progress.advance()
        }
        progress.finish()
        printer.finish()
        try outcome.conclude()
    }
}
