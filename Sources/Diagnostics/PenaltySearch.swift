import Statistics

/// The L2 penalty of the fragility score, chosen by leave-one-shift-out cross-validation on the
/// calibration data: for each kind of shift in turn, the score is fitted without the clouds of that
/// kind (and their clean originals) and its error-detection AUROC measured on them; the penalty with
/// the best mean over the kinds wins. A held-out kind stands in for the user's sensor, which the
/// calibration never saw: the penalty is chosen for what carries over to a new shift, not for the fit
/// to the synthetic ones (a weak penalty let the score lean on what told the calibration's own
/// corruptions apart; on scans-sim/train the chosen penalties did better than the fixed 1e-2).
public struct PenaltySearch: Sendable, Equatable, Codable {
    /// The penalties tried, λ of `LogisticModel.fit` (on the mean loss, standardised weights).
    public var penalties: [Double]
    /// Per penalty, the mean held-out AUROC over `folds`; nil where a fit failed.
    public var heldOutAUROC: [Double?]
    /// The shift kinds held out in turn: those with at least `minimumErrors` wrong answers and a right one.
    public var folds: [String]
    public var chosen: Double

    public static let grid: [Double] = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1]
    /// The penalty when there are fewer than two kinds to hold out.
    public static let fallback = 1e-2
    public static let minimumErrors = 3

    /// Searches `grid` over diagnosed clouds: `wrong` answers, the `clean` ones (which anchor the
    /// shortfalls), and each cloud's `group`, the kind of shift held out with it (a clean cloud goes
    /// with its shifted copy). Nil when fewer than two kinds can be held out.
    public static func run(_ indicators: [Indicators], wrong: [Bool], clean: [Bool], groups: [String], using names: [Indicator],
                           grid: [Double] = Self.grid) -> PenaltySearch? {
        precondition(wrong.count == indicators.count && clean.count == indicators.count && groups.count == indicators.count,
                     "one label, clean mark and group per cloud")
        let folds = Set(groups).sorted().filter { kind in
            let held = groups.indices.filter { groups[$0] == kind }
            let errors = held.filter { wrong[$0] }.count
            return errors >= minimumErrors && errors < held.count
        }
        guard folds.count >= 2 else { return nil }
        // Each fold's split, made once for every penalty.
        let splits = folds.map { kind in (train: groups.indices.filter { groups[$0] != kind }, held: groups.indices.filter { groups[$0] == kind }) }
        let means = grid.map { l2 -> Double? in
            var total = 0.0
            for (train, held) in splits {
                guard let model = try? FragilityModel.fit(train.map { indicators[$0] }, wrong: train.map { wrong[$0] },
                                                          clean: train.map { clean[$0] }, using: names, l2: l2),
                      let a = RankMetrics.auroc(scores: held.map { model.score(indicators[$0])! }, positives: held.map { wrong[$0] })
                else { return nil }
                total += a
            }
            return total / Double(folds.count)
        }
        // The first best: on a tie, the weaker penalty.
        guard let best = means.indices.filter({ means[$0] != nil }).max(by: { means[$0]! < means[$1]! || (means[$0]! == means[$1]! && $0 > $1) })
        else { return nil }
        return PenaltySearch(penalties: grid, heldOutAUROC: means, folds: folds, chosen: grid[best])
    }
}
