"""A long run holds the jobs in flight, not the whole run: trace events, tasks and the mock's
request log stay bounded however many samples are done (counted objects, never timed)."""

from __future__ import annotations

import asyncio
import gc
import json
from pathlib import Path

import pytest

from reflectlab.model import CallEvent, get_model
from reflectlab.model.providers.mock import MockAPI
from reflectlab.run import RunConfig, StrategySpec, start_run
from reflectlab.store import ResultRecord, Store

N = 600
CONCURRENCY = 8


async def test_events_and_tasks_stay_bounded_through_a_mock_run(tmp_path: Path) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "input": f"What is {i} + {i}?", "target": str(2 * i)}) + "\n"
            for i in range(N)
        )
    )
    cfg = RunConfig(
        task=f"jsonl:{items}",
        model="mock/m",
        strategies=[StrategySpec(name="direct"), StrategySpec(name="self_refine")],
        max_rounds=1,
        baselines="none",
        concurrency=CONCURRENCY,
    )
    seen: list[tuple[int, int]] = []
    done = 0

    def on_result(record: ResultRecord) -> None:
        nonlocal done
        done += 1
        if done % 200 == 0:
            gc.collect()
            events = sum(isinstance(o, CallEvent) for o in gc.get_objects())
            seen.append((events, len(asyncio.all_tasks())))

    with Store(tmp_path / "r.db") as store:
        run_id = await start_run(cfg, store, on_result=on_result)
        assert len(store.results(run_id, with_checkpoints=False)) == 2 * N
    assert len(seen) == 2 * N // 200
    # The run made 3,000 calls; alive are those of the jobs in flight and of the few finished
    # ones whose cancelled deadline timers the loop has not dropped yet (it drops them in
    # bulk past 100), not one per call of the run (2,400 at the last count before the fix).
    for events, tasks in seen:
        assert events <= 400, seen
        assert tasks <= CONCURRENCY + 8, seen  # workers + the lease keeper, not one per job


async def test_the_mock_keeps_only_its_latest_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MockAPI, "KEEP_REQUESTS", 50)
    model = get_model("mock/m")
    for i in range(120):
        await model.generate(f"q{i}", use_cache=False)
    api = model.api
    assert isinstance(api, MockAPI) and api.calls == 120
    assert [r.prompt for r in api.requests] == [f"q{i}" for i in range(70, 120)]
