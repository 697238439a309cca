import CEigen
import Engine
import Foundation
import Networks

/// Class-conditional Gaussians with one shared covariance on the network's pooled feature (Lee et al.,
/// "A Simple Unified Framework for Detecting Out-of-Distribution Samples and Adversarial Attacks", 2018):
/// how far a cloud's feature lies from the training data, in units of the data's own spread.
///
/// The feature has 1,024 (PointNet) or 2,048 (DGCNN) dimensions and a few thousand training clouds
/// estimate its covariance, so the covariance is regularised as in probabilistic PCA (Tipping & Bishop
/// 1999): its `rank` leading eigen-directions exactly, the rest one isotropic variance (their mean).
/// The low-variance directions are not dropped — an input that moves the feature off the training
/// subspace is exactly what should be noticed — only pooled. Stored in the model file (≈ D × rank floats).
public struct FeatureStatistics: Sendable, Equatable {
    /// [classes][D]: the mean feature of each class.
    public var classMeans: [[Float]]
    /// [rank][D]: the leading eigenvectors of the shared within-class covariance, one per row.
    public var basis: [[Float]]
    /// The eigenvalues of `basis`, then the pooled variance of the remaining directions.
    public var variances: [Double]

    public var dimension: Int { classMeans.first?.count ?? 0 }

    /// Fits on features [n][D] with their class labels. Classes without a sample get no mean (their
    /// distance is never the smallest). Needs more samples than classes.
    public static func fit(features: [[Float]], labels: [Int], classes: Int, rank: Int = 128) throws -> FeatureStatistics {
        let n = features.count, d = features.first?.count ?? 0
        guard n > classes, d > 0, labels.count == n else {
            throw DiagnosticsError.calibration("feature statistics need more labelled clouds than classes (got \(n))")
        }
        var sums = [[Double]](repeating: [Double](repeating: 0, count: d), count: classes)
        var counts = [Int](repeating: 0, count: classes)
        for (f, y) in zip(features, labels) {
            counts[y] += 1
            for j in 0 ..< d { sums[y][j] += Double(f[j]) }
        }
        let means = (0 ..< classes).map { c in sums[c].map { counts[c] > 0 ? $0 / Double(counts[c]) : .infinity } }
        // Shared covariance of the within-class deviations, by one sgemm: Σ = XᵀX / (n − classes).
        // The deviations are centred, so float accumulation loses nothing that matters here.
        var deviations = [Float](repeating: 0, count: n * d)
        for (i, (f, y)) in zip(features, labels).enumerated() {
            for j in 0 ..< d { deviations[i * d + j] = Float(Double(f[j]) - means[y][j]) }
        }
        var covariance = [Float](repeating: 0, count: d * d)
        Float.gemm(transA: true, transB: false, m: d, n: d, k: n, alpha: 1 / Float(n - classes),
                   a: deviations, lda: d, b: deviations, ldb: d, beta: 0, c: &covariance, ldc: d)
        let (values, vectors) = try symmetricEigen(covariance.map(Double.init), size: d)
        let kept = min(rank, d - 1)
        // Eigenvalues come in increasing order: the leading ones are at the end.
        let leading = (0 ..< kept).map { d - 1 - $0 }
        let total = values.reduce(0, +)
        let rest = leading.reduce(total) { $0 - values[$1] }
        // Floors keep a degenerate direction (a dead feature channel) from dividing by zero.
        let floor = max(total / Double(d) * 1e-6, 1e-12)
        let pooled = max(rest / Double(d - kept), floor)
        return FeatureStatistics(
            classMeans: means.map { $0.map { Float($0.isFinite ? $0 : .greatestFiniteMagnitude) } },
            basis: leading.map { col in (0 ..< d).map { Float(vectors[$0 * d + col]) } },
            variances: leading.map { max(values[$0], floor) } + [pooled])
    }

    public init(classMeans: [[Float]], basis: [[Float]], variances: [Double]) {
        self.classMeans = classMeans
        self.basis = basis
        self.variances = variances
    }

    /// The Mahalanobis distance √((f − μ_c)ᵀ Σ⁻¹ (f − μ_c)) to the nearest class mean. `feature` has D values.
    public func distance(_ feature: [Float]) -> Double {
        precondition(feature.count == dimension, "a feature of \(dimension) values")
        let pooled = variances.last!
        var best = Double.infinity
        for mean in classMeans {
            var squared = 0.0
            for j in 0 ..< feature.count { let e = Double(feature[j] - mean[j]); squared += e * e }
            var total = squared / pooled
            for (row, variance) in zip(basis, variances) {
                var z = 0.0
                for j in 0 ..< feature.count { z += Double(row[j]) * Double(feature[j] - mean[j]) }
                // Along a leading direction the pooled variance is replaced by its own.
                total += z * z * (1 / variance - 1 / pooled)
            }
            best = min(best, total)
        }
        return max(best, 0).squareRoot()
    }
}

/// Eigen-decomposition of a symmetric matrix (row-major), through Eigen: eigenvalues increasing,
/// eigenvectors as the columns of a row-major matrix.
func symmetricEigen(_ matrix: [Double], size n: Int) throws -> (values: [Double], vectors: [Double]) {
    var values = [Double](repeating: 0, count: n), vectors = [Double](repeating: 0, count: n * n)
    switch Int(ceigen_symmetric_eigen(matrix, n, &values, &vectors)) {
    case CEIGEN_OK: return (values, vectors)
    case CEIGEN_NO_CONVERGENCE: throw DiagnosticsError.calibration("the eigen decomposition did not converge")
    default: throw DiagnosticsError.calibration("out of memory in the eigen decomposition (\(n)×\(n))")
    }
}

extension FeatureStatistics {
    static let tensorNames = (means: "mahalanobis.class_means", basis: "mahalanobis.basis", variances: "mahalanobis.variances")

    /// Read from a model's attachments; nil when the model was never calibrated (none of the three
    /// tensors is there). Throws, naming what is wrong, when some are missing or they do not fit together.
    public init?(_ attachments: Attachments) throws {
        let names = Self.tensorNames
        let all = [names.means, names.basis, names.variances]
        let missing = all.filter { attachments.tensors[$0] == nil }
        if missing.count == all.count { return nil }
        guard missing.isEmpty, let m = attachments.tensors[names.means], let b = attachments.tensors[names.basis],
              let v = attachments.tensors[names.variances] else {
            throw DiagnosticsError.calibration("the calibration is incomplete: missing tensor "
                + missing.map { Attachments.prefix + $0 }.joined(separator: ", ") + " (recalibrate with pcdiag calibrate)")
        }
        guard m.shape.count == 2, b.shape.count == 2, v.shape.count == 1, m.shape[1] == b.shape[1],
              v.shape[0] == b.shape[0] + 1, m.shape[1] > 0, m.shape[0] > 0 else {
            throw DiagnosticsError.calibration("the stored feature statistics have inconsistent shapes (class means \(m.shape), "
                + "basis \(b.shape), variances \(v.shape))")
        }
        let rows = { (entry: SafeTensors.Entry) throws -> [[Float]] in
            let flat = try entry.floats(), width = entry.shape[1]
            guard flat.allSatisfy(\.isFinite) else {
                throw DiagnosticsError.calibration("the stored feature statistics hold NaN or infinite values")
            }
            return (0 ..< entry.shape[0]).map { Array(flat[$0 * width ..< ($0 + 1) * width]) }
        }
        let variances = try v.floats().map(Double.init)
        guard variances.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw DiagnosticsError.calibration("the stored feature variances are not positive")
        }
        self.init(classMeans: try rows(m), basis: try rows(b), variances: variances)
    }

    public func store(in attachments: inout Attachments) {
        let names = Self.tensorNames
        attachments.tensors[names.means] = .init(shape: [classMeans.count, dimension], floats: classMeans.flatMap { $0 })
        attachments.tensors[names.basis] = .init(shape: [basis.count, dimension], floats: basis.flatMap { $0 })
        attachments.tensors[names.variances] = .init(shape: [variances.count], floats: variances.map { Float($0) })
    }
}
