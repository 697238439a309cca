import Engine

/// A resumable training state: every tensor of `state` (weights, BatchNorm statistics, head weights)
/// under its own name, each one's optimiser moments as `optimizer.m.NAME` / `optimizer.v.NAME`, and the
/// loop's own counters as metadata. Written atomically; read back only into the same set of tensors.
public enum Checkpoint {
    public static let marker = "pcdiag-checkpoint"

    public static func write(to path: String, state: [Parameter<Float>], metadata: [String: String]) throws(ModelError) {
        var file = SafeTensors(metadata: metadata.merging([marker: "1"]) { _, mark in mark })
        for p in state {
            file[p.name] = .init(shape: p.value.shape, floats: p.value.array)
            for (i, moment) in p.state.enumerated() {
                file["optimizer.\(["m", "v"][min(i, 1)]).\(p.name)"] = .init(shape: moment.shape, floats: moment.array)
            }
        }
        do { try file.write(to: path) } catch { throw ModelError(error) }
    }

    /// Restores values and moments into `state` and returns the metadata; a missing or mis-sized tensor
    /// is an error naming it.
    public static func read(_ path: String, into state: [Parameter<Float>]) throws(ModelError) -> [String: String] {
        let file: SafeTensors
        do { file = try SafeTensors.read(path) } catch { throw ModelError(error) }
        guard file.metadata[marker] == "1" else { throw .invalid(path: path, reason: "not a pcdiag training checkpoint") }
        func values(_ name: String, count: Int) throws(ModelError) -> [Float]? {
            guard let entry = file[name] else { return nil }
            let v: [Float]
            do { v = try entry.floats() } catch { throw ModelError(error) }
            guard v.count == count else { throw .invalid(path: path, reason: "'\(name)' does not fit this model (\(v.count) values, expected \(count))") }
            return v
        }
        for p in state {
            guard let v = try values(p.name, count: p.value.count) else {
                throw .invalid(path: path, reason: "'\(p.name)' is missing: the checkpoint is of another model or task set")
            }
            for i in 0 ..< v.count { p.value[i] = v[i] }
            var moments = [Tensor<Float>]()
            for kind in ["m", "v"] {
                guard let m = try values("optimizer.\(kind).\(p.name)", count: p.value.count) else { continue }
                moments.append(Tensor(shape: p.value.shape, values: m))
            }
            if !moments.isEmpty { p.state = moments }
        }
        return file.metadata
    }
}
