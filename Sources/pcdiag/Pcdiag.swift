import ArgumentParser
import Benchmarks
import Foundation
import Output
import Pipelines
import Networks
import PointClouds

struct Pcdiag: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "pcdiag",
        abstract: "Point cloud classification with domain-shift diagnostics.",
        discussion: """
            Reads scans and models — PCD and PLY as the Point Cloud Library reads them (PCL is loaded only when \
            a command needs it); XYZ/TXT/CSV/PTS text, NumPy \
            .npy, KITTI/nuScenes .bin, OFF/OBJ/STL meshes (surface-sampled) and LAS parsed by pcdiag — by \
            extension or --input-format, and prepares them for classification. LAZ: convert it with \
            'pdal translate' or 'las2las' first.

            Results go to stdout, logs and progress to stderr. Exit status: 0 ok, 1 internal error, 2 usage, \
            3 unreadable or invalid input, 4 model problem, 5 some inputs of several failed, 6 output not \
            written, 7 an object was flagged fragile (batch --fail-on-flag).
            """,
        version: version,
        subcommands: [InfoCommand.self, ConvertCommand.self, PreprocessCommand.self, CorruptCommand.self, ClassifyCommand.self,
                      SaliencyCommand.self, SegmentCommand.self, CalibrateCommand.self, BatchCommand.self, MergeCommand.self, EvaluateCommand.self,
                      EvaluateOODCommand.self, RobustnessCommand.self, TrainCommand.self, AdaptCommand.self, BenchCommand.self])
}

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print only results and errors.") var quiet = false
    @Flag(name: .shortAndLong, help: "Also log what each step does.") var verbose = false
    @Option(help: "Format of the results on stdout: table, json (one object, or an array of rows), jsonl (an object a line) or csv (the command's overview says what a row is).")
    var format: OutputFormat = .table

    var console: Console { Console(level: quiet ? .quiet : verbose ? .verbose : .normal) }

    /// The command line as a model records it: a resumed run is the same run, so without --resume.
    static var commandWithoutResume: String { (["pcdiag"] + CommandLine.arguments.dropFirst().filter { $0 != "--resume" }).joined(separator: " ") }
}

@main
enum Main {
    static func main() {
        // A reader that went away (`| head`) shows up as EPIPE on the next write, which ends the run quietly.
        signal(SIGPIPE, SIG_IGN)
        PeakMemory.reportAtExitIfAsked()
        do {
            var command = try Pcdiag.parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch let end as Exit {
            exit(end.status.rawValue)
        } catch {
            if let (status, message) = ExitStatus.report(error) {
                Console.write("pcdiag: error: \(message)")
                exit(status.rawValue)
            }
            if Pcdiag.exitCode(for: error) == .success {
                printResult(Pcdiag.fullMessage(for: error))
                exit(ExitStatus.ok.rawValue)
            }
            // One line: the problem and where to read more.
            let message = Pcdiag.message(for: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(error)"
            Console.write("pcdiag: usage error: \(message) (see 'pcdiag help')")
            exit(ExitStatus.usage.rawValue)
        }
    }
}
