import Engine
import Foundation
import Networks
import PointClouds
import Testing
import TestSupport

/// The training loop: a run stopped after an epoch and resumed from its checkpoint is the
/// uninterrupted run, to the bit; model selection, early stopping and refused checkpoints.
@Suite struct TrainingLoopTests {
    static let n = 32

    /// Spheres (label 0) and flat discs (label 1), each a Fibonacci sphere turned and scaled per cloud.
    static func shapes(count: Int, phase: Double) -> PreparedSet {
        var points = [Float]()
        for i in 0 ..< count {
            let turn = phase + 0.7 * Double(i), scale = 1 + 0.2 * sin(1.3 * Double(i) + phase)
            for j in 0 ..< n {
                let z = 1 - 2 * (Double(j) + 0.5) / Double(n), r = (1 - z * z).squareRoot()
                let angle = 2.399963 * Double(j) + turn
                points += [Float(scale * r * cos(angle)), Float(scale * r * sin(angle)), Float(scale * z * (i % 2 == 1 ? 0.05 : 1))]
            }
        }
        return PreparedSet(classes: ["sphere", "disc"], paths: (0 ..< count).map { "cloud\($0)" }, labels: (0 ..< count).map { $0 % 2 },
                           points: points, pointsPerCloud: n)
    }

    static let train = shapes(count: 16, phase: 0), validation = shapes(count: 6, phase: 0.4)

    /// Dropout on, so its masks are part of what a resumed run must continue.
    static func model(_ arch: String, seed: UInt64 = 3) -> Model {
        let architecture: Architecture = arch == "dgcnn" ? .dgcnn(classes: 2, k: 4, embedding: 32, dropout: 0.5)
            : .pointnet(classes: 2, embedding: 32, dropout: 0.5)
        return Model(metadata: ModelMetadata(architecture: architecture, classes: ["sphere", "disc"], preprocessing: .standard(points: n)),
                     seed: seed)
    }

    static func options(_ optimizer: TrainingOptions.OptimizerKind = .adam) -> TrainingOptions {
        var o = TrainingOptions()
        o.epochs = 3
        o.batchSize = 4
        o.optimizer = optimizer
        o.seed = 7
        return o
    }

    static func trainer(_ model: Model, _ options: TrainingOptions = options()) -> Trainer {
        Trainer(model: model, options: options, data: train, validation: validation)
    }

    /// Every value a run leaves behind: weights, statistics and optimiser moments.
    static func tensors(_ model: Model) -> [[Float]] {
        model.network.stateTensors.flatMap { [$0.value.array] + $0.state.map(\.array) }
    }

    /// The reports without their timings, which no two runs share.
    static func untimed(_ log: [EpochReport]) -> [EpochReport] {
        log.map { var r = $0; r.seconds = 0; return r }
    }

    static func scratch() -> URL { TestPaths.scratch("training-loop") }

    @Test(arguments: [("pointnet", TrainingOptions.OptimizerKind.adam), ("dgcnn", .adam), ("pointnet", .sgd)])
    func aResumedRunIsTheUninterruptedRun(arch: String, optimizer: TrainingOptions.OptimizerKind) throws {
        let dir = Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let checkpoint = dir.appendingPathComponent("run.ckpt").path
        let straightModel = Self.model(arch)
        let straight = TrainingLoop(Self.trainer(straightModel, Self.options(optimizer)))
        for _ in 0 ..< 3 { straight.runEpoch() }

        let first = TrainingLoop(Self.trainer(Self.model(arch), Self.options(optimizer)))
        first.runEpoch()
        try first.checkpoint(to: checkpoint)
        // Another initialisation: everything must come from the checkpoint.
        let resumedModel = Self.model(arch, seed: 99)
        let resumed = TrainingLoop(Self.trainer(resumedModel, Self.options(optimizer)))
        try resumed.resume(from: checkpoint)
        #expect(resumed.epoch == 1)
        resumed.runEpoch()
        resumed.runEpoch()

        #expect(Self.untimed(resumed.log) == Self.untimed(straight.log))
        #expect(Self.tensors(resumedModel) == Self.tensors(straightModel))
        // Cosine from 1e-3 to 1e-5 over the recipe's three epochs, resumed or not.
        #expect(zip(resumed.log.map(\.learningRate), [1e-3, 7.525e-4, 2.575e-4]).allSatisfy { abs($0 - $1) < 1e-12 })
        let paths = ["a", "b"].map { dir.appendingPathComponent("\($0).safetensors").path }
        try straightModel.save(to: paths[0])
        try resumedModel.save(to: paths[1])
        #expect(try Data(contentsOf: URL(fileURLWithPath: paths[0])) == Data(contentsOf: URL(fileURLWithPath: paths[1])))
    }

    /// Without the dropout layers' generators a resumed run draws other masks: the test above can fail.
    @Test func dropoutMasksDependOnTheRestoredGenerators() {
        let (a, b) = (Self.model("pointnet"), Self.model("pointnet"))
        _ = b.network.dropouts[0].rng.next()
        let input = Tensor<Float>(shape: [4, Self.n, 3])
        Self.train.batch([0, 1, 2, 3][...], into: input)
        #expect(a.network.forward(input, training: true).array != b.network.forward(input, training: true).array)
    }

    /// Copies a run's model and checkpoint as they are when epoch `epoch` starts: a run killed there.
    final class Snapshot: TrainingObserver {
        let epoch: Int, files: RunFiles, copy: RunFiles
        init(at epoch: Int, of files: RunFiles, to copy: RunFiles) { (self.epoch, self.files, self.copy) = (epoch, files, copy) }
        func note(_ line: String) {}
        func epochStarted(_ epoch: Int, of epochs: Int, clouds: Int) {
            guard epoch == self.epoch else { return }
            for (from, to) in [(files.model, copy.model), (files.checkpoint, copy.checkpoint)] { try! FileManager.default.copyItem(atPath: from, toPath: to) }
        }
        func progressed(to clouds: Int) {}
        func epochFinished() {}
    }

    /// `Trainer.run` through its files: a run killed after its first epoch of three and continued
    /// with `resume` writes the same model file, byte for byte, as the run straight through.
    @Test func theTrainPipelineResumesToTheSameModelFile() throws {
        let dir = Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let record = TrainingRecord(data: "shapes", validation: "shapes-val", epochs: 0, seed: 7, recipe: Self.options().recipe, command: "pcdiag train")
        let straightFiles = RunFiles(model: dir.appendingPathComponent("straight.safetensors").path, resume: false)
        let files = RunFiles(model: dir.appendingPathComponent("resumed.safetensors").path, resume: true)
        let straight = try Self.trainer(Self.model("dgcnn")).run(straightFiles, record: record,
                                                                 observer: Snapshot(at: 2, of: straightFiles, to: files))
        let resumed = try Self.trainer(Self.model("dgcnn", seed: 99)).run(files, record: record, observer: SilentObserver())
        #expect(Self.untimed(resumed.log) == Self.untimed(straight.log))
        #expect(try Data(contentsOf: URL(fileURLWithPath: files.model)) == Data(contentsOf: URL(fileURLWithPath: straightFiles.model)))
        let saved = try Model.load(files.model)
        #expect(saved.metadata.training?.epochs == straight.best?.epoch)
        #expect(saved.metadata.training?.validationAccuracy == straight.best?.validationAccuracy)
    }

    /// What a kill between saving the first model and writing that epoch's checkpoint leaves: the
    /// model of epoch 1 beside the checkpoint the run wrote before its first epoch.
    final class KilledBeforeFirstCheckpoint: TrainingObserver {
        let files: RunFiles, copy: RunFiles
        init(_ files: RunFiles, to copy: RunFiles) { (self.files, self.copy) = (files, copy) }
        func note(_ line: String) {}
        func epochStarted(_ epoch: Int, of epochs: Int, clouds: Int) {
            let (from, to) = epoch == 1 ? (files.checkpoint, copy.checkpoint) : (files.model, copy.model)
            if epoch <= 2 { try? FileManager.default.copyItem(atPath: from, toPath: to) }
        }
        func progressed(to clouds: Int) {}
        func epochFinished() {}
    }

    @Test func aRunKilledBeforeItsFirstCheckpointResumesToTheSameModelFile() throws {
        let dir = Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let record = TrainingRecord(data: "shapes", validation: nil, epochs: 0, seed: 7, recipe: Self.options().recipe, command: "pcdiag train")
        let straightFiles = RunFiles(model: dir.appendingPathComponent("straight.safetensors").path, resume: false)
        let files = RunFiles(model: dir.appendingPathComponent("resumed.safetensors").path, resume: true)
        _ = try Self.trainer(Self.model("pointnet")).run(straightFiles, record: record, observer: KilledBeforeFirstCheckpoint(straightFiles, to: files))
        #expect(FileManager.default.fileExists(atPath: files.checkpoint), "a checkpoint is written before the first model")
        _ = try Self.trainer(Self.model("pointnet", seed: 99)).run(files, record: record, observer: SilentObserver())
        #expect(try Data(contentsOf: URL(fileURLWithPath: files.model)) == Data(contentsOf: URL(fileURLWithPath: straightFiles.model)))
    }

    @Test func checkpointsOfAnotherRecipeOrFormatAreRefusedNamingTheFile() throws {
        let dir = Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("run.ckpt").path
        let loop = TrainingLoop(Self.trainer(Self.model("pointnet")))
        loop.runEpoch()
        try loop.checkpoint(to: path)

        var longer = Self.options()
        longer.epochs = 5
        try TrainingLoop(Self.trainer(Self.model("pointnet"), longer)).resume(from: path)

        var other = Self.options()
        other.learningRate = 0.01
        #expect(throws: ModelError.invalid(path: path, reason: "the checkpoint was made with another recipe")) {
            try TrainingLoop(Self.trainer(Self.model("pointnet"), other)).resume(from: path)
        }
        let dgcnn = Trainer(model: Self.model("dgcnn"), options: Self.options(), data: Self.train)
        #expect(throws: ModelError.self) { try TrainingLoop(dgcnn).resume(from: path) }

        // A checkpoint of the first format: marked, but without the run state a continuation needs.
        var old = SafeTensors(metadata: ["pcdiag-checkpoint": "1", "epoch": "1", "steps": "4", "rng": "12"])
        for p in Self.model("pointnet").network.stateTensors { old[p.name] = .init(shape: p.value.shape, floats: p.value.array) }
        let oldPath = dir.appendingPathComponent("old.ckpt").path
        try old.write(to: oldPath)
        do {
            try TrainingLoop(Self.trainer(Self.model("pointnet"))).resume(from: oldPath)
            Issue.record("a format 1 checkpoint was accepted")
        } catch {
            #expect(error.description.hasPrefix(oldPath + ": ") && error.description.contains("older pcdiag"))
        }
    }
}

/// Model selection and early stopping, on a step whose scores are given.
@Suite struct ModelSelectionTests {
    struct Report: EpochOutcome {
        var epoch: Int
        var selectionScore: Double?
        var isBest = false
        func summary(of epochs: Int) -> String { "epoch \(epoch)/\(epochs)" }
    }

    struct Recipe: TrainingRecipe {
        var epochs = 1, batchSize = 2
        var learningRate = 1e-3, weightDecay = 0.0, labelSmoothing = 0.0
        var optimizer = TrainingOptions.OptimizerKind.adam
        var seed: UInt64 = 0
    }

    final class Scripted<Ties: TieRule>: TrainingStep {
        let model = Model(metadata: ModelMetadata(architecture: .pointnet(classes: 2, embedding: 8), classes: ["a", "b"]))
        let scores: [Double?]
        var recipe: Recipe { Recipe(epochs: scores.count) }
        var cloudsPerEpoch: Int { 0 }
        var state: [Parameter<Float>] { model.network.stateTensors }
        static var tiesGoToLaterEpochs: Bool { Ties.later }
        static var scoreName: String { "score" }
        init(_ scores: [Double?]) { self.scores = scores }
        func runEpoch(_ index: Int, _ run: inout RunState, progress: (Int) -> Void) -> Report {
            Report(epoch: index + 1, selectionScore: scores[index])
        }
    }

    protocol TieRule { static var later: Bool { get } }
    enum FirstWins: TieRule { static let later = false }
    enum LaterWins: TieRule { static let later = true }

    final class Notes: TrainingObserver {
        var lines = [String]()
        func note(_ line: String) { lines.append(line) }
        func epochStarted(_ epoch: Int, of epochs: Int, clouds: Int) {}
        func progressed(to clouds: Int) {}
        func epochFinished() {}
    }

    @Test func tiesGoWhereTheStepSays() {
        let scores: [Double?] = [0.5, 0.7, 0.7, 0.6]
        let first = TrainingLoop(Scripted<FirstWins>(scores)), later = TrainingLoop(Scripted<LaterWins>(scores))
        for _ in scores { first.runEpoch(); later.runEpoch() }
        #expect(first.log.map(\.isBest) == [true, true, false, false] && first.best?.epoch == 2)
        #expect(later.log.map(\.isBest) == [true, true, true, false] && later.best?.epoch == 3)
        #expect(later.epochsSinceBest == 1)
    }

    @Test func withoutScoresEveryEpochIsSavedAndNoneIsBest() throws {
        let dir = TestPaths.scratch("model-selection")
        defer { try? FileManager.default.removeItem(at: dir) }
        let loop = TrainingLoop(Scripted<FirstWins>([nil, nil]))
        var described = [Int]()
        try loop.run(RunFiles(model: dir.appendingPathComponent("m.safetensors").path, resume: false), observer: SilentObserver()) { report, _ in
            described.append(report.epoch)
        }
        #expect(described == [1, 2] && loop.best == nil)
    }

    @Test func patienceStopsTheRunAndAResumedRunStaysStopped() throws {
        let dir = TestPaths.scratch("model-selection")
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = RunFiles(model: dir.appendingPathComponent("m.safetensors").path, resume: true, patience: 2)
        let scores: [Double?] = [0.5, 0.6, 0.6, 0.55, 0.9, 0.9]
        let notes = Notes()
        let loop = TrainingLoop(Scripted<FirstWins>(scores))
        try loop.run(files, observer: notes) { _, _ in }
        #expect(loop.epoch == 4, "epochs 3 and 4 bring nothing better than epoch 2")
        #expect(notes.lines.last == "no better score in 2 epochs: stopping")
        #expect(notes.lines.first == "epoch 1/6")

        let again = TrainingLoop(Scripted<FirstWins>(scores))
        try again.resuming(files, observer: notes)
        try again.run(files, observer: notes) { _, _ in }
        #expect(again.epoch == 4)
        #expect(notes.lines.suffix(2) == ["resumed from \(files.checkpoint) after epoch 4", "no better score in 2 epochs: stopping"])
    }
}
