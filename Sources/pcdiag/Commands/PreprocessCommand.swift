import ArgumentParser
import Output
import PointClouds

struct PreprocessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess",
        abstract: "Prepare a cloud the way a classifier sees it, and write it out.",
        discussion: """
            Steps, in this order: drop NaN/Inf points; statistical outlier removal (--outliers); voxel grid \
            (--voxel); up-axis change (--up-axis); floor removal \
            (--remove-floor: the lowest near-horizontal plane, z up, and the points on it); centre and scale to the unit sphere (unless \
            --no-normalize); resample to --points (farthest point sampling when there are more points, all \
            points plus seeded random repeats when fewer; 0 keeps them all). Prints one result row (points \
            before and after, the steps) on stdout.
            """)

    @Argument(help: "Input cloud (any format pcdiag reads; see --input-format).") var input: String
    @Argument(help: "Output cloud (.pcd, .ply, .xyz, .txt, .pts, .csv or .npy).") var output: String
    @Option(help: "Points in the output (0: keep all).") var points = 1024
    @OptionGroup var conditioning: ConditioningOptions
    @Flag(name: .customLong("no-normalize"), help: "Keep the input's position and scale.") var noNormalize = false
    @Option(help: "Seed of the sampling step.") var seed: UInt64 = 0

    @OptionGroup var out: CloudOutputOptions
    @OptionGroup var reading: ReadingOptions
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard points >= 0 else { throw ValidationError("--points must be 0 or more") }
    }

    var pipeline: Preprocessing {
        var steps: [PreprocessStep] = [.removeNonFinite] + conditioning.steps
        if !noNormalize { steps.append(.normalize) }
        if points > 0 { steps.append(.sample(points: points, seed: seed)) }
        return Preprocessing(steps: steps)
    }

    func run() throws {
        let console = global.console
        let cloud = try PointCloud(contentsOf: input, options: reading.options)
        let prepared = try pipeline.apply(to: cloud, path: input)
        for t in prepared.trace { console.verbose("\(t.step.summary): \(t.pointsBefore) → \(t.pointsAfter) points") }
        for notice in prepared.notices { console.warning("\(input): \(notice)") }
        try out.write(prepared.cloud, to: output)
        let printer = RecordPrinter(format: global.format, columns: [
            .init(key: "input", title: "INPUT"), .init(key: "points_in", title: "IN"),
            .init(key: "points_out", title: "OUT"), .init(key: "output", title: "OUTPUT"),
        ], single: true)
        printer.emit(Record(fields: [
            ("input", .string(input)), ("output", .string(output)), ("points_in", .int(cloud.count)),
            ("points_out", .int(prepared.cloud.count)), ("steps", .array(prepared.trace.map { .string($0.step.summary) })),
        ]))
        printer.finish()
    }
}
