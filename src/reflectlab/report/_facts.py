"""What the report says in words: display order, key findings, the run's configuration and
provenance. Pure functions of the stored run and its summary.

The findings answer the questions a reader opens a report with (which strategy won, at what
cost, how many right answers reflection broke) and never claim more than the statistics do:
the highest accuracy is called a point estimate, and significance is only what the
Holm-corrected paired comparisons say.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reflectlab.analysis import RunSummary, StrategySummary
from reflectlab.store import ResultRecord, RunRecord

__all__ = [
    "ConfigView",
    "Finding",
    "OracleUse",
    "config_view",
    "display_order",
    "key_findings",
    "oracle_uses",
]


@dataclass(frozen=True)
class Finding:
    text: str
    warning: bool = False


@dataclass(frozen=True)
class OracleUse:
    """How a gold label reached one strategy: samples affected and the recorded reasons."""

    strategy: str
    samples: int
    reasons: list[tuple[str, int]]


@dataclass
class ConfigView:
    """The run's configuration as label/value rows, plus its strategies with versions."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    strategies: list[dict[str, Any]] = field(default_factory=list)
    versions: list[tuple[str, str]] = field(default_factory=list)


def display_order(run: RunRecord, summary: RunSummary) -> list[StrategySummary]:
    """The run's strategies in the order they were configured, each followed by its
    compute-matched baselines, then anything else the summary holds."""
    by_name = {s.name: s for s in summary.strategies}
    out: list[StrategySummary] = []
    for label in run.strategies:
        if label in by_name:
            out.append(by_name.pop(label))
        out.extend(by_name.pop(s.name) for s in summary.strategies if s.baseline_of == label)
    out.extend(s for s in summary.strategies if s.name in by_name)
    return out


def _money(value: float) -> str:
    return f"${value:,.4f}" if value < 100 else f"${value:,.0f}"


def _cost_phrase(s: StrategySummary) -> str:
    if s.calls == 0 and s.cache_hits:
        # Every call was a request another strategy of the run had already paid for: its
        # compute is real, only not billed twice, so "0 tokens" would misstate it.
        return f"no fresh calls ({s.cache_hits:,} served from reflectlab's cache)"
    parts = [f"{s.tokens_per_sample:,.0f} tokens per sample"]
    if s.cache_hits:
        parts[0] += f" (+{s.cache_hits:,} cached calls)"
    if s.cost_usd > 0:
        parts.append(f"{_money(s.cost_usd / s.n if s.n else 0.0)} per sample")
    return " and ".join(parts)


def _oracle_tail(s: StrategySummary) -> str:
    return (
        " — ORACLE-ASSISTED (a gold label was used; not self-correction)"
        if s.oracle_assisted
        else ""
    )


def key_findings(
    run: RunRecord, summary: RunSummary, ordered: Sequence[StrategySummary]
) -> list[Finding]:
    """Short sentences for the top of the report."""
    out: list[Finding] = []
    unscored = [s for s in ordered if not s.scored]
    if unscored:
        out.append(
            Finding(
                f"{len(unscored)} strategies have no gold answers to score against (e.g. "
                "requests through `reflectlab serve`): no accuracy is shown for them, only "
                "their traces, calls and tokens.",
            )
        )
        ordered = [s for s in ordered if s.scored]
    if run.status != "completed":
        out.append(
            Finding(
                f"The run is {run.status} ({run.n_done} of {run.n_expected} results): every "
                "number below covers the finished samples only.",
                warning=True,
            )
        )
    if not ordered:
        return out
    level = f"{summary.confidence * 100:g}%"

    def best(pool: list[StrategySummary], label: str) -> None:
        top = max(s.accuracy for s in pool)
        winners = [s for s in pool if s.accuracy == top]
        if len(winners) > 2:
            names = ", ".join(s.name for s in winners)
            out.append(
                Finding(
                    f"{label}: {top:.3f}, shared by {len(winners)} strategies ({names}).",
                    warning=any(s.oracle_assisted for s in winners),
                )
            )
            return
        for s in winners:
            out.append(
                Finding(
                    f"{label}: {s.name}, {s.accuracy:.3f} ({level} CI {s.ci_low:.3f}–"
                    f"{s.ci_high:.3f}, {s.correct}/{s.n}), at {_cost_phrase(s)}"
                    f"{_oracle_tail(s)}.",
                    warning=s.oracle_assisted,
                )
            )

    best(list(ordered), "Highest accuracy (point estimate)")
    honest = [s for s in ordered if not s.oracle_assisted]
    if honest and len(honest) < len(ordered):
        best(honest, "Highest accuracy without gold labels")
    # Tokens are what a strategy paid for; one served wholly from cache has no known cost.
    paying = [s for s in ordered if s.correct > 0 and s.total_tokens > 0]
    if paying:
        cheapest = min(paying, key=lambda s: s.total_tokens / s.correct)
        per_correct = cheapest.total_tokens / cheapest.correct
        money = (
            f", {_money(cheapest.cost_per_correct)} per correct answer"
            if cheapest.cost_usd > 0 and cheapest.cost_per_correct is not None
            else ""
        )
        out.append(
            Finding(
                f"Cheapest per correct answer: {cheapest.name}, {per_correct:,.0f} tokens per "
                f"correct answer{money} (accuracy {cheapest.accuracy:.3f})"
                f"{_oracle_tail(cheapest)}.",
                warning=cheapest.oracle_assisted,
            )
        )
    for s in ordered:
        f = s.flips_total
        if not s.flips_by_round or s.baseline_of:
            continue
        out.append(
            Finding(
                f"{s.name}: from first draft to final answer, reflection broke "
                f"{f.right_wrong} right answer{'s' * (f.right_wrong != 1)} (right→wrong) and "
                f"fixed {f.wrong_right} (wrong→right): net {f.net:+d} of {f.n} samples"
                f"{_oracle_tail(s)}.",
                warning=f.right_wrong > 0 or s.oracle_assisted,
            )
        )
    if summary.comparisons:
        sig = [c for c in summary.comparisons if c.significant]
        total = len(summary.comparisons)
        if sig:
            out.append(
                Finding(
                    f"{len(sig)} of {total} paired comparisons are significant after Holm "
                    f"correction (alpha {summary.alpha:g}): "
                    + "; ".join(c.verdict for c in sig)
                    + ".",
                    warning=any(c.oracle_assisted for c in sig),
                )
            )
        else:
            out.append(
                Finding(
                    f"None of the {total} paired comparisons is significant after Holm "
                    f"correction (alpha {summary.alpha:g}): the differences above may be noise."
                )
            )
    for s in ordered:
        if s.errors_by_kind:
            n_err = sum(s.errors_by_kind.values())
            kinds = ", ".join(f"{k} ×{n}" for k, n in s.errors_by_kind.items())
            whole = " — every sample: its accuracy measures nothing" if n_err == s.n else ""
            out.append(
                Finding(
                    f"{s.name}: {n_err} of {s.n} samples errored ({kinds}){whole}. They count "
                    "as not correct above and are left out of the paired comparisons; "
                    f"`reflectlab resume {run.run_id}` runs them again.",
                    warning=True,
                )
            )
    unanswered = sum(s.no_answer for s in ordered)
    if unanswered:
        out.append(
            Finding(
                f"{unanswered} results produced no answer; each is counted as wrong.",
                warning=True,
            )
        )
    return out


def oracle_uses(results: Sequence[ResultRecord]) -> list[OracleUse]:
    """Per strategy: how many samples a gold label reached, and why (the recorded reasons,
    with the round number folded away so they group)."""
    samples: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = {}
    for r in results:
        if not (r.oracle_assisted or "oracle" in r.feedback_kinds):
            continue
        samples[r.strategy] += 1
        found = [str(x) for x in r.detail.get("oracle_reasons") or []] or [
            "oracle feedback recorded"
        ]
        counter = reasons.setdefault(r.strategy, Counter())
        for reason in dict.fromkeys(_fold_digits(x) for x in found):
            counter[reason] += 1
    return [
        OracleUse(strategy=name, samples=n, reasons=reasons[name].most_common(5))
        for name, n in samples.items()
    ]


def _fold_digits(text: str) -> str:
    return "".join("N" if ch.isdigit() else ch for ch in text)


def _value(v: Any) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, default=str)


def config_view(run: RunRecord, ordered: Sequence[StrategySummary]) -> ConfigView:
    """Every configuration field (unset ones left out), each strategy with its parameters,
    feedback provenance and code/prompt hashes, and the versions recorded with the run."""
    view = ConfigView()
    config = dict(run.config)
    strategies = config.pop("strategies", [])
    for key, value in config.items():
        if value is None or value == {} or value == []:
            continue
        view.rows.append((key, _value(value)))
    versions = run.versions if isinstance(run.versions, dict) else {}
    hashes = versions.get("strategies") if isinstance(versions.get("strategies"), dict) else {}
    by_name = {s.name: s for s in ordered}
    labels = list(run.strategies)
    for k, label in enumerate(labels):
        spec = strategies[k] if k < len(strategies) and isinstance(strategies[k], dict) else {}
        s = by_name.get(label)
        h = hashes.get(label, {}) if isinstance(hashes, dict) else {}
        view.strategies.append(
            {
                "label": label,
                "name": spec.get("name", label),
                "params": _value(spec.get("params") or {}),
                "paper": _paper(str(spec.get("name", label))),
                "provenance": s.provenance if s else "(no results)",
                "oracle": bool(s and s.oracle_assisted),
                "code_sha256": h.get("code_sha256", "") if isinstance(h, dict) else "",
                "prompts_sha256": h.get("prompts_sha256", "") if isinstance(h, dict) else "",
            }
        )
    for key, value in versions.items():
        if key != "strategies":
            view.versions.append((key, _value(value)))
    return view


def _paper(name: str) -> str:
    """The strategy's paper as registered in this install (metadata only; nothing runs)."""
    try:
        from reflectlab.strategy import strategy_info

        info = strategy_info(name)
    except Exception:  # a strategy from a plugin that is not installed here
        return ""
    return f"{info.paper} ({info.year})" if info.year else info.paper
