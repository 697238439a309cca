import Foundation
import PointClouds

/// The lists of corruptions the commands take as text: `--kind`, `--severity`, `--corruptions`.
extension Corruption.Kind {
    /// "all", or kinds separated by commas (repeats kept once); nil when a name is not a kind.
    public static func selection(_ text: String) -> [Corruption.Kind]? {
        if text == "all" { return allCases }
        var kinds = [Corruption.Kind]()
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let kind = Corruption.Kind(rawValue: name.trimmingCharacters(in: .whitespaces)) else { return nil }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        return kinds
    }
}

extension Corruption {
    /// "all", or severities 1–5 separated by commas (repeats kept once); nil for anything else.
    public static func severitySelection(_ text: String) -> [Int]? {
        if text == "all" { return Array(severities) }
        var levels = [Int]()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let level = Int(item.trimmingCharacters(in: .whitespaces)), severities.contains(level) else { return nil }
            if !levels.contains(level) { levels.append(level) }
        }
        return levels
    }

    /// "KIND:SEVERITY,…" (severity 1–5); nil when an item is not one.
    public static func list(_ text: String) -> [Corruption]? {
        var out = [Corruption]()
        for item in text.split(separator: ",") {
            let parts = item.split(separator: ":").map { String($0).trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let kind = Kind(rawValue: parts[0]), let severity = Int(parts[1]), (1 ... 5).contains(severity) else { return nil }
            out.append(Corruption(kind, severity: severity))
        }
        return out.isEmpty ? nil : out
    }
}
