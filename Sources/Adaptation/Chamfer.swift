/// The Chamfer distance DefRec's reconstruction is trained with, squared Euclidean:
/// d(P, Q) = mean over p ∈ P of min_q ‖p − q‖² + mean over q ∈ Q of min_p ‖p − q‖², with its gradient
/// with respect to the predicted points P (the nearest partners held fixed, as autograd does).
/// O(|P| · |Q|): DefRec's regions hold tens to hundreds of points.
public func chamferDistance<S: SIMDScalar & BinaryFloatingPoint>(predicted: [SIMD3<S>], truth: [SIMD3<S>])
    -> (distance: Double, gradient: [SIMD3<S>])
{
    precondition(!predicted.isEmpty && !truth.isEmpty, "the Chamfer distance needs two non-empty sets")
    func squared(_ v: SIMD3<S>) -> S { v.x * v.x + v.y * v.y + v.z * v.z }
    var gradient = [SIMD3<S>](repeating: .zero, count: predicted.count)
    var forward = 0.0, backward = 0.0
    let (np, nq) = (S(predicted.count), S(truth.count))
    for (i, p) in predicted.enumerated() {
        let j = truth.indices.min { squared(p - truth[$0]) < squared(p - truth[$1]) }!
        forward += Double(squared(p - truth[j]))
        gradient[i] += 2 * (p - truth[j]) / np
    }
    for q in truth {
        let i = predicted.indices.min { squared(predicted[$0] - q) < squared(predicted[$1] - q) }!
        backward += Double(squared(predicted[i] - q))
        gradient[i] += 2 * (predicted[i] - q) / nq
    }
    return (forward / Double(predicted.count) + backward / Double(truth.count), gradient)
}
