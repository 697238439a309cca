import ArgumentParser
import Output
import PointClouds

struct CorruptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corrupt",
        abstract: "Write seeded corrupted copies of clouds, for robustness sets.",
        discussion: """
            Kinds (severity 1…5; parameters relative to the cloud normalised to the unit sphere, results \
            mapped back to its frame): the seven of ModelNet-C (Ren, Kong, Chen 2022) with its parameters \
            — jitter (Gaussian, σ 0.01×severity), scale (per-axis factor in [1/s, s], s 1.6…2.0, then \
            renormalised), rotate (three Euler angles within ±6°×severity), dropout-global (25…75 % of the \
            points), dropout-local (100×severity points per 1024 in 1–7 clusters), add-global (10×severity \
            points per 1024 in the unit ball), add-local (100×severity points per 1024 in 1–7 Gaussian \
            clusters) — and occlusion (the side seen from a random viewpoint 10, 4, 2.5, 1.8, 1.4 radii \
            away), lidar (visible points near 16, 12, 8, 6, 4 elevation rings of a sensor 4 radii away) and \
            density (points dropped with a probability rising to 0.3…0.9 along a random direction).

            One input file and one corruption, OUT named .pcd or .ply: OUT is the output file. Otherwise OUT \
            is a folder: a folder input is mirrored into it (same relative paths), a file input keeps its \
            name, and with several kinds or severities each goes to OUT/KIND-SEVERITY/. Each file's seed is \
            derived from --seed and its path relative to its input folder (its name for a file input), so \
            results do not depend on order or threads. Points with NaN or infinite coordinates are dropped; \
            colours and fields follow their points. Nothing is written when an output exists without \
            --force. Prints one summary row per corruption: files, points in and out.
            """)

    @Argument(help: ArgumentHelp("Input clouds (any format pcdiag reads), folders, globs or @list files, then the output.", valueName: "in… out"))
    var paths: [String] = []
    @Option(help: ArgumentHelp("""
        Corruption: \(Corruption.Kind.allCases.map(\.rawValue).joined(separator: ", ")); a comma-separated \
        list, or 'all'.
        """, valueName: "kind"), transform: KindSelection.init)
    var kind: KindSelection
    @Option(help: ArgumentHelp("Severity 1 (mild) … 5 (harsh), a comma-separated list, or 'all'.", valueName: "1…5"),
            transform: SeveritySelection.init)
    var severity: SeveritySelection
    @Option(help: "Base seed of the random draws.") var seed: UInt64 = 0

    @OptionGroup var out: CloudOutputOptions
    @OptionGroup var reading: ReadingOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard paths.count >= 2 else { throw ValidationError("give the input clouds, then the output file or folder") }
    }

    var corruptions: [Corruption] {
        kind.kinds.flatMap { k in severity.levels.map { Corruption(k, severity: $0) } }
    }

    func run() throws {
        let console = global.console
        let job = try CorruptionRun(inputs: Array(paths.dropLast()), output: paths[paths.count - 1], corruptions: corruptions,
                                    encoding: out.encoding, force: out.force, seed: seed, reading: reading.options)
        let outcome = BatchOutcome(total: job.items.count)
        let progress = console.progress(total: job.items.count, label: "corrupt")
        let totals = try job.run { i, result in
            if let error = result.error {
                progress.finish()
                console.error(error.description)
                outcome.failed(ExitStatus.status(for: error))
            }
            for (c, pointsOut) in result.pointsOut.enumerated() {
                console.verbose("\(job.items[i].path) → \(job.targets[i][c]): \(result.pointsIn) → \(pointsOut) points "
                    + "(\(job.corruptions[c].kind.rawValue) \(job.corruptions[c].severity), seed \(result.seed))")
            }
            progress.advance()
        }
        progress.finish()

        let printer = RecordPrinter(format: global.format, columns: [
            .init(key: "kind", title: "KIND"), .init(key: "severity", title: "SEVERITY"), .init(key: "files", title: "FILES"),
            .init(key: "points_in", title: "IN"), .init(key: "points_out", title: "OUT"), .init(key: "output", title: "OUTPUT"),
        ], single: job.corruptions.count == 1)
        for (c, (corruption, total)) in zip(job.corruptions, totals).enumerated() {
            printer.emit(Record(fields: [
                ("kind", .string(corruption.kind.rawValue)), ("severity", .int(corruption.severity)), ("parameters", .string(corruption.summary)),
                ("files", .int(total.files)), ("failed", .int(total.failed)), ("points_in", .int(total.pointsIn)),
                ("points_out", .int(total.pointsOut)), ("seed", .int(Int(truncatingIfNeeded: seed))), ("output", .string(job.destination(c))),
            ]))
        }
        printer.finish()
        try outcome.conclude()
    }
}

/// `--kind jitter`, `--kind jitter,rotate` or `--kind all`.
struct KindSelection {
    var kinds: [Corruption.Kind]

    init(_ argument: String) throws {
        guard let kinds = Corruption.Kind.selection(argument) else {
            throw ValidationError("'\(argument)' is not a list of corruptions (\(Corruption.Kind.allCases.map(\.rawValue).joined(separator: ", ")) or all)")
        }
        self.kinds = kinds
    }
}

/// `--severity 3`, `--severity 1,3,5` or `--severity all`.
struct SeveritySelection {
    var levels: [Int]

    init(_ argument: String) throws {
        guard let levels = Corruption.severitySelection(argument) else { throw ValidationError("'\(argument)' is not a list of severities (1 to 5, or all)") }
        self.levels = levels
    }
}
