import ArgumentParser
import Output
import Networks
import PointClouds

struct RobustnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robustness",
        abstract: "Accuracy under seeded corruptions, and the mean corruption error against a reference model.",
        discussion: """
            Each cloud of the labelled set (--data) is prepared as the model expects, corrupted (see pcdiag \
            corrupt; ModelNet-C's protocol: the corruption acts on the unit-sphere cloud) and prepared \
            again, for every --kind and --severity. Prints the clean accuracy and the accuracy per \
            corruption; with --reference, each kind's corruption error CE = Σ_severities (1 − accuracy) / \
            the same for the reference model, and their mean, mCE (Ren et al. 2022). Seeds come from --seed \
            and each file's path, so both models see the same corrupted clouds. csv and jsonl have one row \
            per corruption and severity after one for the clean set (kind none, severity 0): kind, \
            severity, accuracy and, with --reference, reference_accuracy and ce (the kind's CE).

            --format json prints one object; jsonl and csv one row per corruption and severity.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Labelled set: class folders or a CSV manifest.") var data: String
    @Option(help: "Reference model for CE and mCE (ModelNet-C uses DGCNN).") var reference: String?
    @Option(help: "Corruptions: a comma-separated list of kinds, or 'all'.", transform: KindSelection.init) var kind = try! KindSelection("all")
    @Option(help: "Severities 1…5, a comma-separated list, or 'all'.", transform: SeveritySelection.init) var severity = try! SeveritySelection("all")
    @OptionGroup var subset: SubsetOptions

    @OptionGroup var reading: ReadingOptions
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let corruptions = kind.kinds.flatMap { k in severity.levels.map { Corruption(k, severity: $0) } }
        let referenceModel = try reference.map { try Model.load($0) }
        let (result, referenceResult) = try Robustness.measure(try modelOptions.load(), reference: referenceModel, data: data, corruptions: corruptions,
                                                               seed: subset.seed, limit: subset.limit, batchSize: subset.batchSize,
                                                               reading: reading.options, console: global.console)
        let compared = reference.flatMap { path in referenceResult.map { (path: path, result: $0) } }
        printEvaluation(global.format, object: result.record(model: try modelOptions.resolvedPath(), data: data, reference: compared),
                        rows: result.rows(against: referenceResult), table: result.table(against: compared))
    }
}
