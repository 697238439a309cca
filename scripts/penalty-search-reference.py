#!/usr/bin/env python3
"""Reference figures for the penalty search test (Tests/DiagnosticsTests/PenaltySearchTests.swift):
a synthetic calibration built from a closed-form hash, so that this script and the test make the same
data, and `choose_l2` of scripts/fragility-heldout-shift.py (numpy) searching it. Needs numpy.

    scripts/penalty-search-reference.py
"""
import importlib.util
import math
import pathlib

import numpy as np

_spec = importlib.util.spec_from_file_location("heldout", pathlib.Path(__file__).with_name("fragility-heldout-shift.py"))
heldout = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(heldout)

CLEAN = 240
KINDS = ["a", "b", "c"]
ERROR_RATE = [0.3, 0.4, 0.5]


def u(i, j):
    """A uniform-looking number in [0, 1) from two integers (the classic shader hash)."""
    v = abs(math.sin(i * 12.9898 + j * 78.233)) * 43758.5453
    return v - math.floor(v)


def synthetic():
    """Rows: CLEAN clean clouds, then a shifted copy of each (kind KINDS[i % 3]). Returns the raw
    indicator values by name, wrong answers, clean marks and groups."""
    rows, wrong, clean, group = [], [], [], []
    for r in range(2 * CLEAN):
        shifted = r >= CLEAN
        i = r - CLEAN if shifted else r
        k = i % 3
        w = u(r, 0) < (ERROR_RATE[k] if shifted else 0.04)
        msp = 0.5 * u(r, 1) + (0.4 if w else 0)
        rows.append({
            "msp_score": msp,
            "margin": 1 - msp - 0.2 * u(r, 2),
            "energy": -4 + u(r, 3) + (0.5 if w and k == 0 else 0),
            "entropy": 0.5 + u(r, 4) + (0.4 if w and k == 1 else 0),
            "skewness": 2 * u(r, 5) - 1 + (0.8 if shifted else 0),
            "kurtosis": 5 + 10 * u(r, 6) - (4 if w and k == 2 else 0),
            "gini": 0.8 + 0.1 * u(r, 7),
            "top10_mass": 0.6 + 0.2 * u(r, 8),
            "mahalanobis": 20 + 10 * u(r, 9) + (15 if shifted and k == 0 else 3 if shifted else 0),
            "flip_rate": math.floor(4 * u(r, 10)) / 8,
            "drop_rounds": 1 + math.floor(10 * u(r, 11)) - (3 if w else 0),
        })
        wrong.append(w)
        clean.append(not shifted)
        group.append(KINDS[k])
    return rows, np.array(wrong), np.array(clean), np.array(group)


def main():
    rows, wrong, clean, group = synthetic()
    x = np.array([[heldout.feature(r, k) for k in heldout.INDICATORS] for r in rows])
    chosen, means, folds = heldout.choose_l2(x, wrong, clean, group)
    print(f"{len(rows)} rows, {wrong.sum()} wrong; folds {folds}; chosen {chosen:g}")
    for l2, m in zip(heldout.PENALTIES, means):
        print(f"{l2:g}: {m:.10f}")


if __name__ == "__main__":
    main()
