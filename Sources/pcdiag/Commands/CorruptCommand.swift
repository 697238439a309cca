import ArgumentParser
import Foundation
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

    @Argument(help: ArgumentHelp("Input clouds (.pcd, .ply), folders, globs or @list files, then the output.", valueName: "in… out"))
    var paths: [String] = []

    @Option(help: ArgumentHelp("""
        Corruption: \(Corruption.Kind.allCases.map(\.rawValue).joined(separator: ", ")); a comma-separated \
        list, or 'all'.
        """, valueName: "kind"), transform: KindSelection.init)
    var kind: KindSelection

    @Option(help: ArgumentHelp("Severity 1 (mild) … 5 (harsh), a comma-separated list, or 'all'.", valueName: "1…5"),
            transform: SeveritySelection.init)
    var severity: SeveritySelection

    @Option(help: "Base seed of the random draws.")
    var seed: UInt64 = 0

    @Option(help: "Output format of the summary: table, json, jsonl or csv.")
    var format: OutputFormat = .table

    @OptionGroup var out: CloudOutputOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard paths.count >= 2 else { throw ValidationError("give the input clouds, then the output file or folder") }
    }

    var corruptions: [Corruption] {
        kind.kinds.flatMap { k in severity.levels.map { Corruption(k, severity: $0) } }
    }

    func run() throws {
        let console = global.console
        let output = paths[paths.count - 1]
        let items = try Self.inputs(Array(paths.dropLast()), outside: output)
        let corruptions = corruptions
        let targets = try plan(items, corruptions: corruptions, output: output)
        let toFile = targets == [[output]]
        for parent in Set(targets.joined().map { ($0 as NSString).deletingLastPathComponent }).sorted() {
            do {
                if !parent.isEmpty { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
            } catch {
                throw CommandFailure(status: .output, message: "\(parent): cannot create the folder (\(error.localizedDescription))")
            }
        }

        let job = CorruptJob(corruptions: corruptions, encoding: out.encoding, force: out.force, seed: seed)
        var totals = [(files: Int, pointsIn: Int, pointsOut: Int)](repeating: (0, 0, 0), count: corruptions.count)
        let outcome = BatchOutcome(total: items.count)
        let progress = console.progress(total: items.count, label: "corrupt")
        let chunk = 64
        for start in stride(from: 0, to: items.count, by: chunk) {
            let range = start ..< min(start + chunk, items.count)
            let results = job.run(Array(items[range]), targets: Array(targets[range]))
            for (i, result) in zip(range, results) {
                if let failure = result.failure {
                    progress.finish()
                    console.error(failure.message)
                    outcome.failed(failure.status)
                }
                for (c, pointsOut) in result.pointsOut.enumerated() {
                    totals[c].files += 1
                    totals[c].pointsIn += result.pointsIn
                    totals[c].pointsOut += pointsOut
                    console.verbose("\(items[i].path) → \(targets[i][c]): \(result.pointsIn) → \(pointsOut) points "
                        + "(\(corruptions[c].kind.rawValue) \(corruptions[c].severity), seed \(result.seed))")
                }
            }
            progress.advance(by: range.count)
        }
        progress.finish()

        let printer = RecordPrinter(format: format, columns: [
            .init(key: "kind", title: "KIND"), .init(key: "severity", title: "SEVERITY"), .init(key: "files", title: "FILES"),
            .init(key: "points_in", title: "IN"), .init(key: "points_out", title: "OUT"), .init(key: "output", title: "OUTPUT"),
        ], single: corruptions.count == 1)
        for (c, corruption) in corruptions.enumerated() {
            var r = Record()
            r["kind"] = .string(corruption.kind.rawValue)
            r["severity"] = .int(corruption.severity)
            r["parameters"] = .string(corruption.summary)
            r["files"] = .int(totals[c].files)
            r["failed"] = .int(items.count - totals[c].files)
            r["points_in"] = .int(totals[c].pointsIn)
            r["points_out"] = .int(totals[c].pointsOut)
            r["seed"] = .int(Int(truncatingIfNeeded: seed))
            r["output"] = .string(toFile ? output : Self.folder(output, corruption, several: corruptions.count > 1))
            printer.emit(r)
        }
        printer.finish()
        try outcome.conclude()
    }

    /// One input file and where it sits relative to the input it came from.
    struct Item: Sendable {
        var path: String
        var relative: String
        /// Found in a folder given as input (rather than named, globbed or listed).
        var inFolder: Bool
    }

    /// The input files: a folder's files with their paths relative to it, any other input (file, glob,
    /// list) by its name. Files inside the output folder (an earlier run's results) are left out.
    static func inputs(_ arguments: [String], outside output: String) throws -> [Item] {
        let outputRoot = URL(fileURLWithPath: output).standardizedFileURL.path + "/"
        var seen = Set<String>()
        var items = [Item]()
        for argument in arguments {
            var isDirectory: ObjCBool = false
            let folder = FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) && isDirectory.boolValue
            // CloudPaths joins a folder and its files with appendingPathComponent: strip that prefix.
            let prefix = String((argument as NSString).appendingPathComponent("x").dropLast())
            for path in try CloudPaths.expand([argument]) where seen.insert(path).inserted {
                if URL(fileURLWithPath: path).standardizedFileURL.path.hasPrefix(outputRoot) { continue }
                let relative = folder && path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : (path as NSString).lastPathComponent
                items.append(Item(path: path, relative: relative, inFolder: folder))
            }
        }
        guard !items.isEmpty else { throw CommandFailure(status: .badInput, message: "\(arguments.joined(separator: " ")): no .pcd or .ply files to corrupt") }
        return items
    }

    static func folder(_ output: String, _ corruption: Corruption, several: Bool) -> String {
        several ? (output as NSString).appendingPathComponent("\(corruption.kind.rawValue)-\(corruption.severity)") : output
    }

    /// Every output path, per input and corruption, after checking that they can all be written: no two
    /// the same, none existing without --force, no compressed PLY.
    func plan(_ items: [Item], corruptions: [Corruption], output: String) throws -> [[String]] {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory)
        let targets: [[String]]
        if items.count == 1, !items[0].inFolder, corruptions.count == 1, PointCloudFormat(path: output) != nil, !(exists && isDirectory.boolValue) {
            targets = [[output]]
        } else {
            if exists && !isDirectory.boolValue {
                throw CommandFailure(status: .output, message: "\(output): exists and is not a folder (several outputs need a folder)")
            }
            if !exists, PointCloudFormat(path: output) != nil {
                throw CommandFailure(status: .usage, message: "\(output): \(items.count) files × \(corruptions.count) corruptions need an output folder, not a file name")
            }
            targets = items.map { item in
                corruptions.map { c in (Self.folder(output, c, several: corruptions.count > 1) as NSString).appendingPathComponent(item.relative) }
            }
        }
        var owner = [String: String]()
        for (item, paths) in zip(items, targets) {
            for path in paths {
                if let other = owner.updateValue(item.path, forKey: path) {
                    throw CommandFailure(status: .usage, message: "\(path): both \(other) and \(item.path) would be written here")
                }
            }
        }
        let all = targets.flatMap { $0 }
        if out.encoding == .compressed, let ply = all.first(where: { PointCloudFormat(path: $0) == .ply }) {
            throw CommandFailure(status: .usage, message: "\(ply): PLY has no compressed encoding (use ascii or binary)")
        }
        if !out.force {
            let existing = all.filter { FileManager.default.fileExists(atPath: $0) }
            if let first = existing.first {
                let others = existing.count > 1 ? ", as do \(existing.count - 1) other outputs" : ""
                throw CommandFailure(status: .output, message: "\(first): exists\(others) (use --force to overwrite)")
            }
        }
        return targets
    }
}

/// Reads, corrupts and writes files on all cores; each file's result depends only on the file, its
/// relative path and the base seed.
struct CorruptJob: Sendable {
    let corruptions: [Corruption]
    let encoding: PointCloudEncoding
    let force: Bool
    let seed: UInt64

    struct Result: Sendable {
        var seed: UInt64 = 0
        var pointsIn = 0
        /// Points written, per corruption done (all of them unless `failure`).
        var pointsOut: [Int] = []
        var failure: CommandFailure?
    }

    /// One result per item, in order.
    func run(_ items: [CorruptCommand.Item], targets: [[String]]) -> [Result] {
        let results = ResultSlots(count: items.count)
        let workers = min(ProcessInfo.processInfo.activeProcessorCount, items.count)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for i in stride(from: worker, to: items.count, by: workers) { results.set(i, run(items[i], targets: targets[i])) }
        }
        return results.values
    }

    func run(_ item: CorruptCommand.Item, targets: [String]) -> Result {
        var result = Result(seed: Corruption.seed(seed, for: item.relative))
        do {
            let cloud = try PointCloud(contentsOf: item.path)
            result.pointsIn = cloud.count
            guard cloud.finiteCount > 0 else {
                throw PointCloudError.invalid(path: item.path, reason: "no valid points to corrupt (all \(cloud.count) have NaN or infinite coordinates)")
            }
            for (corruption, target) in zip(corruptions, targets) {
                let corrupted = corruption.apply(to: cloud, seed: result.seed)
                try CommandFailure.checkOutputs([target], force: force)
                try corrupted.write(to: target, encoding: encoding)
                result.pointsOut.append(corrupted.count)
            }
        } catch let error as PointCloudError {
            result.failure = CommandFailure(status: ExitStatus.status(for: error), message: error.description)
        } catch let failure as CommandFailure {
            result.failure = failure
        } catch {
            result.failure = CommandFailure(status: .internalError, message: "\(item.path): \(error)")
        }
        return result
    }
}

/// Results written by several threads (each index by one of them), behind a lock.
private final class ResultSlots: @unchecked Sendable {
    private var slots: [CorruptJob.Result?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ result: CorruptJob.Result) {
        lock.lock()
        slots[i] = result
        lock.unlock()
    }

    var values: [CorruptJob.Result] { slots.map { $0! } }
}

/// `--kind jitter`, `--kind jitter,rotate` or `--kind all`.
struct KindSelection {
    var kinds: [Corruption.Kind]

    init(_ argument: String) throws {
        if argument == "all" {
            kinds = Corruption.Kind.allCases
            return
        }
        kinds = []
        for name in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let kind = Corruption.Kind(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("'\(name)' is not a corruption (\(Corruption.Kind.allCases.map(\.rawValue).joined(separator: ", ")) or all)")
            }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
    }
}

/// `--severity 3`, `--severity 1,3,5` or `--severity all`.
struct SeveritySelection {
    var levels: [Int]

    init(_ argument: String) throws {
        if argument == "all" {
            levels = Array(Corruption.severities)
            return
        }
        levels = []
        for text in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let level = Int(text.trimmingCharacters(in: .whitespaces)), Corruption.severities.contains(level) else {
                throw ValidationError("'\(text)' is not a severity (1 to 5, or all)")
            }
            if !levels.contains(level) { levels.append(level) }
        }
    }
}
