"""The evaluation statistics agree with scipy and with hand-computed values."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
from scipy import stats as sps

from medtune.evaluation import stats


def test_bootstrap_ci_matches_scipy_percentile_bootstrap():
    x = np.random.default_rng(1).normal(0.4, 0.2, size=60)
    ours = stats.bootstrap_ci(x, n_resamples=20000, seed=3)
    ref = sps.bootstrap((x,), np.mean, n_resamples=20000, method="percentile", rng=np.random.default_rng(5))
    assert ours == pytest.approx((ref.confidence_interval.low, ref.confidence_interval.high), abs=0.005)
    # and with the normal-theory interval of a mean, which it approximates for n=60
    t = sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    assert ours == pytest.approx(t, abs=0.01)


def test_perplexity_interval_is_exp_of_the_mean_nll_interval():
    nll = np.random.default_rng(2).gamma(4.0, 0.5, size=40)
    lo, hi = stats.bootstrap_ci(nll, seed=7)
    plo, phi = stats.bootstrap_ci(nll, transform="exp_mean", seed=7)
    assert (plo, phi) == pytest.approx((np.exp(lo), np.exp(hi)), rel=1e-6)
    assert stats.statistic(nll, "exp_mean") == pytest.approx(np.exp(nll.mean()))


def test_paired_bootstrap_matches_scipy_paired_bootstrap():
    rng = np.random.default_rng(4)
    a = rng.uniform(0.1, 0.3, size=50)
    b = a + rng.normal(0.05, 0.03, size=50)
    ours = stats.paired_bootstrap(a, b, n_resamples=20000, seed=1)
    ref = sps.bootstrap((a, b), lambda x, y, axis=-1: y.mean(axis=axis) - x.mean(axis=axis), paired=True,
                        n_resamples=20000, method="percentile", rng=np.random.default_rng(9))
    assert ours["diff"] == pytest.approx(b.mean() - a.mean())
    assert ours["ci"] == pytest.approx([ref.confidence_interval.low, ref.confidence_interval.high], abs=0.003)
    assert ours["p"] < 0.001            # a clear shift of 0.05 with sd 0.03 on 50 pairs


def test_paired_bootstrap_finds_no_difference_between_identical_runs():
    a = np.random.default_rng(0).uniform(size=30)
    result = stats.paired_bootstrap(a, a.copy())
    assert result["diff"] == 0 and result["p"] == 1.0 and result["ci"] == [0.0, 0.0]


def test_mcnemar_exact_matches_hand_computed_binomial():
    # 10 items only model B got right, 2 only model A got right, 20 both right, 8 both wrong
    a = np.array([0] * 10 + [1] * 2 + [1] * 20 + [0] * 8, dtype=bool)
    b = np.array([1] * 10 + [0] * 2 + [1] * 20 + [0] * 8, dtype=bool)
    result = stats.mcnemar(a, b)
    by_hand = 2 * sum(comb(12, k) for k in range(3)) / 2 ** 12        # = 158 / 4096
    assert result["a_wrong_b_right"] == 10 and result["a_right_b_wrong"] == 2
    assert result["p"] == pytest.approx(by_hand)
    assert result["p"] == pytest.approx(sps.binomtest(2, 12, 0.5).pvalue)
    assert result["diff"] == pytest.approx(8 / 40)


def test_mcnemar_without_disagreement_is_not_significant():
    a = np.array([1, 0, 1, 1], dtype=bool)
    assert stats.mcnemar(a, a.copy())["p"] == 1.0


def test_unequal_lengths_are_rejected():
    with pytest.raises(ValueError, match="equal-length"):
        stats.mcnemar([1, 0], [1])
    with pytest.raises(ValueError, match="equal-length"):
        stats.paired_bootstrap([1.0, 0.0], [1.0])
