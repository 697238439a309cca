import Diagnostics
import Foundation
import Output
import PointClouds

extension CalibrationSample {
    /// One JSON line per calibration diagnosis, clean clouds first, in the row layout of `batch` plus
    /// the corruption of a shifted copy (`shift`, "none" for a clean cloud) and `wrong`: to audit or
    /// study the fit.
    public func writeRows(calibration: Calibration, classes: [String], to path: String) throws {
        var lines = [String]()
        for (copies, kinds) in [(clean, paths.map { _ in "none" }), (shifted, shifts)] {
            for (i, diagnosis) in copies.enumerated() {
                var row = ObjectRow(path: paths[i], points: diagnosis.map.values.count, prediction: diagnosis.prediction,
                                    diagnosis: diagnosis, assessment: calibration.assess(diagnosis.indicators), classes: classes,
                                    label: classes[labels[i]], milliseconds: 0).record(format: .jsonl)
                row["shift"] = .string(kinds[i])
                row["wrong"] = .bool(diagnosis.prediction.label != labels[i])
                lines.append(row.json)
            }
        }
        try Conclusion.write(lines.joined(separator: "\n") + "\n", to: path)
    }
}
