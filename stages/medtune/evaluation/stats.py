"""Uncertainty and paired tests for the evaluation report.

- bootstrap_ci: percentile bootstrap 95% interval of a statistic over items.
- paired_bootstrap: the same items scored for two models; interval and two-sided p of the difference.
- mcnemar: exact McNemar test (binomial on the discordant pairs) for paired right/wrong answers.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binomtest

N_RESAMPLES = 2000


def _stat(values: np.ndarray, transform: str) -> np.ndarray:
    """Mean along the last axis, optionally exponentiated (perplexity = exp(mean NLL))."""
    m = values.mean(axis=-1)
    return np.exp(m) if transform == "exp_mean" else m


def statistic(values, transform: str = "mean") -> float:
    values = np.asarray(values, dtype=float)
    return float(_stat(values, transform)) if values.size else float("nan")


def bootstrap_ci(values, transform: str = "mean", n_resamples: int = N_RESAMPLES,
                 confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of mean (or exp of mean) over the items."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, values.size, size=(n_resamples, values.size))
    stats = _stat(values[idx], transform)
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(stats, [alpha, 1 - alpha])
    return float(lo), float(hi)


def paired_bootstrap(a, b, transform: str = "mean", n_resamples: int = N_RESAMPLES,
                     confidence: float = 0.95, seed: int = 0) -> dict:
    """Difference stat(b) - stat(a) on paired items: value, percentile interval, two-sided p.

    The p-value is twice the smaller share of resampled differences on either side of zero
    (the interval excludes zero exactly when p < 1 - confidence).
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired_bootstrap needs equal-length inputs, got {a.shape} and {b.shape}")
    if a.size == 0:
        return {"diff": float("nan"), "ci": [float("nan")] * 2, "p": float("nan"), "n": 0}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, a.size, size=(n_resamples, a.size))
    diffs = _stat(b[idx], transform) - _stat(a[idx], transform)
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(diffs, [alpha, 1 - alpha])
    p = min(1.0, 2 * min(np.mean(diffs <= 0), np.mean(diffs >= 0)))
    return {"diff": float(_stat(b, transform) - _stat(a, transform)), "ci": [float(lo), float(hi)],
            "p": float(p), "n": int(a.size)}


def mcnemar(a_correct, b_correct) -> dict:
    """Exact McNemar test: only pairs where the two models disagree carry information.

    b01 = items model A got wrong and model B right, b10 = the reverse; under the null both are
    equally likely, so b01 ~ Binomial(b01 + b10, 1/2).
    """
    a, b = np.asarray(a_correct, dtype=bool), np.asarray(b_correct, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"mcnemar needs equal-length inputs, got {a.shape} and {b.shape}")
    b01, b10 = int(np.sum(~a & b)), int(np.sum(a & ~b))
    p = binomtest(b01, b01 + b10, 0.5).pvalue if b01 + b10 else 1.0
    return {"a_wrong_b_right": b01, "a_right_b_wrong": b10, "p": float(p),
            "diff": float(b.mean() - a.mean()) if a.size else float("nan"), "n": int(a.size)}
