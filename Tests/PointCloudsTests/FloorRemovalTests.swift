import Foundation
import PointClouds
import Support
import Testing

/// Scenes built with every point's origin known: the floor step is checked against that truth.
@Suite struct FloorRemovalTests {
    struct Scene {
        var points: [SIMD3<Float>] = []
        var isFloor: [Bool] = []

        mutating func add(_ p: SIMD3<Float>, floor: Bool) {
            points.append(p)
            isFloor.append(floor)
        }

        /// Points on an axis-aligned box's faces (no bottom face: a sensor does not see it).
        mutating func box(from lo: SIMD3<Float>, to hi: SIMD3<Float>, count: Int, rng: inout SeededGenerator) {
            for _ in 0 ..< count {
                var p = SIMD3(Float.random(in: lo.x ... hi.x, using: &rng), Float.random(in: lo.y ... hi.y, using: &rng),
                              Float.random(in: lo.z ... hi.z, using: &rng))
                switch Int.random(in: 0 ..< 5, using: &rng) {
                case 0: p.x = lo.x
                case 1: p.x = hi.x
                case 2: p.y = lo.y
                case 3: p.y = hi.y
                default: p.z = hi.z
                }
                add(p, floor: false)
            }
        }

        /// A noisy floor patch at height `z` under a plane tilted `tilt` degrees about the x axis.
        mutating func floor(half: Float, z: Float, tilt: Float, count: Int, noise: Float, rng: inout SeededGenerator) {
            let slope = tan(tilt * .pi / 180)
            for _ in 0 ..< count {
                let x = Float.random(in: -half ... half, using: &rng), y = Float.random(in: -half ... half, using: &rng)
                add(SIMD3(x, y, z + slope * y + noise * rng.gaussian()), floor: true)
            }
        }
    }

    /// A box standing on a wider, noisy, slightly tilted floor: the floor goes, the box stays.
    @Test func removesATiltedNoisyFloorAndKeepsTheObject() {
        var rng = SeededGenerator(seed: 5)
        var scene = Scene()
        scene.box(from: SIMD3(-0.3, -0.3, 0.05), to: SIMD3(0.3, 0.3, 1), count: 800, rng: &rng)
        scene.floor(half: 1.5, z: 0, tilt: 6, count: 400, noise: 0.004, rng: &rng)
        let kept = Set(FloorRemoval().keptIndices(scene.points))
        let floor = scene.isFloor.indices.filter { scene.isFloor[$0] }, object = scene.isFloor.indices.filter { !scene.isFloor[$0] }
        let floorLeft = floor.filter(kept.contains).count, objectKept = object.filter(kept.contains).count
        #expect(floorLeft <= floor.count / 50, "\(floorLeft) of \(floor.count) floor points left")
        #expect(objectKept >= object.count * 95 / 100, "\(objectKept) of \(object.count) object points kept")
        // What the object loses is its foot, within the floor's tolerance: nothing above 0.15.
        #expect(object.filter { !kept.contains($0) }.allSatisfy { scene.points[$0].z < 0.15 })
    }

    /// The floor is the lowest plane, not the largest: a table top with more points than the floor
    /// under it stays.
    @Test func takesTheLowestPlaneNotTheLargest() {
        var rng = SeededGenerator(seed: 9)
        var scene = Scene()
        scene.floor(half: 1, z: 0, tilt: 0, count: 150, noise: 0.002, rng: &rng)
        for (x, y) in [(-0.7, -0.7), (0.7, -0.7), (-0.7, 0.7), (0.7, 0.7)] as [(Float, Float)] {
            scene.box(from: SIMD3(x - 0.03, y - 0.03, 0.05), to: SIMD3(x + 0.03, y + 0.03, 0.75), count: 40, rng: &rng)
        }
        for _ in 0 ..< 700 {  // the top: a thin slab, the cloud's largest plane
            scene.add(SIMD3(.random(in: -0.8 ... 0.8, using: &rng), .random(in: -0.8 ... 0.8, using: &rng),
                            0.8 + 0.002 * rng.gaussian()), floor: false)
        }
        let kept = Set(FloorRemoval().keptIndices(scene.points))
        let floor = scene.isFloor.indices.filter { scene.isFloor[$0] }
        let top = scene.isFloor.indices.filter { !scene.isFloor[$0] && scene.points[$0].z > 0.7 }
        #expect(floor.filter(kept.contains).count <= floor.count / 50, "the floor is dropped")
        #expect(top.allSatisfy(kept.contains), "the table top is kept")
    }

    @Test func leavesCloudsWithoutAFloorAlone() {
        var rng = SeededGenerator(seed: 2)
        // A steeply tilted bottom (40°) is not a floor.
        var tilted = Scene()
        tilted.box(from: SIMD3(-0.3, -0.3, 0.2), to: SIMD3(0.3, 0.3, 1), count: 600, rng: &rng)
        tilted.floor(half: 1, z: 0, tilt: 40, count: 300, noise: 0.002, rng: &rng)
        #expect(FloorRemoval().keptIndices(tilted.points).count == tilted.points.count)
        // A flat object alone: removing its plane would leave almost nothing, so it is kept whole.
        var flat = Scene()
        flat.floor(half: 1, z: 3, tilt: 0, count: 500, noise: 0.001, rng: &rng)
        #expect(FloorRemoval().keptIndices(flat.points).count == flat.points.count)
        // Too few points to tell.
        #expect(FloorRemoval().keptIndices(Array(flat.points.prefix(10))).count == 10)
    }

    /// A pipeline says when floor removal kept everything: the box on a floor gets no notice; a flat
    /// plate alone (whose plane is the object, not a floor), with NaN holes that the step drops either
    /// way, gets one, on the floor step's trace.
    @Test func aFloorRemovalThatRemovesNothingSaysSo() throws {
        var rng = SeededGenerator(seed: 7)
        var scene = Scene()
        scene.box(from: SIMD3(-0.3, -0.3, 0.05), to: SIMD3(0.3, 0.3, 1), count: 500, rng: &rng)
        scene.floor(half: 1.5, z: 0, tilt: 3, count: 300, noise: 0.004, rng: &rng)
        let pipeline = Preprocessing.standard(points: 256).adding(FloorRemoval().step)
        let withFloor = try pipeline.apply(to: PointCloud(positions: scene.points))
        #expect(withFloor.notices.isEmpty)
        #expect(withFloor.trace[1].pointsAfter < withFloor.trace[1].pointsBefore)

        var plate = Scene()
        plate.floor(half: 1, z: 3, tilt: 0, count: 500, noise: 0.001, rng: &rng)
        let holes = [SIMD3<Float>(.nan, 0, 0), SIMD3<Float>(0, .infinity, 0)]
        let alone = try pipeline.apply(to: PointCloud(positions: plate.points + holes))
        #expect(alone.notices == [.noFloorFound])
        #expect(alone.trace.map(\.notice) == [nil, .noFloorFound, nil, nil])
        #expect(alone.trace[1].pointsBefore == 500 && alone.trace[1].pointsAfter == 500)
        #expect("\(Preprocessing.Notice.noFloorFound)" == "no floor found; kept all points")
        #expect(try Preprocessing.standard(points: 256).apply(to: PointCloud(positions: plate.points)).notices.isEmpty, "no floor step, no notice")
    }

    @Test func theStepIsSeededByThePointsAndRecordedInTheModelsPreprocessing() throws {
        var rng = SeededGenerator(seed: 5)
        var scene = Scene()
        scene.box(from: SIMD3(-0.3, -0.3, 0.05), to: SIMD3(0.3, 0.3, 1), count: 500, rng: &rng)
        scene.floor(half: 1.5, z: 0, tilt: 3, count: 300, noise: 0.004, rng: &rng)
        let cloud = PointCloud(positions: scene.points)
        let step = FloorRemoval().step
        let once = try step.apply(to: cloud), twice = try step.apply(to: cloud)
        #expect(once == twice && once.count < cloud.count)

        let pipeline = Preprocessing.standard().adding(step)
        #expect(pipeline.steps == [.removeNonFinite, step, .normalize, .sample(points: 1024, seed: 0)])
        #expect(pipeline.adding(step) == pipeline, "added once")
        let decoded = try JSONDecoder().decode(Preprocessing.self, from: JSONEncoder().encode(pipeline))
        #expect(decoded == pipeline)
        #expect(throws: PointCloudError.self) { try PreprocessStep.removeFloor(maxTilt: 90, thickness: 2).apply(to: cloud) }
        #expect(throws: PointCloudError.self) { try PreprocessStep.removeFloor(maxTilt: 10, thickness: 0).apply(to: cloud) }
    }
}
