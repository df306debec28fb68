"""From stored results to the analysis: outcomes, the run summary, its JSON shape."""

from __future__ import annotations

from typing import Any

from reflectlab.analysis import Outcome, RunSummary, summarize_run
from reflectlab.errors import ConfigError
from reflectlab.store import ResultRecord, RunRecord, Store
from reflectlab.store._runs import OUTCOME_COLUMNS


def outcome_from_result(r: ResultRecord) -> Outcome:
    """One stored result -> one Outcome. Rounds: the last checkpoint of each round, in order."""
    by_round: dict[int, bool] = {}
    for cp in sorted(r.checkpoints, key=lambda c: c.idx):
        by_round[cp.round] = cp.correct
    has_answer = r.final_response is not None
    return Outcome(
        strategy=r.strategy,
        sample_id=r.sample_id,
        correct_by_round=[by_round[k] for k in sorted(by_round)],
        final_correct=r.final_correct and has_answer,
        has_answer=has_answer,
        calls=r.calls,
        cache_hits=r.cache_hits,
        prompt_tokens=r.prompt_tokens,
        completion_tokens=r.completion_tokens,
        cached_tokens=r.cached_tokens,
        cost_usd=r.cost_usd,
        wall_s=r.wall_s,
        feedback_kinds=r.feedback_kinds,
        oracle_assisted=r.oracle_assisted,
        stop_reason=r.stop_reason,
        error=r.error,
        error_kind=r.error_kind,
        scored=not r.detail.get("unscored", False),
        baseline_of=r.baseline_of,
        budget_mode=r.budget_mode,
    )


def stored_outcomes(store: Store, run_id: str) -> list[Outcome]:
    """The outcomes of a stored run, as :func:`outcome_from_result` gives them, read from the
    few columns they need (:meth:`Store.outcome_rows`). The rows come from the store that
    validated them when they were written, so they are not validated again (at 100,000
    results that was most of the time ``show`` took)."""
    # One fields-set for all (every field is given), not a set per outcome: at 200,000
    # outcomes the sets alone were ~200 MB.
    given = set(OUTCOME_COLUMNS)
    return [
        Outcome.model_construct(given, **dict(zip(OUTCOME_COLUMNS, row, strict=True)))
        for row in store.outcome_rows(run_id)
    ]


def get_run_or_fail(store: Store, run_id: str) -> RunRecord:
    run = store.get_run(run_id)
    if run is None:
        raise ConfigError(f"no run {run_id!r} in {store.path} (see `reflectlab runs`)")
    return run


def summarize_stored_run(
    store: Store, run_id: str, *, baseline: str | None = None, seed: int = 0
) -> tuple[RunRecord, RunSummary]:
    run = get_run_or_fail(store, run_id)
    # The run's own order: each strategy as configured, its compute-matched baselines after it.
    order = {name: i for i, name in enumerate(run.strategies)}

    def position(r: Outcome) -> tuple[int, int, str]:
        if r.baseline_of is not None:
            return order.get(r.baseline_of, len(order)), 1, r.strategy
        return order.get(r.strategy, len(order)), 0, r.strategy

    outcomes = sorted(stored_outcomes(store, run.run_id), key=position)
    if not outcomes:
        raise ConfigError(f"run {run.run_id} has no finished samples yet")
    summary = summarize_run(outcomes, baseline=baseline, seed=seed)
    quality = store.call_quality(run.run_id)
    for row in summary.strategies:
        q = quality.get(row.name)
        if q is not None:
            row.truncated_calls, row.usage_unknown_calls = q.truncated, q.usage_unknown
    summary.generation_tok_s = store.generation_tok_s(run.run_id)
    return run, summary


def summary_json(run: RunRecord, summary: RunSummary) -> dict[str, Any]:
    """The JSON object ``reflectlab run --json`` prints. A strategy without gold answers to
    score against (``scored`` false) has ``null`` where a correctness figure would be."""
    data = summary.model_dump(mode="json")
    for row in data["strategies"]:
        if not row["scored"]:
            for key in _CORRECTNESS_FIELDS:
                row[key] = None
    return {
        "run_id": run.run_id,
        "status": run.status,
        "task": run.task,
        "model": run.model,
        "config": run.config,
        "progress": {"done": run.n_done, "expected": run.n_expected},
        **data,
    }


#: Summary fields that say how often answers were right: meaningless without gold answers.
_CORRECTNESS_FIELDS = (
    "correct", "accuracy", "ci_low", "ci_high", "accuracy_by_round", "flips_by_round",
    "flips_total", "cost_per_correct",
)  # fmt: skip
