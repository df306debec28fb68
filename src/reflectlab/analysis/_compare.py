"""Paired comparisons of strategies against a baseline on the same samples.

Two strategies run on the same items are paired data: per item both are right, both wrong, or
they disagree. Only disagreements say anything about which is better, so the test is exact
McNemar on the discordant pairs, the interval is a paired bootstrap of the accuracy
difference, and comparisons made together share one Holm correction so that trying many
strategies does not manufacture a "significant" one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reflectlab.analysis._stats import holm_adjust, mcnemar_exact, paired_bootstrap_ci
from reflectlab.analysis._types import Comparison, Outcome
from reflectlab.errors import ConfigError, InputError

__all__ = ["compare", "compare_pairs", "verdict_sentence"]


def _format_p(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.2g}"


def verdict_sentence(c: Comparison) -> str:
    """One line a reader can quote, e.g. ``"self_refine vs self_consistency@self_refine at
    equal calls: -2.1 points, 95 % CI [-5.0, +0.8], not significant (Holm p=0.41)"``.

    Oracle assistance leads the sentence and unequal sample sets end it, so neither can be
    missed when the line is copied on its own.
    """
    budget = f" at {c.budget_mode.replace('-', ' ')}" if c.budget_mode else ""
    level = f"{c.confidence * 100:g} %"
    if c.b + c.c == 0:
        # Every sample right for both or wrong for both: the interval collapses to
        # [+0.0, +0.0], which reads as certainty but is only the absence of evidence.
        interval = (
            f"no discordant pairs (b = c = 0: on all n = {c.n_paired} samples both were right "
            f"or both wrong), so the paired test cannot tell them apart at this n (the {level} "
            "interval [+0.0, +0.0] is not a measurement)"
        )
    else:
        interval = f"{level} CI [{c.diff_ci_low * 100:+.1f}, {c.diff_ci_high * 100:+.1f}]"
    text = (
        f"{c.strategy} vs {c.baseline}{budget}: {c.diff * 100:+.1f} points, {interval}, "
        f"{'significant' if c.significant else 'not significant'} (Holm {_format_p(c.p_holm)})"
    )
    if c.oracle_assisted:
        text = "ORACLE-ASSISTED: " + text
    if c.errored_excluded:
        text += f"; {c.errored_excluded} errored samples left out"
    if c.sets_differ:
        text += (
            f"; sample sets differ: paired on {c.n_paired}, {c.only_in_strategy} only in "
            f"{c.strategy}, {c.only_in_baseline} only in {c.baseline}"
        )
    return text


def _paired(
    strategy: str, baseline: str, groups: Mapping[str, Sequence[Outcome]], require_same: bool
) -> tuple[list[tuple[Outcome, Outcome]], int, int, int]:
    for name in (strategy, baseline):
        if name not in groups:
            raise ConfigError(
                f"strategy {name!r} has no outcomes; available: {', '.join(groups) or 'none'}"
            )
    mine = {o.sample_id: o for o in groups[strategy]}
    theirs = {o.sample_id: o for o in groups[baseline]}
    if len(mine) != len(groups[strategy]) or len(theirs) != len(groups[baseline]):
        raise InputError(
            f"duplicate sample ids in {strategy!r} or {baseline!r}; each (strategy, sample) "
            "must appear once",
            field="sample_id",
        )
    pairs = [(mine[sid], theirs[sid]) for sid in mine if sid in theirs]
    only_mine = len(mine) - len(pairs)
    only_theirs = len(theirs) - len(pairs)
    if not pairs:
        raise InputError(
            f"{strategy!r} and {baseline!r} share no sample ids: nothing to pair",
            field="sample_id",
        )
    if require_same and (only_mine or only_theirs):
        raise InputError(
            f"{strategy!r} and {baseline!r} ran on different samples ({only_mine} only in "
            f"{strategy!r}, {only_theirs} only in {baseline!r})",
            field="sample_id",
        )
    # An errored sample says nothing about either strategy's answers: leave the pair out.
    usable = [(a, b) for a, b in pairs if a.error_kind is None and b.error_kind is None]
    return usable, only_mine, only_theirs, len(pairs) - len(usable)


def compare_pairs(
    outcomes_by_strategy: Mapping[str, Sequence[Outcome]],
    pairs: Sequence[tuple[str, str]],
    *,
    seed: int = 0,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    alpha: float = 0.05,
    require_same_samples: bool = False,
) -> list[Comparison]:
    """Compare each ``(strategy, baseline)`` in ``pairs``, one Holm family for all of them.

    Samples are matched by ``sample_id``. When the two sample sets differ the comparison uses
    the shared samples and says so (``only_in_strategy``/``only_in_baseline`` and the verdict);
    with ``require_same_samples=True`` it raises instead. A pair in which either side errored
    is left out (``errored_excluded``); when no pair is left the comparison is not made. Each
    pair's bootstrap uses its own generator seeded with ``seed``, so a pair's interval does not
    depend on which other pairs were compared in the same call.
    """
    if not 0.0 < alpha < 1.0:
        raise ConfigError(f"alpha must be between 0 and 1 (exclusive), got {alpha}")
    rows: list[dict[str, object]] = []
    p_values: list[float] = []
    for strategy, baseline in pairs:
        if strategy == baseline:
            raise ConfigError(f"cannot compare {strategy!r} with itself")
        matched, only_mine, only_theirs, errored = _paired(
            strategy, baseline, outcomes_by_strategy, require_same_samples
        )
        if not matched:
            continue  # every shared sample errored: there is nothing to compare
        mine = [s.final_correct for s, _ in matched]
        theirs = [b.final_correct for _, b in matched]
        b = sum(1 for s, t in zip(mine, theirs, strict=True) if s and not t)
        c = sum(1 for s, t in zip(mine, theirs, strict=True) if t and not s)
        low, high = paired_bootstrap_ci(
            mine, theirs, confidence=confidence, n_resamples=n_resamples, seed=seed
        )
        p = mcnemar_exact(b, c)
        n = len(matched)
        p_values.append(p)
        budget_modes = {o.budget_mode for o in outcomes_by_strategy[baseline]} - {None}
        rows.append(
            {
                "strategy": strategy,
                "baseline": baseline,
                "budget_mode": budget_modes.pop() if len(budget_modes) == 1 else None,
                "n_paired": n,
                "only_in_strategy": only_mine,
                "only_in_baseline": only_theirs,
                "errored_excluded": errored,
                "accuracy": sum(mine) / n,
                "baseline_accuracy": sum(theirs) / n,
                "diff": (sum(mine) - sum(theirs)) / n,
                "diff_ci_low": low,
                "diff_ci_high": high,
                "confidence": confidence,
                "b": b,
                "c": c,
                "p_value": p,
                "alpha": alpha,
                "oracle_assisted": any(
                    o.uses_oracle
                    for name in (strategy, baseline)
                    for o in outcomes_by_strategy[name]
                ),
            }
        )
    comparisons = []
    for row, p_holm in zip(rows, holm_adjust(p_values), strict=True):
        draft = Comparison.model_validate(
            {**row, "p_holm": p_holm, "significant": p_holm <= alpha, "verdict": ""}
        )
        comparisons.append(draft.model_copy(update={"verdict": verdict_sentence(draft)}))
    return comparisons


def compare(
    outcomes_by_strategy: Mapping[str, Sequence[Outcome]],
    baseline: str,
    *,
    strategies: Sequence[str] | None = None,
    seed: int = 0,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    alpha: float = 0.05,
    require_same_samples: bool = False,
) -> list[Comparison]:
    """Compare every strategy (default: all but ``baseline``, in mapping order) with
    ``baseline`` on the samples they share: exact McNemar, paired bootstrap interval of the
    accuracy difference, Holm across the strategies compared in this call.

    Example::

        groups = group_by_strategy(outcomes)
        for c in compare(groups, "direct", seed=0):
            print(c.verdict)
    """
    if baseline not in outcomes_by_strategy:
        raise ConfigError(
            f"baseline {baseline!r} has no outcomes; available: "
            f"{', '.join(outcomes_by_strategy) or 'none'}"
        )
    names = [s for s in outcomes_by_strategy if s != baseline] if strategies is None else strategies
    return compare_pairs(
        outcomes_by_strategy,
        [(s, baseline) for s in names],
        seed=seed,
        confidence=confidence,
        n_resamples=n_resamples,
        alpha=alpha,
        require_same_samples=require_same_samples,
    )
