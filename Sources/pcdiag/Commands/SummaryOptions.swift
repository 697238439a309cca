import ArgumentParser
import Output
import Pipelines
import Report

/// Where `batch` and `merge` put the summary of their rows besides the screen: a JSON file and an
/// HTML report.
struct SummaryOptions: ParsableArguments {
    @Option(help: "Write a self-contained HTML report (summary, shift verdict, flagged objects with renders when the clouds were read).") var report: String?
    @Option(help: "Write the summary as JSON to FILE.") var summary: String?

    var outputs: [String] { [report, summary].compactMap { $0 } }

    /// Prints the conclusion on stdout (`format`: table as text, json/jsonl the summary object, csv the
    /// shift test's rows) or, when the rows themselves went to stdout, the text on stderr; then writes
    /// the files asked for.
    func conclude(_ conclusion: Conclusion, format: OutputFormat, onStdout: Bool, console: Console,
                  model: String, inputs: [String], flagged: [FlaggedObject], scenes: [SceneCard] = []) throws {
        if onStdout { conclusion.print(format) } else { console.info(conclusion.text) }
        if let summary { try conclusion.writeSummary(to: summary) }
        if let report { try conclusion.writeReport(to: report, model: model, inputs: inputs.joined(separator: " "), flagged: flagged, scenes: scenes) }
    }
}
