import ArgumentParser
import PointClouds

/// What a file may need before a model's own preparation (or `preprocess`'s normalising and
/// sampling): outliers out, a voxel grid, its up axis turned to z, the floor removed — in that order.
struct ConditioningOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Statistical outlier removal: neighbours and deviation multiplier.", valueName: "k,std")) var outliers: OutlierSetting?
    @Option(help: "Voxel grid leaf size, in the input's units.") var voxel: Float?
    @Option(name: .customLong("up-axis"), help: "The input's up axis, turned to z.") var upAxis: PreprocessStep.Axis?
    @Flag(name: .customLong("remove-floor"), help: "Remove the floor a depth scan of a standing object picks up (z up, after --up-axis); says so when there is none.")
    var removeFloor = false

    func validate() throws {
        if let voxel, !(voxel > 0) { throw ValidationError("--voxel must be a positive size") }
    }

    var steps: [PreprocessStep] {
        var steps = [PreprocessStep]()
        if let outliers { steps.append(.removeOutliers(neighbours: outliers.neighbours, stddev: outliers.stddev)) }
        if let voxel { steps.append(.voxelGrid(size: voxel)) }
        if let upAxis, upAxis != .z { steps.append(.upAxis(from: upAxis)) }
        if removeFloor { steps.append(FloorRemoval().step) }
        return steps
    }
}

/// `--outliers 20,2.0`: neighbours and standard-deviation multiplier.
struct OutlierSetting: ExpressibleByArgument {
    var neighbours: Int
    var stddev: Double

    init?(argument: String) {
        let parts = argument.split(separator: ",")
        guard parts.count == 2, let k = Int(parts[0]), k >= 1, let s = Double(parts[1]), s.isFinite else { return nil }
        neighbours = k
        stddev = s
    }
}
