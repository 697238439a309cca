#!/usr/bin/env python3
"""How the fragility score does on a kind of shift it was not fitted on (needs numpy).

Reads the diagnoses `pcdiag calibrate --diagnoses FILE` wrote (clean clouds, then one shifted copy of
each) and, for each corruption kind with enough wrong answers, refits the fragility score — the same
logistic regression as `calibrate`: indicators as suspicion values (kurtosis and mahalanobis on a log
scale), standardised, errors and right answers weighted equally, an L2 penalty on the mean loss,
weights >= 0, shortfalls of the indicators that point the other way on the calibration data, the L2
penalty chosen by the same leave-one-kind-out search (`choose_l2`) — without the clouds whose copy
has that kind, and measures the error-detection AUROC on those clouds
(clean and shifted) against every single indicator's. A held-out kind stands in for a sensor the
calibration never saw: the score only helps there if it beats the best single indicator.

    scripts/fragility-heldout-shift.py diagnoses.jsonl
"""
import json
import sys

import numpy as np

INDICATORS = ["skewness", "kurtosis", "gini", "top10_mass", "msp_score", "energy", "entropy", "margin",
              "mahalanobis", "flip_rate", "drop_rounds"]
LOW = {"margin", "drop_rounds"}


def feature(row, key):
    v = row[key]
    if key == "kurtosis":
        return np.log(max(v + 3, 1e-6))
    if key == "mahalanobis":
        return np.log(max(v, 1e-6))
    return -v if key in LOW else v


def raw_median_feature(features, key):
    """feature() of the median of the raw values behind `features` (one indicator's)."""
    if key == "kurtosis":
        return np.log(max(np.quantile(np.exp(features) - 3, 0.5) + 3, 1e-6))
    if key == "mahalanobis":
        return np.log(max(np.quantile(np.exp(features), 0.5), 1e-6))
    return np.quantile(features, 0.5)  # a sign flip commutes with the median


def auroc(positive, score):
    """P(score of a positive > score of a negative), ties counting half (the Mann–Whitney U)."""
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score))
    sorted_scores = score[order]
    i = 0
    while i < len(score):
        j = i
        while j + 1 < len(score) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    p = positive.sum()
    n = len(positive) - p
    return (ranks[positive].sum() - p * (p + 1) / 2) / (p * n)


def fit(x, y, l2=1e-2, nonnegative=False):
    """Balanced, penalised logistic regression; with `nonnegative`, every weight >= 0 (as `calibrate`),
    by projected Newton: weights at zero whose gradient pushes them below it stay there, the rest take
    a Newton step, the result is clamped. Returns a scoring function (the logit)."""
    # Standardised with the class-balanced weights, as `calibrate` does.
    w = np.where(y, len(y) / (2 * y.sum()), len(y) / (2 * (~y).sum()))
    w = w / w.sum()
    mu = w @ x
    sd = np.sqrt(w @ (x - mu) ** 2)
    sd[sd == 0] = 1
    z = np.hstack([np.ones((len(x), 1)), (x - mu) / sd])
    penalty = np.full(z.shape[1], l2)
    penalty[0] = 0

    def objective(t):
        m = z @ t
        return w @ (np.logaddexp(0, m) - y * m) + 0.5 * penalty @ (t * t)

    def clamp(t):
        return np.concatenate([t[:1], np.maximum(t[1:], 0)]) if nonnegative else t

    theta = np.zeros(z.shape[1])
    for _ in range(200):
        p = 1 / (1 + np.exp(-z @ theta))
        gradient = z.T @ (w * (p - y)) + penalty * theta
        hessian = z.T @ (z * (w * p * (1 - p))[:, None]) + np.diag(penalty)
        held = np.zeros(len(theta), bool)
        if nonnegative:
            held[1:] = (theta[1:] <= 1e-12) & (gradient[1:] > 0)
        step = gradient.copy()
        free = ~held
        step[free] = np.linalg.solve(hessian[np.ix_(free, free)], gradient[free])
        t, current = 1.0, objective(theta)
        while objective(clamp(theta - t * step)) > current + 1e-15 and t > 1e-10:
            t /= 2
        new = clamp(theta - t * step)
        done = np.linalg.norm(new - theta) < 1e-10
        theta = new
        if done:
            break
    return lambda q: np.hstack([np.ones((len(q), 1)), (q - mu) / sd]) @ theta


def fragility(x, wrong, clean, l2=1e-2):
    """`calibrate`'s score, fitted on features x (rows of INDICATORS) with their wrong answers; `clean`
    marks the clean calibration clouds. An indicator whose calibration AUROC is below 0.5 also enters
    as its shortfall below its clean median; every weight >= 0. Returns a scoring function."""
    reversed_ = [j for j in range(x.shape[1]) if auroc(wrong, x[:, j]) < 0.5]
    # As `calibrate`: the median (type 7) of the raw values, then mapped.
    medians = {j: raw_median_feature(x[clean][:, j], INDICATORS[j]) for j in reversed_}

    def with_shortfalls(q):
        return np.hstack([q] + [np.maximum(medians[j] - q[:, j:j + 1], 0) for j in reversed_])

    score = fit(with_shortfalls(x), wrong, l2=l2, nonnegative=True)
    return lambda q: score(with_shortfalls(q))


PENALTIES = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1]


def choose_l2(x, wrong, clean, group):
    """`calibrate`'s penalty search: for each penalty, the mean over the groups (kinds of shift, a clean
    cloud in its copy's) with >= 3 wrong answers and a right one of the score's AUROC on that group when
    fitted without it. Returns (the best penalty, the first on a tie, or 1e-2 with < 2 such groups;
    the means; the groups)."""
    folds = [g for g in sorted(set(group)) if 3 <= wrong[group == g].sum() < (group == g).sum()]
    if len(folds) < 2:
        return 1e-2, None, folds
    means = []
    for l2 in PENALTIES:
        aurocs = []
        for g in folds:
            held = group == g
            aurocs.append(auroc(wrong[held], fragility(x[~held], wrong[~held], clean[~held], l2)(x[held])))
        means.append(np.mean(aurocs))
    return PENALTIES[int(np.argmax(means))], means, folds


def calibration_rows(path):
    """The diagnoses `calibrate --diagnoses` wrote: features, wrong answers, clean marks, and each
    cloud's group (its copy's kind of shift; clean clouds first, then their copies in the same order)."""
    rows = [json.loads(line) for line in open(path)]
    half = len(rows) // 2
    x = np.array([[feature(r, k) for k in INDICATORS] for r in rows])
    wrong = np.array([r["wrong"] for r in rows])
    kinds = [r["shift"].split(":")[0] for r in rows[half:]]
    return x, wrong, np.arange(len(rows)) < half, np.array(kinds + kinds)


def main():
    x, wrong, clean, kind = calibration_rows(sys.argv[1])
    l2, means, _ = choose_l2(x, wrong, clean, kind)
    print(f"{len(x)} diagnoses, {wrong.sum()} wrong answers; calibrate's L2 penalty {l2:g}")
    print("held-out kind     wrong  fragility  best single indicator")
    for k in sorted(set(kind[~clean])):
        held = kind == k
        if wrong[held].sum() < 3:
            print(f"{k:16s} {wrong[held].sum():6d}  (too few wrong answers)")
            continue
        # The penalty too is chosen without the held-out kind.
        inner, _, _ = choose_l2(x[~held], wrong[~held], clean[~held], kind[~held])
        score = fragility(x[~held], wrong[~held], clean[~held], inner)(x[held])
        singles = {name: auroc(wrong[held], x[held][:, i]) for i, name in enumerate(INDICATORS)}
        best = max(singles, key=singles.get)
        print(f"{k:16s} {wrong[held].sum():6d}  {auroc(wrong[held], score):9.3f}  {singles[best]:.3f} ({best})")


if __name__ == "__main__":
    main()
