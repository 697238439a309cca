#!/usr/bin/env python3
"""Compare ways of combining the indicators into a fragility score, on labelled scans (needs numpy).

Each candidate is fitted on the diagnoses `pcdiag calibrate --diagnoses FILE` wrote (clean source
clouds, then one shifted copy of each: what `calibrate` sees) and scored on the rows of a labelled
`pcdiag batch … --labels-from-folders -o ROWS.jsonl` (what a user's scans would be): error-detection
AUROC, and its gain over the best single indicator on those rows.

    scripts/fragility-combiners.py calibration-diagnoses.jsonl labelled-rows.jsonl

How `calibrate`'s score was chosen (2026-11-29): the candidates below, written down before any run,
measured on 800 seeded scans of scans-sim/train (not the test set) for both shipped source models;
the rule was the largest gain of the worse of the two models. The non-negative logistic won
(PointNet +0.021, DGCNN +0.022; unconstrained logistic +0.026 and +0.002; the next best, D, +0.011).

Candidates: A logistic regression over all indicators, as `calibrate` fitted it until then (suspicion
values, kurtosis and mahalanobis on a log scale, standardised, errors and right answers weighted
equally, L2 1e-2 on the mean loss); B the same with every weight >= 0; C, D: A and B over rank
features (the logit of each indicator's mid-rank in the clean calibration clouds); E the unfitted mean
of the rank features; F that mean over the indicators with calibration AUROC >= 0.75.
"""
import importlib.util
import json
import pathlib
import sys

import numpy as np

_spec = importlib.util.spec_from_file_location("heldout", pathlib.Path(__file__).with_name("fragility-heldout-shift.py"))
heldout = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(heldout)
INDICATORS, feature, auroc, fit = heldout.INDICATORS, heldout.feature, heldout.auroc, heldout.fit


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
    calibration = [json.loads(line) for line in open(sys.argv[1])]
    rows = [json.loads(line) for line in open(sys.argv[2])]
    x = np.array([[feature(r, k) for k in INDICATORS] for r in calibration])
    wrong = np.array([r["wrong"] for r in calibration])
    clean = x[: len(calibration) // 2]
    q = np.array([[feature(r, k) for k in INDICATORS] for r in rows])
    q_wrong = np.array([not r["correct"] for r in rows])
    strong = np.array([auroc(wrong, x[:, j]) >= 0.75 for j in range(len(INDICATORS))])
    scores = {
        "A logistic": fit(x, wrong)(q),
        "B logistic, weights >= 0": fit(x, wrong, nonnegative=True)(q),
        "C logistic, rank features": fit(rank_features(clean, x), wrong)(rank_features(clean, q)),
        "D B on rank features": fit(rank_features(clean, x), wrong, nonnegative=True)(rank_features(clean, q)),
        "E mean rank feature": rank_features(clean, q).mean(1),
        "F mean rank feature, AUROC >= 0.75": rank_features(clean, q)[:, strong].mean(1),
    }
    singles = {k: auroc(q_wrong, q[:, j]) for j, k in enumerate(INDICATORS)}
    best = max(singles, key=singles.get)
    print(f"{len(rows)} rows, {q_wrong.sum()} wrong; fitted on {len(calibration)} diagnoses, {wrong.sum()} wrong")
    print(f"best single indicator: {best} {singles[best]:.3f}")
    for name, score in scores.items():
        a = auroc(q_wrong, score)
        print(f"{name:36s} {a:.3f}  {a - singles[best]:+.3f}")


if __name__ == "__main__":
    main()
