import ArgumentParser
import Diagnostics
import Foundation
import Output
import Networks
import PointClouds
import Statistics
import Support

struct EvaluateOODCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate-ood",
        abstract: "How well each indicator tells out-of-distribution clouds, and wrong answers, apart.",
        discussion: """
            Diagnoses an in-distribution set (--id) and an out-of-distribution one (--ood) and reports, \
            for every indicator and the fragility score, AUROC, AUPR and the false-positive rate at 95 % \
            true-positive rate, the POSITIVE class being out-of-distribution. Each indicator is oriented \
            by its meaning, not by the data (margin and drop_rounds count as suspicious when low, the \
            others when high), so an AUROC below 0.5 says the indicator moves the other way. With \
            --labels, the error-detection AUROC on the --id set (positive: a wrong prediction) is added; \
            then --ood may be left out. Sets are class-folder trees or CSV manifests; --exclude drops \
            classes from the OOD set (say, the model's own classes under other names).
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "In-distribution set: class folders or a CSV manifest.")
    var id: String

    @Option(help: "Out-of-distribution set: class folders or a CSV manifest.")
    var ood: String?

    @Option(help: "Classes of the OOD set to leave out, comma-separated.")
    var exclude: String?

    @Flag(help: "The --id set's classes are the model's: also report error-detection AUROC.")
    var labels = false

    @Option(help: "At most this many clouds per set (a seeded random subset).")
    var limit: Int?

    @Option(help: "Seed of the subsets.")
    var seed: UInt64 = 1

    @Option(help: "Output format: table or json.")
    var format: OutputFormat = .table

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard ood != nil || labels else { throw ValidationError("give --ood, --labels or both") }
        if let limit, limit < 2 { throw ValidationError("--limit must be at least 2") }
    }

    func run() throws {
        let console = global.console
        let model = try modelOptions.load()
        let diagnostician = try modelOptions.diagnostician(for: model)
        if diagnostician.calibration == nil { console.warning("the model is not calibrated: no fragility score (pcdiag calibrate)") }
        let idSet = try labels ? LabelledData.load(id, for: model, console: console).set : Self.load(id, excluding: [], model: model, console: console)
        let oodSet = try ood.map { try Self.load($0, excluding: Set((exclude ?? "").split(separator: ",").map(String.init)), model: model, console: console) }
        let idChosen = subset(idSet.count), oodChosen = oodSet.map { subset($0.count) } ?? []
        let bar = console.progress(total: idChosen.count + oodChosen.count, label: "evaluate-ood")
        let idResults = examine(idSet, idChosen, diagnostician, bar)
        let oodResults = oodSet.map { examine($0, oodChosen, diagnostician, bar) } ?? []
        bar.finish()
        let wrong = zip(idChosen, idResults).map { idSet.labels[$0] != $1.diagnosis.prediction.label }
        var rows = [Record]()
        for key in Indicator.allCases.map(\.key) + ["fragility"] {
            func suspicion(_ r: (diagnosis: Diagnosis, assessment: Assessment?)) -> Double? {
                key == "fragility" ? r.assessment?.fragility : Indicator(rawValue: key)!.suspicion(in: r.diagnosis.indicators)
            }
            let idScores = idResults.compactMap(suspicion), oodScores = oodResults.compactMap(suspicion)
            guard idScores.count == idResults.count, oodScores.count == oodResults.count, !idScores.isEmpty else { continue }
            var r = Record()
            r["indicator"] = .string(key)
            if !oodScores.isEmpty {
                let scores = idScores + oodScores, positives = idScores.map { _ in false } + oodScores.map { _ in true }
                r["auroc"] = Self.value(auroc(scores: scores, positives: positives))
                r["aupr"] = Self.value(averagePrecision(scores: scores, positives: positives))
                r["fpr95"] = Self.value(fprAtTPR(scores: scores, positives: positives))
            }
            if labels { r["error_auroc"] = Self.value(auroc(scores: idScores, positives: wrong)) }
            rows.append(r)
        }
        if format == .json || format == .jsonl {
            var out = Record()
            out["model"] = .string(try modelOptions.resolvedPath())
            out["positive"] = .string(ood == nil ? "wrong prediction" : "out-of-distribution")
            out["id"] = .object(Record(fields: [("data", .string(id)), ("clouds", .int(idResults.count))]
                + (labels ? [("accuracy", .double(1 - Double(wrong.filter { $0 }.count) / Double(max(wrong.count, 1))))] : [])))
            if let ood { out["ood"] = .object(Record(fields: [("data", .string(ood)), ("clouds", .int(oodResults.count))])) }
            out["indicators"] = .object(Record(fields: rows.map { r in (r["indicator"]!.text, .object(Record(fields: r.fields.filter { $0.key != "indicator" }))) }))
            printResult(out.json)
            return
        }
        console.info("in-distribution: \(idResults.count) clouds of \(id)" + (ood.map { "; out-of-distribution (positive): \(oodResults.count) clouds of \($0)" } ?? ""))
        if labels { console.info(String(format: "accuracy on the in-distribution set: %.2f %%", 100 * (1 - Double(wrong.filter { $0 }.count) / Double(max(wrong.count, 1))))) }
        let printer = RecordPrinter(format: .table, columns: [.init(key: "indicator", title: "INDICATOR")]
            + (ood == nil ? [] : [.init(key: "auroc", title: "AUROC"), .init(key: "aupr", title: "AUPR"), .init(key: "fpr95", title: "FPR95")])
            + (labels ? [.init(key: "error_auroc", title: "ERROR_AUROC")] : []))
        rows.forEach(printer.emit)
        printer.finish()
    }

    static func value(_ x: Double?) -> Value { x.map { .double(($0 * 10_000).rounded() / 10_000) } ?? .null }

    /// The clouds to use: all, or a seeded subset of `limit`, in set order.
    func subset(_ count: Int) -> [Int] {
        guard let limit, limit < count else { return Array(0 ..< count) }
        var generator = SeededGenerator(seed: seed)
        return Array(Array(0 ..< count).shuffled(using: &generator).prefix(limit)).sorted()
    }

    func examine(_ set: PreparedSet, _ chosen: [Int], _ diagnostician: Diagnostician, _ bar: ProgressMeter) -> [(diagnosis: Diagnosis, assessment: Assessment?)] {
        var results = [(diagnosis: Diagnosis, assessment: Assessment?)]()
        for start in stride(from: 0, to: chosen.count, by: diagnostician.options.batchSize) {
            let part = chosen[start ..< min(start + diagnostician.options.batchSize, chosen.count)]
            results += diagnostician.examine(part.map(set.cloud))
            bar.advance(by: part.count)
        }
        return results
    }

    /// A set whose classes need not be the model's (its labels are not used).
    static func load(_ data: String, excluding: Set<String>, model: Model, console: Console) throws -> PreparedSet {
        var set = try LabelledSet(at: data)
        set.samples = set.samples.filter { !excluding.contains(set.classes[$0.label]) }
        let (prepared, failures) = try PreparedSet.load(set, preprocessing: model.metadata.preprocessing)
        for f in failures { console.warning("skipped \(f)") }
        guard prepared.count > 0 else { throw CommandFailure(status: .badInput, message: "\(data): no usable clouds") }
        return prepared
    }
}
