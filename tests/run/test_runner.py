"""The runner end to end with the mock provider: store, scoring, baselines, resume."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from reflectlab.model.providers.mock import MockRequest
from reflectlab.run import RunConfig, StrategySpec, resume_run, start_run, summarize_stored_run
from reflectlab.store import Store
from reflectlab.task import Sample
from support.numbers import NumberTask, patch_mock_outputs

SAMPLES = [Sample(id=str(i), input=f"What is {i}+{i}?", target=str(2 * i)) for i in range(6)]


def solver(request: MockRequest) -> str:
    """Right on even questions at first; a critique makes it change its mind to wrong on
    question 2 (right->wrong) and right on question 1 (wrong->right)."""
    text = request.messages[0].content
    i = int(re.search(r"What is (\d+)", text).group(1))  # type: ignore[union-attr]
    last = request.messages[-1].content
    if last.startswith("Review your answer"):
        return "Looks wrong to me. [[INCORRECT]]"
    draft = f"Answer: {2 * i if i % 2 == 0 else 2 * i + 1}"
    if last.startswith("Feedback:"):
        return {1: "Answer: 2", 2: "Answer: 5"}.get(i, draft)
    return draft


@pytest.fixture(autouse=True)
def number_task(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "reflectlab.run._runner.get_task", lambda spec, **kw: NumberTask(list(SAMPLES))
    )


def config(**kw: object) -> RunConfig:
    base: dict[str, object] = {
        "task": "numbers",
        "model": "mock/solver",
        "max_rounds": 1,
        "baselines": "none",
        "strategies": [StrategySpec(name="direct"), StrategySpec(name="self_refine")],
    }
    base.update(kw)
    return RunConfig.model_validate(base)


def patch_solver(monkeypatch: pytest.MonkeyPatch, fn: object = solver) -> None:
    patch_mock_outputs(monkeypatch, fn)


async def test_run_scores_every_checkpoint_and_counts_flips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_solver(monkeypatch)
    store = Store(tmp_path / "r.db")
    run_id = await start_run(config(), store)
    run, summary = summarize_stored_run(store, run_id)
    assert run.status == "completed" and run.n_done == 12 == run.n_expected
    by_name = {s.name: s for s in summary.strategies}
    assert by_name["direct"].correct == 3  # 0, 2, 4
    refine = by_name["self_refine"]
    assert refine.accuracy_by_round == [0.5, 0.5]
    flips = refine.flips_by_round[0]
    assert (flips.right_wrong, flips.wrong_right) == (1, 1)
    assert refine.feedback_kinds == ["intrinsic"] and not refine.oracle_assisted
    # every call is in the call log, tagged with run, sample and strategy
    calls = store.calls(run_id=run_id)
    assert len(calls) == 6 + 6 * 3
    # self_refine's draft is direct's request: one fresh call, one cache hit
    assert sum(c.from_cache for c in calls) == 6
    assert {c.tags["strategy"] for c in calls} == {"direct", "self_refine"}
    results = store.results(run_id)
    assert all(r.checkpoints for r in results)


async def test_compute_matched_baselines_get_equal_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_solver(monkeypatch)
    store = Store(tmp_path / "r.db")
    run_id = await start_run(config(baselines="equal-calls"), store)
    results = store.results(run_id)
    refine = {r.sample_id: r for r in results if r.strategy == "self_refine"}
    sc = [r for r in results if r.strategy == "self_consistency@self_refine"]
    assert len(sc) == 6
    for r in sc:
        assert r.baseline_of == "self_refine" and r.budget_mode == "equal-calls"
        assert r.calls + r.cache_hits <= refine[r.sample_id].calls + refine[r.sample_id].cache_hits
    _, summary = summarize_stored_run(store, run_id)
    assert any(
        (c.strategy == "self_refine" and "self_consistency@self_refine" in (c.baseline, c.strategy))
        or c.baseline == "self_refine"
        for c in summary.comparisons
    )


async def test_oracle_feedback_marks_results_and_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_solver(monkeypatch)
    store = Store(tmp_path / "r.db")
    cfg = config(strategies=[StrategySpec(name="self_refine", params={"feedback": "oracle"})])
    run_id = await start_run(cfg, store)
    _, summary = summarize_stored_run(store, run_id)
    (s,) = summary.strategies
    assert s.name == "self_refine:feedback=oracle" and s.oracle_assisted
    assert summary.oracle_assisted


async def test_unparseable_reply_is_a_counted_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_solver(monkeypatch, lambda r: "I cannot say.")
    store = Store(tmp_path / "r.db")
    run_id = await start_run(config(strategies=[StrategySpec(name="direct")]), store)
    _, summary = summarize_stored_run(store, run_id)
    (s,) = summary.strategies
    assert (s.n, s.correct) == (6, 0)
    assert all(r.final_reason == "no number in reply" for r in store.results(run_id))


async def test_interrupted_run_resumes_without_repeating_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_calls: list[str] = []
    gate = asyncio.Event()

    async def slow_solver(request: MockRequest) -> str:
        fresh_calls.append(request.messages[-1].content)
        if len(fresh_calls) > 10 and not gate.is_set():
            await asyncio.Event().wait()  # hang: the run is cancelled here
        return solver(request)

    patch_solver(monkeypatch, slow_solver)
    store = Store(tmp_path / "r.db")
    cfg = config(concurrency=2)
    task = asyncio.create_task(start_run(cfg, store))
    while len(fresh_calls) <= 10:
        await asyncio.sleep(0)
    for _ in range(20):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (run,) = store.list_runs()
    assert run.status == "interrupted" and 0 < run.n_done < 12
    paid_before = len({h for _, _, h in store.fresh_calls(run.run_id)})
    gate.set()
    fresh_calls.clear()
    await resume_run(run.run_id, store)
    after = store.get_run(run.run_id)
    assert after is not None and after.status == "completed" and after.n_done == 12
    # No request that finished before the interruption was sent again.
    hashes = [c.request_hash for c in store.calls(run_id=run.run_id) if not c.from_cache]
    assert len(hashes) == len(set(hashes))
    # self_refine's first draft is the very request direct made: served from the cache.
    assert len(hashes) == 18
    assert paid_before + len(fresh_calls) == 18
    _, summary = summarize_stored_run(store, run.run_id)
    # Accounting after resume: each paid call counts once, as a call of this run.
    assert sum(s.calls for s in summary.strategies) == 18
    assert sum(s.cache_hits for s in summary.strategies) == 6


async def test_run_token_budget_stops_scheduling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_solver(monkeypatch)
    store = Store(tmp_path / "r.db")
    run_id = await start_run(config(budget_tokens=30, concurrency=1), store)
    run = store.get_run(run_id)
    assert run is not None and run.status == "budget_exhausted"
    assert run.n_done < 12 and "token budget" in (run.error or "")


async def test_critic_strategy_without_critic_model_fails_before_any_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reflectlab.errors import ConfigError

    patch_solver(monkeypatch)
    store = Store(tmp_path / "r.db")
    cfg = config(strategies=[StrategySpec(name="self_refine", params={"feedback": "critic"})])
    with pytest.raises(ConfigError, match="--critic-model"):
        await start_run(cfg, store)
    assert store.list_runs() == [] and store.calls() == []


async def test_resume_sizes_missing_baselines_from_the_stored_reflection_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_solver(monkeypatch)
    store = Store(tmp_path / "r.db")
    run_id = await start_run(config(baselines="equal-calls"), store)
    before = {(r.strategy, r.sample_id): r.calls + r.cache_hits for r in store.results(run_id)}
    # As if the run had died after the reflection results but before their baselines.
    store.db.execute("DELETE FROM results WHERE run_id = ? AND baseline_of IS NOT NULL", (run_id,))
    await resume_run(run_id, store)
    after = {(r.strategy, r.sample_id): r.calls + r.cache_hits for r in store.results(run_id)}
    assert after == before
