"""Per-strategy summaries and the whole-run summary.

The runner turns stored results into :class:`Outcome` objects and calls
:func:`summarize_run`; the CLI prints its ``model_dump()`` (``reflectlab run --json``) or
renders it with :func:`reflectlab.analysis.render_summary`, and the HTML report reads the same
shape. Nothing here calls a model or touches the store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from reflectlab.analysis._compare import compare_pairs
from reflectlab.analysis._rounds import accuracy_by_round, flips_by_round, flips_first_to_final
from reflectlab.analysis._stats import wilson_interval
from reflectlab.analysis._types import Outcome, RunSummary, StrategySummary
from reflectlab.errors import ConfigError, InputError

__all__ = [
    "DEFAULT_BASELINE",
    "group_by_strategy",
    "provenance_label",
    "summarize_run",
    "summarize_strategy",
]

DEFAULT_BASELINE = "direct"
_KIND_ORDER = ("intrinsic", "critic", "tool", "oracle")


def group_by_strategy(outcomes: Iterable[Outcome]) -> dict[str, list[Outcome]]:
    """Outcomes by strategy name, in order of first appearance.

    A (strategy, sample) pair seen twice is an error, never silently double-counted: it means
    the caller merged two runs or resumed one without de-duplicating.
    """
    groups: dict[str, list[Outcome]] = {}
    seen: set[tuple[str, str]] = set()
    for outcome in outcomes:
        key = (outcome.strategy, outcome.sample_id)
        if key in seen:
            raise InputError(
                f"strategy {outcome.strategy!r} has two outcomes for sample "
                f"{outcome.sample_id!r}; each (strategy, sample) must appear once",
                field="sample_id",
            )
        seen.add(key)
        groups.setdefault(outcome.strategy, []).append(outcome)
    return groups


def _sorted_kinds(kinds: Iterable[str]) -> list[str]:
    unique = set(kinds)
    known = [k for k in _KIND_ORDER if k in unique]
    return known + sorted(unique.difference(_KIND_ORDER))


def provenance_label(feedback_kinds: Sequence[str], oracle_assisted: bool) -> str:
    """The label shown next to every result: ``"ORACLE-ASSISTED"`` when a gold label was used
    (never presented as self-correction), else the feedback kinds joined by ``+``, else
    ``"none"`` (no feedback, e.g. direct answering or voting)."""
    if oracle_assisted or "oracle" in feedback_kinds:
        return "ORACLE-ASSISTED"
    return "+".join(_sorted_kinds(feedback_kinds)) or "none"


def _single_value(outcomes: Sequence[Outcome], field: str) -> str | None:
    values = {getattr(o, field) for o in outcomes}
    if len(values) > 1:
        shown = ", ".join(sorted(repr(v) for v in values))
        raise InputError(
            f"strategy {outcomes[0].strategy!r} mixes {field} values ({shown}); "
            "one strategy name must be one configuration",
            field=field,
        )
    value = values.pop()
    return value if isinstance(value, str) else None


def summarize_strategy(outcomes: Sequence[Outcome], *, confidence: float = 0.95) -> StrategySummary:
    """Accuracy with a Wilson interval, accuracy and flips per round, cost and provenance for
    the outcomes of one strategy.

    Samples without an answer and samples that hit an error stay in the denominator as
    failures (and are counted in ``no_answer``/``errors``): dropping them would flatter the
    strategy.
    """
    if not outcomes:
        raise InputError("no outcomes to summarise", field="outcomes")
    names = {o.strategy for o in outcomes}
    if len(names) > 1:
        raise InputError(
            f"summarize_strategy got several strategies ({', '.join(sorted(names))}); "
            "group them with group_by_strategy first",
            field="strategy",
        )
    group_by_strategy(outcomes)  # rejects duplicate samples
    n = len(outcomes)
    correct = sum(o.final_correct for o in outcomes)
    ci_low, ci_high = wilson_interval(correct, n, confidence)
    prompt_tokens = sum(o.prompt_tokens for o in outcomes)
    completion_tokens = sum(o.completion_tokens for o in outcomes)
    total_tokens = prompt_tokens + completion_tokens
    cost = sum(o.cost_usd for o in outcomes)
    kinds = _sorted_kinds(k for o in outcomes for k in o.feedback_kinds)
    oracle = any(o.uses_oracle for o in outcomes)
    stop_reasons = Counter(o.stop_reason for o in outcomes)
    return StrategySummary(
        name=outcomes[0].strategy,
        n=n,
        correct=correct,
        accuracy=correct / n,
        ci_low=ci_low,
        ci_high=ci_high,
        confidence=confidence,
        accuracy_by_round=accuracy_by_round(outcomes),
        flips_by_round=flips_by_round(outcomes),
        flips_total=flips_first_to_final(outcomes),
        calls=sum(o.calls for o in outcomes),
        cache_hits=sum(o.cache_hits for o in outcomes),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cached_tokens=sum(o.cached_tokens for o in outcomes),
        total_tokens=total_tokens,
        cost_usd=cost,
        cost_per_correct=cost / correct if correct else None,
        tokens_per_sample=total_tokens / n,
        wall_s=sum(o.wall_s for o in outcomes),
        no_answer=sum(not o.has_answer for o in outcomes),
        errors=sum(o.error is not None for o in outcomes),
        scored=any(o.scored for o in outcomes),
        errors_by_kind=dict(
            Counter(o.error_kind for o in outcomes if o.error_kind is not None).most_common()
        ),
        stop_reasons=dict(stop_reasons.most_common()),
        feedback_kinds=kinds,
        oracle_assisted=oracle,
        provenance=provenance_label(kinds, oracle),
        baseline_of=_single_value(outcomes, "baseline_of"),
        budget_mode=_single_value(outcomes, "budget_mode"),
    )


def _comparison_pairs(
    groups: Mapping[str, Sequence[Outcome]], baseline: str | None
) -> list[tuple[str, str]]:
    """Which comparisons a run summary makes: every strategy against the run's baseline
    (compute-matched baselines excluded: they exist to be compared with the strategy they
    match), and every strategy against each of its compute-matched baselines; pairs without a
    scored sample in common are left out."""
    matched = {name: group[0].baseline_of for name, group in groups.items()}
    pairs: list[tuple[str, str]] = []
    if baseline is not None:
        pairs += [(s, baseline) for s in groups if s != baseline and matched[s] is None]
    for name, target in matched.items():
        if target is not None and target in groups and (target, name) not in pairs:
            pairs.append((target, name))
    # Only pairs with something to compare: scored outcomes on shared samples (a proxied chat
    # session has neither gold answers nor two strategies on one request).
    ids = {name: {o.sample_id for o in group if o.scored} for name, group in groups.items()}
    return [(a, b) for a, b in pairs if ids[a] & ids[b]]


def summarize_run(
    outcomes: Iterable[Outcome],
    baseline: str | None = None,
    *,
    seed: int = 0,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    alpha: float = 0.05,
) -> RunSummary:
    """Summaries of every strategy in a run and their paired comparisons.

    ``baseline`` defaults to ``"direct"`` when the run has it (otherwise only compute-matched
    pairs are compared). Every strategy is compared with the baseline, and each strategy with
    its own compute-matched baselines (outcomes whose ``baseline_of`` names it); Holm's
    correction runs over all those comparisons together, because they are read together.

    Example::

        summary = summarize_run(outcomes)
        print(json.dumps({"run_id": run_id, **summary.model_dump()}))
    """
    groups = group_by_strategy(outcomes)
    if baseline is None:
        baseline = DEFAULT_BASELINE if DEFAULT_BASELINE in groups else None
    elif baseline not in groups:
        raise ConfigError(
            f"baseline {baseline!r} is not in this run; strategies: {', '.join(groups) or 'none'}"
        )
    summaries = [summarize_strategy(g, confidence=confidence) for g in groups.values()]
    comparisons = compare_pairs(
        groups,
        _comparison_pairs(groups, baseline),
        seed=seed,
        confidence=confidence,
        n_resamples=n_resamples,
        alpha=alpha,
    )
    return RunSummary(
        strategies=summaries,
        comparisons=comparisons,
        baseline=baseline,
        confidence=confidence,
        alpha=alpha,
        oracle_assisted=any(s.oracle_assisted for s in summaries),
    )
