#!/usr/bin/env python3
"""Compare ways of combining the indicators into a fragility score, on labelled scans (needs numpy).

Each candidate is fitted on the diagnoses `pcdiag calibrate --diagnoses FILE` wrote (clean source
clouds, then one shifted copy of each: what `calibrate` sees) and scored on the rows of a labelled
`pcdiag batch … --labels-from-folders -o ROWS.jsonl` (what a user's scans would be): error-detection
AUROC, and its gain over the best single indicator on those rows.

    scripts/fragility-combiners.py calibration-diagnoses.jsonl labelled-rows.jsonl

How `calibrate`'s score was chosen (2026-11-29), on 800 seeded scans of scans-sim/train (never the
test set), for both shipped source models:
- Round 1: candidates A–F below, written down before any run; rule: the largest gain of the worse of
  the two models. B won (PointNet +0.021, DGCNN +0.022; A +0.026 and +0.002).
- But B's threshold for 95 % recall of the calibration errors flagged 26 % of DGCNN's clean
  calibration clouds (A: 0.2 %) and 88 % of the dev scans: the errors it cannot see are confidently
  wrong ring-pattern clouds whose only sign is a low saliency kurtosis, which B's constraint forbids
  using. Round 2 added K: B, plus each indicator whose calibration AUROC is below 0.5 entering also as
  its shortfall below its clean median (weight >= 0). K: PointNet +0.029, DGCNN +0.025, flagging
  2.6 % / 0.5 % of the clean calibration clouds. (Also tried in round 2, on the dev scans: weights
  signed by each indicator's own calibration AUROC, DGCNN -0.006; saliency statistics as two-sided
  distances from the clean median, DGCNN -0.033 to +0.017.)
- Round 3 (same dev scans): L, the L2 penalty chosen by holding out each kind of calibration shift in
  turn (PenaltySearch in Sources/Diagnostics), which picks 0.03 for both models: PointNet +0.031,
  DGCNN +0.029. Before it, on these dev scans, a grid of fixed penalties had been looked at
  (1e-3 … 1: DGCNN +0.017 … +0.031, PointNet +0.020 … +0.031), so the search is not blind to them.

Candidates: A logistic regression over all indicators, as `calibrate` fitted it until then (suspicion
values, kurtosis and mahalanobis on a log scale, standardised, errors and right answers weighted
equally, L2 1e-2 on the mean loss); B the same with every weight >= 0; C, D: A and B over rank
features (the logit of each indicator's mid-rank in the clean calibration clouds); E the unfitted mean
of the rank features; F that mean over the indicators with calibration AUROC >= 0.75; K B plus
shortfalls (`calibrate` until round 3); L (`calibrate` now) K with its L2 penalty searched. For the fitted ones, the share flagged at the threshold that catches 95 % of
the calibration errors, on the clean calibration clouds and on the rows.
"""
import importlib.util
import json
import pathlib
import sys

import numpy as np

_spec = importlib.util.spec_from_file_location("heldout", pathlib.Path(__file__).with_name("fragility-heldout-shift.py"))
heldout = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(heldout)
INDICATORS, feature, auroc, fit, fragility, choose_l2 = (heldout.INDICATORS, heldout.feature, heldout.auroc, heldout.fit,
                                                         heldout.fragility, heldout.choose_l2)


def rank_features(reference, x):
    """Per column, the logit of the mid-rank of x among the reference values, (rank + ½)/(n + 1)."""
    s = np.sort(reference, 0)
    out = np.empty_like(x, dtype=float)
    for j in range(x.shape[1]):
        below = np.searchsorted(s[:, j], x[:, j], "left")
        not_above = np.searchsorted(s[:, j], x[:, j], "right")
        p = ((below + not_above) / 2 + 0.5) / (len(s) + 1)
        out[:, j] = np.log(p / (1 - p))
    return out


def main():
    x, wrong, is_clean, kind = heldout.calibration_rows(sys.argv[1])
    rows = [json.loads(line) for line in open(sys.argv[2])]
    clean = x[is_clean]
    q = np.array([[feature(r, k) for k in INDICATORS] for r in rows])
    q_wrong = np.array([not r["correct"] for r in rows])
    strong = np.array([auroc(wrong, x[:, j]) >= 0.75 for j in range(len(INDICATORS))])
    rank = lambda z: rank_features(clean, z)  # noqa: E731
    fitted = {
        "A logistic": fit(x, wrong),
        "B logistic, weights >= 0": fit(x, wrong, nonnegative=True),
        "C logistic, rank features": lambda z: fit(rank(x), wrong)(rank(z)),
        "D B on rank features": lambda z: fit(rank(x), wrong, nonnegative=True)(rank(z)),
        "K B + shortfalls, L2 1e-2": fragility(x, wrong, is_clean),
        "L K, L2 searched (calibrate)": fragility(x, wrong, is_clean, choose_l2(x, wrong, is_clean, kind)[0]),
    }
    unfitted = {
        "E mean rank feature": lambda z: rank(z).mean(1),
        "F mean rank feature, AUROC >= 0.75": lambda z: rank(z)[:, strong].mean(1),
    }
    singles = {k: auroc(q_wrong, q[:, j]) for j, k in enumerate(INDICATORS)}
    best = max(singles, key=singles.get)
    print(f"{len(rows)} rows, {q_wrong.sum()} wrong; fitted on {len(x)} diagnoses, {wrong.sum()} wrong")
    print(f"best single indicator: {best} {singles[best]:.3f}")
    print(f"{'':36s} AUROC   gain    flagged: clean calibration, rows")
    for name, score in {**fitted, **unfitted}.items():
        a = auroc(q_wrong, score(q))
        line = f"{name:36s} {a:.3f}  {a - singles[best]:+.3f}"
        if name in fitted:
            errors = np.sort(score(x)[wrong])
            threshold = errors[int(np.floor(0.05 * len(errors)))]
            line += f"  {np.mean(score(x)[is_clean] >= threshold):6.3f}  {np.mean(score(q) >= threshold):.3f}"
        print(line)

if __name__ == "__main__":
    main()
