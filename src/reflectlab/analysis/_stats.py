"""The statistics: Wilson intervals, exact McNemar, paired bootstrap, Holm.

Pure functions over counts and boolean vectors, so each can be checked by hand. Chosen for
small samples, which is where reflection studies live (a few hundred items or fewer): Wilson
rather than the normal interval (which collapses at 0 or n correct), the exact McNemar test
rather than the chi-squared approximation (few discordant pairs), and a percentile bootstrap
for the accuracy difference that respects the pairing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from statistics import NormalDist

from reflectlab.errors import ConfigError, InputError

__all__ = [
    "holm_adjust",
    "mcnemar_exact",
    "paired_bootstrap_ci",
    "wilson_interval",
]


# Above this many discordant pairs the exact integer sum gets slow; scipy's binomtest is used.
_EXACT_MCNEMAR_MAX_N = 20_000


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")


def wilson_interval(correct: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``correct / n``.

    Unlike the normal ("Wald") interval it stays inside [0, 1] and does not shrink to a point
    at 0 or n correct, which matters for small evaluation sets. With ``n == 0`` nothing is
    known and the interval is ``(0.0, 1.0)``.

    >>> [round(x, 4) for x in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    _check_confidence(confidence)
    if n < 0:
        raise InputError(f"n must be >= 0, got {n}", field="n")
    if not 0 <= correct <= n:
        raise InputError(f"correct must be between 0 and n={n}, got {correct}", field="correct")
    if n == 0:
        return 0.0, 1.0
    # The standard library's inverse normal CDF (Wichura's AS241, ~1e-16): the same z as
    # scipy.stats.norm.ppf without importing scipy (about 1 s of CPU per run).
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    p = correct / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    # The exact bounds at 0 and n are 0 and 1; pin them so rounding cannot leave 1e-17.
    low = 0.0 if correct == 0 else max(0.0, centre - half)
    high = 1.0 if correct == n else min(1.0, centre + half)
    return low, high


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for paired binary outcomes.

    ``b`` and ``c`` are the discordant pairs (strategy right / baseline wrong, and the
    reverse). Under the null hypothesis of equal accuracy each discordant pair is a fair coin,
    so the test is a two-sided binomial test of ``b`` successes in ``b + c`` trials at 0.5.
    Concordant pairs carry no information about the difference. No discordant pairs: p = 1.
    """
    if b < 0 or c < 0:
        raise InputError(f"discordant counts must be >= 0, got b={b}, c={c}", field="b/c")
    n = b + c
    if n == 0:
        return 1.0
    if n > _EXACT_MCNEMAR_MAX_N:
        from scipy import stats  # imported here: scipy.stats costs ~1 s at start-up

        return float(stats.binomtest(b, n, 0.5, alternative="two-sided").pvalue)
    # At p = 0.5 the binomial is symmetric, so the two-sided p-value (the mass of every
    # outcome no more likely than the observed one) is twice the tail beyond min(b, c),
    # capped at 1. Summed in exact integers: no rounding until the final division.
    k = min(b, c)
    term, tail = 1, 1  # C(n, 0)
    for i in range(k):
        term = term * (n - i) // (i + 1)
        tail += term
    return min(1.0, float(Fraction(2 * tail, 2**n)))


def paired_bootstrap_ci(
    strategy_correct: Sequence[bool],
    baseline_correct: Sequence[bool],
    *,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``accuracy(strategy) - accuracy(baseline)``, resampling
    samples (pairs) with replacement so the correlation between the two is kept.

    Deterministic for a ``seed``. Each pair's difference is -1, 0 or +1, and a resampled mean
    depends only on how many of each were drawn; so instead of materialising an
    ``n_resamples x n`` index matrix we draw those counts from the multinomial with the
    observed proportions. That is the same distribution as resampling pairs one by one, in
    O(n_resamples) memory, whatever the number of samples.
    """
    _check_confidence(confidence)
    if n_resamples < 1:
        raise ConfigError(f"n_resamples must be >= 1, got {n_resamples}")
    if len(strategy_correct) != len(baseline_correct):
        raise InputError(
            f"paired vectors differ in length: {len(strategy_correct)} vs {len(baseline_correct)}",
            field="baseline_correct",
        )
    n = len(strategy_correct)
    if n == 0:
        raise InputError("no paired samples: the difference is undefined", field="n_paired")
    gains = sum(1 for s, b in zip(strategy_correct, baseline_correct, strict=True) if s and not b)
    losses = sum(1 for s, b in zip(strategy_correct, baseline_correct, strict=True) if b and not s)
    ties = n - gains - losses
    import numpy as np  # imported here: ~0.13 s at start-up, needed only for this

    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, [gains / n, ties / n, losses / n], size=n_resamples)
    diffs = (counts[:, 0] - counts[:, 2]) / n
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(diffs, [tail, 1.0 - tail])
    return float(low), float(high)


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order.

    Sorted ascending, the i-th smallest (0-based) is multiplied by ``m - i``; a running
    maximum keeps the adjusted values monotone, and they are capped at 1. Reject hypothesis
    ``j`` at level alpha when ``adjusted[j] <= alpha``: this controls the family-wise error
    rate across all comparisons made together, without assuming independence.

    >>> holm_adjust([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    """
    m = len(p_values)
    for p in p_values:
        if not 0.0 <= p <= 1.0:
            raise InputError(f"p-values must be in [0, 1], got {p}", field="p_values")
    order = sorted(range(m), key=lambda j: p_values[j])
    adjusted = [0.0] * m
    running = 0.0
    for rank, j in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[j]))
        adjusted[j] = running
    return adjusted
