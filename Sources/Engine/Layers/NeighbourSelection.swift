/// One row's k nearest neighbours from its row of the Gram matrix: the k smallest keys
/// κⱼ = ‖xⱼ‖² − 2 xᵢ·xⱼ (the squared distance less ‖xᵢ‖², which leaves the order as it is), smallest
/// first, ties to the lower index. Scratch for one thread, reused row after row.
///
/// Why not a scan that keeps the best k sorted: each of the ~k(1 + ln(n/k)) keys that beat the current
/// k-th costs an insertion (k/2 moves and a mispredicted branch), and that was most of DGCNN's kNN time.
/// Here: the row is split into 32 strided blocks; the k-th smallest block minimum τ bounds the k-th
/// smallest key from above (k blocks each hold a key ≤ τ), and only about 1.5 k keys are ≤ τ on
/// typical rows. Those are collected in index order and each one's rank among them — keys smaller,
/// or equal and earlier — counted in vector registers: the key of rank r < k is neighbour r. Exact;
/// without branches but for the collection. Short rows (under 64 keys) take every key as a candidate;
/// rows with more than 128 candidates (many duplicated points) fall back to the sorted insertion.
@usableFromInline
struct NeighbourSelection<T: EngineScalar> {
    @usableFromInline typealias V = SIMD8<T>
    @usableFromInline typealias Bits = SIMD8<T.SIMDMaskScalar>
    @usableFromInline static var blocks: Int { 32 }
    /// Above this many candidates the O(m²) ranks cost more than insertions.
    @usableFromInline static var maxRanked: Int { 128 }
    @usableFromInline let n: Int, k: Int
    @usableFromInline let key: UnsafeMutablePointer<T>           // n
    @usableFromInline let minima: UnsafeMutablePointer<T>        // one per block
    @usableFromInline let candidateKey: UnsafeMutablePointer<T>  // n, and padding to a whole vector
    @usableFromInline let candidate: UnsafeMutablePointer<Int32>
    @usableFromInline let best: UnsafeMutablePointer<T>          // k, for the insertion

    @inlinable
    init(points n: Int, k: Int) {
        self.n = n
        self.k = k
        key = .allocate(capacity: n)
        minima = .allocate(capacity: Self.blocks)
        candidateKey = .allocate(capacity: n + V.scalarCount)
        candidate = .allocate(capacity: n + V.scalarCount)
        best = .allocate(capacity: k)
    }

    @inlinable
    func deallocate() {
        for p in [key, minima, candidateKey, best] { p.deallocate() }
        candidate.deallocate()
    }

    /// Writes the k nearest of the row whose Gram row is `g` (‖xⱼ‖² in `norms`) to `nearest`.
    @inlinable
    func findNearest(row g: UnsafePointer<T>, norms: UnsafePointer<T>, into nearest: UnsafeMutablePointer<Int32>) {
        let blocks = Self.blocks
        var threshold = T.infinity
        if n >= 2 * blocks && k <= blocks {
            // Keys and the minima of the blocks {j ≡ b mod 32}, four vectors wide.
            var m0 = V(repeating: .infinity), m1 = m0, m2 = m0, m3 = m0
            let two = V(repeating: 2)
            var j = 0
            while j + blocks <= n {
                let k0 = V.load(norms + j) - two * V.load(g + j), k1 = V.load(norms + j + 8) - two * V.load(g + j + 8)
                let k2 = V.load(norms + j + 16) - two * V.load(g + j + 16), k3 = V.load(norms + j + 24) - two * V.load(g + j + 24)
                k0.store(key + j)
                k1.store(key + j + 8)
                k2.store(key + j + 16)
                k3.store(key + j + 24)
                m0 = minimum(k0, m0)
                m1 = minimum(k1, m1)
                m2 = minimum(k2, m2)
                m3 = minimum(k3, m3)
                j += blocks
            }
            m0.store(minima)
            m1.store(minima + 8)
            m2.store(minima + 16)
            m3.store(minima + 24)
            for (b, q) in (j ..< n).enumerated() {
                key[q] = norms[q] - 2 * g[q]
                minima[b] = min(minima[b], key[q])
            }
            threshold = kthSmallestMinimum()
        } else {
            for j in 0 ..< n { key[j] = norms[j] - 2 * g[j] }
        }
        let count = collect(atMost: threshold)
        if count <= Self.maxRanked {
            rank(count, into: nearest)
        } else {
            insert(count, into: nearest)
        }
    }

    /// The k-th smallest of the block minima: the value v with fewer than k minima below it and at
    /// least k at or below it.
    @inlinable
    func kthSmallestMinimum() -> T {
        for b in 0 ..< Self.blocks {
            let v = V(repeating: minima[b])
            var below = Bits(), above = Bits()
            for q in stride(from: 0, to: Self.blocks, by: V.scalarCount) {
                let w = V.load(minima + q)
                below &+= less(w, v)  // −1 per lane that holds
                above &+= less(v, w)
            }
            let atOrBelow = T.SIMDMaskScalar(Self.blocks) + above.wrappedSum()
            if -below.wrappedSum() < T.SIMDMaskScalar(k), atOrBelow >= T.SIMDMaskScalar(k) { return minima[b] }
        }
        return .infinity  // only with NaN keys
    }

    /// The keys ≤ `threshold` and their indices, in index order, into the candidate buffers; their count.
    @inlinable
    func collect(atMost threshold: T) -> Int {
        // key ≤ τ as key < τ⁺ (the next float up; ∞ stays ∞, above every finite key), the mask's
        // lanes OR-ed down as integers (a generic mask test went lane by lane).
        let above = threshold.nextUp, limit = V(repeating: above)
        var count = 0, j = 0
        while j + V.scalarCount <= n {
            let v = V.load(key + j)
            let kept = less(v, limit), halves = kept.lowHalf | kept.highHalf, quarters = halves.lowHalf | halves.highHalf
            if quarters[0] | quarters[1] != 0 {
                // Every lane is written, the count moves past the kept ones only (−1 lanes).
                for l in 0 ..< V.scalarCount {
                    candidate[count] = Int32(truncatingIfNeeded: j + l)
                    candidateKey[count] = v[l]
                    count &-= Int(truncatingIfNeeded: kept[l])
                }
            }
            j += V.scalarCount
        }
        while j < n {
            if key[j] <= threshold {
                candidate[count] = Int32(truncatingIfNeeded: j)
                candidateKey[count] = key[j]
                count += 1
            }
            j += 1
        }
        return count
    }

    /// Each candidate's rank — candidates with a smaller key, or an equal key and a lower index — and
    /// the first k by rank into `nearest`.
    @inlinable
    func rank(_ count: Int, into nearest: UnsafeMutablePointer<Int32>) {
        let padded = (count + V.scalarCount - 1) / V.scalarCount * V.scalarCount
        for q in count ..< padded { candidateKey[q] = .infinity }  // never below a finite key
        let lanes = V(0, 1, 2, 3, 4, 5, 6, 7)
        var position: T = 0
        for c in 0 ..< count {
            let mine = V(repeating: candidateKey[c]), here = V(repeating: position)
            var before = Bits(), offset = lanes
            for q in stride(from: 0, to: padded, by: V.scalarCount) {
                let v = V.load(candidateKey + q)
                let smaller = less(v, mine), equal = ~(smaller | less(mine, v))
                before &+= smaller | (equal & less(offset, here))
                offset += V(repeating: T(V.scalarCount))
            }
            let r = Int(truncatingIfNeeded: -before.wrappedSum())
            if r < k { nearest[r] = candidate[c] }
            position += 1
        }
        fillShortfall(count, nearest)
    }

    /// Sorted insertion of the candidates, in index order, into the best k: each goes after the equal
    /// keys already in, so ties keep index order; past the first k only those below the k-th get in.
    @inlinable
    func insert(_ count: Int, into nearest: UnsafeMutablePointer<Int32>) {
        var filled = 0
        for c in 0 ..< count {
            let d = candidateKey[c]
            if filled == k {
                guard d < best[k - 1] else { continue }
                filled -= 1
            }
            var at = filled
            while at > 0 && best[at - 1] > d {
                best[at] = best[at - 1]
                nearest[at] = nearest[at - 1]
                at -= 1
            }
            best[at] = d
            nearest[at] = candidate[c]
            filled += 1
        }
        fillShortfall(count, nearest)
    }

    @inlinable @inline(__always)
    func less(_ a: V, _ b: V) -> Bits { T.less(a, b) }

    /// Fewer than k candidates happen only with NaN keys: the remaining slots repeat the first.
    @inlinable
    func fillShortfall(_ count: Int, _ nearest: UnsafeMutablePointer<Int32>) {
        guard count < k else { return }
        for r in count ..< k { nearest[r] = count > 0 ? nearest[0] : 0 }
    }
}
