"""The statistics against hand computations: Wilson, exact McNemar, paired bootstrap, Holm."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reflectlab.analysis import holm_adjust, mcnemar_exact, paired_bootstrap_ci, wilson_interval
from reflectlab.errors import ConfigError, InputError

# ---------------------------------------------------------------- Wilson


def test_wilson_matches_the_published_value_for_8_of_10() -> None:
    # Wilson (1927) score interval, z = 1.959964: centre 0.71674, half-width 0.22658
    # (the same numbers statsmodels' proportion_confint(8, 10, method="wilson") gives).
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.490162, abs=1e-5)
    assert high == pytest.approx(0.943318, abs=1e-5)


def test_wilson_at_zero_correct_is_not_a_point() -> None:
    # Upper bound at 0 successes is z^2 / (n + z^2) = 3.841459 / 13.841459.
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(3.841459 / 13.841459, abs=1e-6)


def test_wilson_is_symmetric_and_narrows_with_confidence() -> None:
    low8, high8 = wilson_interval(8, 10)
    low2, high2 = wilson_interval(2, 10)
    assert (low2, high2) == pytest.approx((1 - high8, 1 - low8))
    low90, high90 = wilson_interval(8, 10, confidence=0.90)
    assert low8 < low90 < high90 < high8


def test_wilson_with_no_samples_knows_nothing() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("correct", "n", "confidence", "error"),
    [(11, 10, 0.95, InputError), (-1, 10, 0.95, InputError), (5, 10, 1.0, ConfigError)],
)
def test_wilson_rejects_impossible_input(
    correct: int, n: int, confidence: float, error: type[Exception]
) -> None:
    with pytest.raises(error):
        wilson_interval(correct, n, confidence)


# ---------------------------------------------------------------- McNemar


def test_mcnemar_is_the_two_sided_binomial_on_discordant_pairs() -> None:
    # b=8, c=2: 2 * P(X <= 2 | 10, 1/2) = 2 * (1 + 10 + 45) / 1024
    assert mcnemar_exact(8, 2) == pytest.approx(112 / 1024)
    assert mcnemar_exact(2, 8) == pytest.approx(112 / 1024)
    # b=0, c=6: 2 * (1/2)^6
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 64)


@pytest.mark.parametrize(
    ("b", "c"),
    [(0, 1), (1, 0), (3, 4), (7, 1), (12, 30), (100, 140), (999, 1001), (4000, 4250), (0, 60)],
)
def test_mcnemar_matches_scipy_binomtest(b: int, c: int) -> None:
    # The exact integer sum must give scipy's two-sided binomial p-value (an independent
    # reference) to floating-point precision, however many discordant pairs there are.
    from scipy import stats

    reference = stats.binomtest(b, b + c, 0.5, alternative="two-sided").pvalue
    assert mcnemar_exact(b, c) == pytest.approx(reference, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("confidence", [0.5, 0.8, 0.9, 0.95, 0.99, 0.999])
def test_wilson_z_is_the_normal_quantile_scipy_gives(confidence: float) -> None:
    from scipy import stats

    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    correct, n = 37, 53
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = wilson_interval(correct, n, confidence)
    assert low == pytest.approx(centre - half, rel=1e-12)
    assert high == pytest.approx(centre + half, rel=1e-12)


def test_mcnemar_without_disagreement_finds_nothing() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 5) == 1.0


# ---------------------------------------------------------------- bootstrap


def _vectors() -> tuple[list[bool], list[bool]]:
    # 30 pairs: 9 gains, 3 losses, 18 ties (10 both right, 8 both wrong); observed diff 0.2
    strategy = [True] * 9 + [False] * 3 + [True] * 10 + [False] * 8
    baseline = [False] * 9 + [True] * 3 + [True] * 10 + [False] * 8
    return strategy, baseline


def test_bootstrap_is_deterministic_for_a_seed_and_covers_the_observed_difference() -> None:
    strategy, baseline = _vectors()
    first = paired_bootstrap_ci(strategy, baseline, seed=7)
    assert paired_bootstrap_ci(strategy, baseline, seed=7) == first
    # With 10,000 resamples the percentiles land on the same 1/30 grid point for most seeds;
    # with 20 resamples the seed must show.
    few = {paired_bootstrap_ci(strategy, baseline, n_resamples=20, seed=s) for s in range(10)}
    assert len(few) > 1
    low, high = first
    assert low < 0.2 < high
    assert low >= -1.0 and high <= 1.0


def test_bootstrap_matches_naive_pair_resampling() -> None:
    """The multinomial shortcut must give the distribution of resampling pairs one by one."""
    strategy, baseline = _vectors()
    d = np.array(strategy, dtype=float) - np.array(baseline, dtype=float)
    rng = np.random.default_rng(123)
    idx = rng.integers(0, len(d), size=(20_000, len(d)))
    naive = np.quantile(d[idx].mean(axis=1), [0.025, 0.975])
    fast = paired_bootstrap_ci(strategy, baseline, n_resamples=20_000, seed=0)
    step = 1 / len(d)  # the resampled mean moves on a grid of 1/n
    assert fast[0] == pytest.approx(naive[0], abs=step + 1e-9)
    assert fast[1] == pytest.approx(naive[1], abs=step + 1e-9)


def test_bootstrap_respects_the_pairing() -> None:
    # Identical answers: every resampled difference is 0. An unpaired bootstrap of two
    # 50 % accuracies would give roughly +-25 points here.
    same = [True, False] * 20
    assert paired_bootstrap_ci(same, list(same)) == (0.0, 0.0)
    assert paired_bootstrap_ci([True] * 5, [False] * 5) == (1.0, 1.0)


def test_bootstrap_rejects_unpaired_or_empty_input() -> None:
    with pytest.raises(InputError, match="length"):
        paired_bootstrap_ci([True, False], [True])
    with pytest.raises(InputError, match="no paired samples"):
        paired_bootstrap_ci([], [])
    with pytest.raises(ConfigError):
        paired_bootstrap_ci([True], [False], n_resamples=0)


# ---------------------------------------------------------------- Holm


def test_holm_by_hand() -> None:
    # sorted: 0.01 * 3 = 0.03; 0.03 * 2 = 0.06; 0.04 * 1 = 0.04 -> running max 0.06
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_holm_caps_at_one_and_keeps_order_monotone() -> None:
    assert holm_adjust([0.5, 0.6]) == pytest.approx([1.0, 1.0])
    assert holm_adjust([0.04, 0.02]) == pytest.approx([0.04, 0.04])
    assert holm_adjust([0.2]) == pytest.approx([0.2])
    assert holm_adjust([]) == []


def test_holm_rejects_non_probabilities() -> None:
    with pytest.raises(InputError):
        holm_adjust([0.1, 1.5])
