import Foundation

/// The model a command uses when none is named: $PCDIAG_MODEL, else the shipped PointNet in a
/// `Models/` folder beside the binary's checkout (any folder above it) or its install prefix
/// (`share/pcdiag/Models`), else in the working directory's `Models/`.
public enum DefaultModel {
    public static let fileName = "pointnet-pointda10.safetensors"

    /// Nil when none of those places holds it.
    public static func path(executable: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let env = environment["PCDIAG_MODEL"], !env.isEmpty { return env }
        var dir = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        var candidates = [dir.appendingPathComponent("../share/pcdiag/Models/\(fileName)").standardized.path]
        while dir.path != "/" {
            candidates.append(dir.appendingPathComponent("Models/\(fileName)").path)
            dir = dir.deletingLastPathComponent()
        }
        candidates.append(FileManager.default.currentDirectoryPath + "/Models/\(fileName)")
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }
}
