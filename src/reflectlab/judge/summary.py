"""A summary of many judgments of one protocol: counts, mean score, verdict distribution,
unparseable count, positional consistency (pairwise) and what the calls cost."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from reflectlab.errors import ConfigError
from reflectlab.judge._base import FrozenResult, ratio
from reflectlab.judge.checkeval import CheckEvalJudgment
from reflectlab.judge.checklist import ChecklistJudgment
from reflectlab.judge.protocols import PairwiseJudgment, PointwiseJudgment
from reflectlab.model import CallEvent, UsageTotals

__all__ = ["JudgeSummary", "Judgment", "summarize_judgments"]

Judgment = PointwiseJudgment | PairwiseJudgment | ChecklistJudgment | CheckEvalJudgment

_PAIR_LABELS = ("A", "B", "tie", "inconsistent")


class JudgeSummary(FrozenResult):
    """``n`` items, of which ``n_errors`` failed their model call (no judgment) and
    ``unparseable`` have no verdict. ``distribution``: pointwise, the count of each rating;
    pairwise, of each verdict; checklist, of YES / NO / unparsed answers. ``mean_score`` over
    parsed scores (pointwise, checklist). ``positional_consistency`` (pairwise): pairs whose
    two orders agree / pairs with both orders parsed. ``dimension_means`` (checkeval): each
    dimension's mean score over the items where it was parsed (dimensions are never averaged
    together)."""

    protocol: str
    judge: str | None
    n: int
    n_errors: int
    unparseable: int
    mean_score: float | None
    distribution: dict[str, int]
    positional_consistency: float | None
    n_both_orders_parsed: int | None
    calls: int
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    dimension_means: dict[str, float | None] | None = None


def summarize_judgments(
    protocol: str,
    judgments: Sequence[Judgment | None],
    *,
    events: Sequence[CallEvent] = (),
) -> JudgeSummary:
    """Summarise ``judgments`` (``None`` = the item's model call failed); ``events`` are the
    judge calls (from :func:`~reflectlab.model.capture_calls`) for the usage totals."""
    done = [j for j in judgments if j is not None]
    kinds = {type(j) for j in done}
    if len(kinds) > 1:
        raise ConfigError("summarize_judgments needs judgments of one protocol")
    usage = UsageTotals()
    for event in events:
        usage.add(event)
    scores: list[float] = []
    distribution: Counter[str] = Counter()
    consistency: tuple[int, int] | None = None
    per_dimension: dict[str, list[float]] = {}
    for j in done:
        if isinstance(j, PairwiseJudgment):
            distribution[j.verdict or "unparseable"] += 1
        elif isinstance(j, PointwiseJudgment):
            distribution[_fmt(j.score) if j.score is not None else "unparseable"] += 1
        else:
            if isinstance(j, CheckEvalJudgment):
                for name, dim in j.dimensions.items():
                    per_dimension.setdefault(name, [])
                    if dim.score is not None:
                        per_dimension[name].append(dim.score)
            distribution["yes"] += j.n_yes
            distribution["no"] += j.n_no
            distribution["unparsed"] += j.n_unparsed
        if not isinstance(j, PairwiseJudgment) and j.score is not None:
            scores.append(j.score)
    pairwise = [j for j in done if isinstance(j, PairwiseJudgment)]
    if pairwise:
        both = [j for j in pairwise if j.consistent is not None]
        consistency = (sum(bool(j.consistent) for j in both), len(both))
    return JudgeSummary(
        protocol=protocol,
        judge=done[0].judge if done else None,
        n=len(judgments),
        n_errors=len(judgments) - len(done),
        unparseable=sum(_unparseable(j) for j in done),
        mean_score=sum(scores) / len(scores) if scores else None,
        distribution=_ordered(distribution, pairwise=bool(pairwise)),
        positional_consistency=None if consistency is None else ratio(*consistency),
        n_both_orders_parsed=None if consistency is None else consistency[1],
        calls=usage.calls,
        cache_hits=usage.cache_hits,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cost_usd=usage.cost_usd,
        dimension_means=(
            {k: (sum(v) / len(v) if v else None) for k, v in per_dimension.items()}
            if per_dimension
            else None
        ),
    )


def _unparseable(j: Judgment) -> bool:
    if isinstance(j, PairwiseJudgment):
        return j.verdict is None
    if isinstance(j, CheckEvalJudgment):
        return j.n_yes + j.n_no == 0
    return j.score is None


def _ordered(counts: Counter[str], *, pairwise: bool) -> dict[str, int]:
    if pairwise:
        keys = [*_PAIR_LABELS, "unparseable"]
        return {k: counts[k] for k in keys}
    numeric = sorted(
        (k for k in counts if k not in ("unparseable", "yes", "no", "unparsed")), key=float
    )
    rest = [k for k in ("yes", "no", "unparsed", "unparseable") if k in counts]
    return {k: counts[k] for k in [*numeric, *rest]}


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
