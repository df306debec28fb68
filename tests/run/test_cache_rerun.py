"""A finished configuration run again on the same store is answered from the cache: a new run
with the same results and 0 requests at the server, every call logged as a cache hit."""

from __future__ import annotations

from pathlib import Path

from reflectlab._util.fake_openai import FakeOpenAI
from reflectlab.run import RunConfig, StrategySpec, start_run
from reflectlab.store import Store
from support.servers import serve


async def test_a_second_identical_run_makes_no_model_call(tmp_path: Path) -> None:
    fake = FakeOpenAI()
    async with serve(fake) as url:
        cfg = RunConfig(
            task="arith",
            model="openai/fake",
            base_url=url,
            limit=8,
            max_rounds=2,
            concurrency=4,
            strategies=[StrategySpec(name="direct"), StrategySpec(name="self_refine")],
        )
        with Store(tmp_path / "r.db") as store:
            first = await start_run(cfg, store)
            served = len(fake.requests)
            second = await start_run(cfg, store)
            assert second != first
            assert len(fake.requests) == served > 0  # nothing reached the server
            calls = {
                run_id: store.db.execute(
                    "SELECT COUNT(*), SUM(from_cache) FROM calls WHERE run_id = ?", (run_id,)
                ).fetchone()
                for run_id in (first, second)
            }
            assert calls[second] == (calls[first][0], calls[first][0])  # all cache hits
            a, b = store.results(first), store.results(second)
            assert [(r.strategy, r.sample_id, r.final_response, r.final_correct) for r in a] == [
                (r.strategy, r.sample_id, r.final_response, r.final_correct) for r in b
            ]
            assert sum(r.calls for r in b) == 0 and sum(r.cache_hits for r in b) > 0
