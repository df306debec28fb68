"""The runner's "prepare once per run" step: a strategy's offline stage (see
:mod:`reflectlab.strategy._offline`), run before any of its samples.

- once per run and strategy: its result is stored (table ``offline_stages``) and a resumed run
  reuses it, never running the stage again (and an interrupted stage re-runs with its finished
  calls served from the cache);
- its calls go through the run's models, tagged with the strategy and the pseudo sample
  :data:`OFFLINE_SAMPLE`, so they are logged, cached and counted like any other: fresh calls
  and cache hits apart, added to the run's token and cost totals (so the run's budget sees
  them), and shown as the stage's own line, not in any test sample's figures;
- the test-time strategy gets the parameters the stage set (``rot``: ``guidelines``), so it is
  rebuilt from name and parameters wherever it runs (a Ray worker too).
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from reflectlab.model import call_tags, capture_calls
from reflectlab.store import OFFLINE_SAMPLE, OfflineRecord, ResultRecord, Store
from reflectlab.strategy import Budget, OfflineContext, strategy_info
from reflectlab.strategy._prompts import resolve_prompts

if TYPE_CHECKING:
    from reflectlab.run._config import StrategySpec
    from reflectlab.run._runner import Runner


async def prepare_offline(
    runner: Runner, spec: StrategySpec, label: str, params: dict[str, Any]
) -> dict[str, Any]:
    """``params`` completed by the strategy's offline stage, run now unless it is stored
    already (or the strategy has none, or needs none with these parameters)."""
    info = strategy_info(spec.name)
    if not info.needs_training(params) or info.offline is None:
        return params
    if runner.budget_hit or runner.abort:  # no sample of it will run: learn nothing
        return params
    stored = runner.store.get_offline(runner.run_id, label)
    if stored is not None:
        return {**params, **stored.params}
    c = runner.config
    octx = OfflineContext(
        model=runner.solver,
        critic=runner.critic,
        judge=runner.judge,
        task=runner.task,
        train=runner.task.train_samples(),
        budget=Budget(max_calls=c.sample_budget_calls, max_tokens=c.sample_budget_tokens),
        config=(
            runner.solver.config.merged(temperature=c.temperature, max_tokens=c.max_tokens)
            if c.temperature is not None or c.max_tokens is not None
            else None
        ),
        prompts=resolve_prompts(spec.name, info.factory, params.get("prompts")),
    )
    # A long step before the first result: say what is happening (as the duration estimate is).
    print(
        f"{label}: offline stage on {len(octx.train_ids)} training samples (once per run)",
        file=sys.stderr,
    )
    start = time.perf_counter()
    with (
        call_tags(run_id=runner.run_id, sample_id=OFFLINE_SAMPLE, strategy=label),
        capture_calls() as events,
    ):
        prepared = await info.offline.run(octx, params)
    # Counted exactly as a sample's calls are (fresh vs cache hits, resumes), on a scratch row.
    usage = ResultRecord(
        run_id=runner.run_id,
        strategy=label,
        sample_id=OFFLINE_SAMPLE,
        final_response=None,
        final_correct=False,
        stop_reason="offline",
    )
    runner.ok_calls += sum(e.error is None for e in events)
    runner._account(usage, events)
    split = runner.task.describe().get("split", {})
    record = OfflineRecord(
        run_id=runner.run_id,
        strategy=label,
        params=prepared.params,
        record={**prepared.record, "split": split},
        oracle_reasons=octx.oracle_reasons,
        calls=usage.calls,
        cache_hits=usage.cache_hits,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cost_usd=usage.cost_usd,
        wall_s=time.perf_counter() - start,
    )
    runner.store.save_offline(record)
    print(
        f"{label}: offline stage done: {usage.calls} calls ({usage.cache_hits} cache hits), "
        f"{record.wall_s:.0f} s",
        file=sys.stderr,
    )
    runner.tokens_used += usage.prompt_tokens + usage.completion_tokens
    runner.cost_used += usage.cost_usd
    if c.budget_tokens is not None and runner.tokens_used >= c.budget_tokens:
        runner.budget_hit = f"run token budget {c.budget_tokens} reached in {label}'s offline stage"
    elif c.budget_usd is not None and runner.cost_used >= c.budget_usd:
        runner.budget_hit = f"run cost budget ${c.budget_usd} reached in {label}'s offline stage"
    return {**params, **prepared.params}


def offline_summary(rec: OfflineRecord, truncated: int = 0) -> dict[str, Any]:
    """One stored offline stage as ``show --json`` and the report give it (``truncated``:
    how many of its replies were cut by ``max_tokens``)."""
    r = rec.record
    split = r.get("split") or {}
    n_train = int(split.get("train", len(r.get("train_ids", []))))
    return {
        "strategy": rec.strategy,
        "guidelines": r.get("guidelines", rec.params.get("guidelines")),
        "train_samples": n_train,
        "train_source": split.get("train_source"),
        "reflector": r.get("reflector"),
        "important_states": r.get("important_states"),
        "states_reflected": r.get("states_reflected"),
        "policies": len(r.get("policies", [])),
        "trees": r.get("trees", []),
        "notes": r.get("notes", {}),
        "oracle_uses": len(rec.oracle_reasons),
        "provenance": (
            f"gold labels of {n_train} training samples valued the search trees "
            "(oracle on the training split only; no test sample's label reached a prompt)"
            if rec.oracle_reasons
            else "no gold label used"
        ),
        "calls": rec.calls,
        "truncated_calls": truncated,
        "cache_hits": rec.cache_hits,
        "prompt_tokens": rec.prompt_tokens,
        "completion_tokens": rec.completion_tokens,
        "cost_usd": rec.cost_usd,
        "wall_s": rec.wall_s,
    }


def offline_stages_json(store: Store, run_id: str) -> list[dict[str, Any]]:
    """The run's offline stages (:func:`offline_summary` each), in the order they ran."""
    quality = store.call_quality(run_id, offline=True)
    return [
        offline_summary(r, quality[r.strategy].truncated if r.strategy in quality else 0)
        for r in store.offline_stages(run_id)
    ]
