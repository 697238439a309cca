import Engine
import Foundation
import PointClouds

/// What a model file says about itself, beside its weights (safetensors `__metadata__`).
///
/// Stored twice: as plain keys PyTorch exporters also write (`arch`, `classes`, `points`, `k`,
/// `emb_dims`) and in full as JSON under `pcdiag`.
public struct ModelMetadata: Sendable, Equatable, Codable {
    public var architecture: Architecture
    public var classes: [String]
    public var preprocessing: Preprocessing
    public var training: TrainingRecord?

    public init(architecture: Architecture, classes: [String], preprocessing: Preprocessing = .standard(), training: TrainingRecord? = nil) {
        self.architecture = architecture
        self.classes = classes
        self.preprocessing = preprocessing
        self.training = training
    }
}

extension ModelMetadata {
    /// Bounds on the numbers a model file's metadata may hold, checked at load before any work: no
    /// honest model comes near them, and a file that does asks for absurd work or memory.
    public enum Limits {
        public static let classes = 1 ... 10_000
        public static let classNameLength = 1 ... 256
        public static let embedding = 1 ... 8192
        public static let neighbours = 1 ... 1000
        public static let dropout = 0.0 ..< 1.0
        public static let epochs = 0 ... 1_000_000
    }

    /// Why this metadata cannot describe a usable model, or nil when it can.
    public var problem: String? {
        let arch = architecture
        if !Limits.classes.contains(arch.classes) { return "\(arch.classes) classes (allowed \(Limits.classes))" }
        if arch.classes != classes.count { return "\(classes.count) class names for a network with \(arch.classes) outputs" }
        if let name = classes.first(where: { !Limits.classNameLength.contains($0.count) }) {
            return "a class name of \(name.count) characters (allowed \(Limits.classNameLength))"
        }
        let (embedding, dropout): (Int, Double)
        switch arch {
        case .pointnet(_, let e, let p): (embedding, dropout) = (e, p)
        case .dgcnn(_, let k, let e, let p):
            if !Limits.neighbours.contains(k) { return "DGCNN with k = \(k) neighbours (allowed \(Limits.neighbours))" }
            (embedding, dropout) = (e, p)
        }
        if !Limits.embedding.contains(embedding) { return "an embedding of \(embedding) dimensions (allowed \(Limits.embedding))" }
        if !Limits.dropout.contains(dropout) { return "a dropout of \(dropout) (allowed \(Limits.dropout))" }
        if let problem = preprocessing.problem { return problem }
        for case .sample(let points, _) in preprocessing.steps where points < arch.minimumPoints {
            return "sampling \(points) points for a network that needs at least \(arch.minimumPoints)"
        }
        if let t = training {
            if !Limits.epochs.contains(t.epochs) { return "a training record of \(t.epochs) epochs (allowed \(Limits.epochs))" }
            if let a = t.validationAccuracy, !(0 ... 1).contains(a) { return "a validation accuracy of \(a)" }
        }
        return nil
    }
}

/// How a model was trained: enough to repeat it.
public struct TrainingRecord: Sendable, Equatable, Codable {
    public var data: String
    public var validation: String?
    public var epochs: Int
    public var seed: UInt64
    public var recipe: String
    public var validationAccuracy: Double?
    public var command: String?

    public init(data: String, validation: String?, epochs: Int, seed: UInt64, recipe: String,
                validationAccuracy: Double? = nil, command: String? = nil) {
        self.data = data
        self.validation = validation
        self.epochs = epochs
        self.seed = seed
        self.recipe = recipe
        self.validationAccuracy = validationAccuracy
        self.command = command
    }
}

/// A model problem, one line naming the file: a model file is a safetensors file, and its problems
/// are that file's, whether the container or the weights and metadata in it are at fault.
public typealias ModelError = SafeTensorsError

/// A trained network with its metadata: what `pcdiag classify` loads.
public struct Model {
    public var metadata: ModelMetadata
    public let network: any Network<Float>
    /// What other modules keep in the file (the diagnostics' calibration): tensors named
    /// `attachment.*` and metadata under `attachment.*` keys, carried unchanged through load and save.
    public var attachments = Attachments()

    public init(metadata: ModelMetadata, network: any Network<Float>) {
        self.metadata = metadata
        self.network = network
    }

    /// A freshly initialised network for `metadata`.
    public init(metadata: ModelMetadata, seed: UInt64 = 0) {
        self.init(metadata: metadata, network: makeNetwork(metadata.architecture, seed: seed))
    }

    /// Reads a `.safetensors` model. Without pcdiag metadata (a PyTorch export), `architecture` and
    /// `classes` must be given (they also override what the file says).
    public static func load(_ path: String, architecture: Architecture? = nil, classes: [String]? = nil) throws(ModelError) -> Model {
        let file = try SafeTensors.read(path)
        var metadata = try Self.metadata(of: file, path: path, architecture: architecture, classes: classes)
        if let classes { metadata.classes = classes }
        if let problem = metadata.problem { throw .invalid(path: path, reason: "invalid metadata: \(problem)") }
        // Every weight is overwritten (a missing one is an error): none is drawn first.
        let network = makeNetwork(metadata.architecture, seed: nil)
        try StateDict.load(file, into: network, path: path)
        var model = Model(metadata: metadata, network: network)
        model.attachments = try Attachments(file, path: path)
        return model
    }

    static func metadata(of file: SafeTensors, path: String, architecture: Architecture?, classes: [String]?) throws(ModelError) -> ModelMetadata {
        if let json = file.metadata["pcdiag"] {
            guard var m = try? JSONDecoder().decode(ModelMetadata.self, from: Data(json.utf8)) else {
                throw .invalid(path: path, reason: "the pcdiag metadata is not valid")
            }
            if let architecture { m.architecture = architecture }
            return m
        }
        // A PyTorch export: plain keys, or what the user says.
        let names = classes ?? file.metadata["classes"].map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        guard let names, !names.isEmpty else {
            throw .invalid(path: path, reason: "no class names in the file (give --classes a,b,c)")
        }
        func number(_ key: String, _ fallback: Int) throws(ModelError) -> Int {
            guard let text = file.metadata[key] else { return fallback }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw .invalid(path: path, reason: "the metadata's \(key) '\(text.prefix(40))' is not a whole number")
            }
            return value
        }
        let points = try number("points", 1024)
        let embedding = try number("emb_dims", 1024)
        let k = try number("k", 20)
        let arch: Architecture
        if let architecture {
            arch = architecture
        } else {
            switch file.metadata["arch"]?.lowercased() {
            case "pointnet": arch = .pointnet(classes: names.count, embedding: embedding)
            case "dgcnn": arch = .dgcnn(classes: names.count, k: k, embedding: embedding)
            default: throw .invalid(path: path, reason: "no architecture in the file (give --arch pointnet|dgcnn)")
            }
        }
        guard arch.classes == names.count else {
            throw .invalid(path: path, reason: "\(names.count) class names for a network with \(arch.classes) outputs")
        }
        return ModelMetadata(architecture: arch, classes: names, preprocessing: .standard(points: points))
    }

    /// Writes weights and metadata, atomically.
    public func save(to path: String) throws(ModelError) {
        var file = SafeTensors(metadata: plainMetadata)
        // Sorted keys: the same model is the same bytes, whichever process wrote it.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        if let json = try? encoder.encode(metadata) { file.metadata["pcdiag"] = String(decoding: json, as: UTF8.self) }
        for p in network.stateTensors { file[p.name] = .init(shape: p.value.shape, floats: p.value.array) }
        attachments.store(in: &file)
        try file.write(to: path)
    }

    var plainMetadata: [String: String] {
        var m = ["arch": metadata.architecture.name, "classes": metadata.classes.joined(separator: ",")]
        if case .dgcnn(_, let k, let e, _) = metadata.architecture { m["k"] = String(k); m["emb_dims"] = String(e) }
        if case .pointnet(_, let e, _) = metadata.architecture { m["emb_dims"] = String(e) }
        for step in metadata.preprocessing.steps { if case .sample(let n, _) = step { m["points"] = String(n) } }
        return m
    }
}

/// Tensors and metadata strings a model file carries for other modules, under the `attachment.` prefix.
public struct Attachments: Sendable, Equatable {
    public static let prefix = "attachment."
    /// By name without the prefix.
    public var tensors: [String: SafeTensors.Entry] = [:]
    /// By key without the prefix.
    public var metadata: [String: String] = [:]

    public init() {}

    init(_ file: SafeTensors, path: String) throws(ModelError) {
        for name in file.names where name.hasPrefix(Self.prefix) {
            guard let entry = file[name] else { continue }
            guard entry.dtype == .F32 else { throw .invalid(path: path, reason: "attached tensor '\(name)' is not float32") }
            tensors[String(name.dropFirst(Self.prefix.count))] = entry
        }
        for (key, value) in file.metadata where key.hasPrefix(Self.prefix) {
            metadata[String(key.dropFirst(Self.prefix.count))] = value
        }
    }

    func store(in file: inout SafeTensors) {
        for (name, entry) in tensors.sorted(by: { $0.key < $1.key }) { file[Self.prefix + name] = entry }
        for (key, value) in metadata { file.metadata[Self.prefix + key] = value }
    }
}

/// Builds the network an architecture describes, its weights drawn from `seed`; with no seed, zero
/// weights to load into.
public func makeNetwork(_ architecture: Architecture, seed: UInt64? = 0) -> any Network<Float> {
    switch architecture {
    case .pointnet(let classes, let embedding, let dropout):
        return PointNet<Float>(classes: classes, embedding: embedding, dropout: dropout, seed: seed)
    case .dgcnn(let classes, let k, let embedding, let dropout):
        return DGCNN<Float>(classes: classes, k: k, embedding: embedding, dropout: dropout, seed: seed)
    }
}

/// PyTorch state dicts: names, the aliases PyTorch writes, and shape checks.
enum StateDict {
    /// The canonical name for a stored one: `module.` (DataParallel) dropped, `convN.0.weight` →
    /// `convN.weight`, `convN.1.*` (a BatchNorm shared inside a Sequential) → `bnN.*`; nil for names
    /// that carry no weights (`num_batches_tracked`).
    static func canonicalName(_ stored: String) -> String? {
        var name = stored.hasPrefix("module.") ? String(stored.dropFirst(7)) : stored
        if name.hasSuffix(".num_batches_tracked") { return nil }
        let parts = name.split(separator: ".").map(String.init)
        if parts.count == 3, parts[0].hasPrefix("conv"), let n = Int(parts[0].dropFirst(4)) {
            if parts[1] == "0" { name = "conv\(n).\(parts[2])" }
            if parts[1] == "1" { name = "bn\(n).\(parts[2])" }
        }
        return name
    }

    static func load<N: Network>(_ file: SafeTensors, into network: N, path: String) throws(ModelError) where N.Scalar == Float {
        var stored = [String: SafeTensors.Entry](), storedAs = [String: String]()
        for name in file.names {
            guard let canonical = canonicalName(name), let entry = file[name] else { continue }
            if let other = storedAs[canonical] {
                throw .invalid(path: path, reason: "tensor '\(canonical)' is stored twice (as '\(other)' and '\(name)')")
            }
            stored[canonical] = entry
            storedAs[canonical] = name
        }
        let expected = network.stateTensors
        let missing = expected.map(\.name).filter { stored[$0] == nil }
        if !missing.isEmpty {
            throw .invalid(path: path, reason: "missing tensors for \(network.architecture.name): \(missing.prefix(6).joined(separator: ", "))\(missing.count > 6 ? ", …" : "")")
        }
        let known = Set(expected.map(\.name))
        let unexpected = stored.keys.filter {
            !known.contains($0) && !$0.hasPrefix("optimizer.") && !$0.hasPrefix(Attachments.prefix)
        }.sorted()
        if !unexpected.isEmpty {
            throw .invalid(path: path, reason: "unexpected tensors (another architecture?): \(unexpected.prefix(6).joined(separator: ", "))")
        }
        for p in expected {
            let entry = stored[p.name]!
            guard entry.shape == p.value.shape else {
                throw .invalid(path: path, reason: "tensor '\(p.name)' has shape \(entry.shape), expected \(p.value.shape)")
            }
            guard loadableTypes.contains(entry.dtype) else {
                throw .invalid(path: path, reason: "tensor '\(p.name)' is \(entry.dtype.rawValue), expected F32 (or F16, BF16)")
            }
            let values = try entry.floats()
            guard values.allSatisfy(\.isFinite) else { throw .invalid(path: path, reason: "tensor '\(p.name)' holds NaN or infinite values") }
            values.withUnsafeBufferPointer { p.value.pointer.update(from: $0.baseAddress!, count: values.count) }
        }
    }

    /// The stored types a weight may have: F32, and the half types every value of which F32 holds
    /// exactly (a lossless widening). Integers would be reinterpreted numbers, not weights.
    static let loadableTypes: Set<SafeTensors.DType> = [.F32, .F16, .BF16]
}
