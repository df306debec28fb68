"""Identical requests in flight at once are made once: the others wait and count as cache hits.

A strategy and its baseline often send the very same first request at the same moment (the
draft of self_refine is the request ``direct`` makes). Before, both missed the cache and the
server was paid twice; the guarantee now is one provider call per distinct request in
flight, a failed or cancelled leader never failing its waiters, and a waiter's cancellation
never touching the leader.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from reflectlab.errors import ProviderUnavailableError
from reflectlab.model import MemoryCache, ModelOutput, RetryPolicy, get_model
from reflectlab.model.providers.mock import MockRequest
from reflectlab.store import Store


class Slow:
    """A provider script that holds each call until released, and counts the calls."""

    def __init__(self, fail_first: bool = False) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.fail_first = fail_first

    async def __call__(self, request: MockRequest) -> str | ProviderUnavailableError:
        self.calls += 1
        n = self.calls
        await self.release.wait()
        if self.fail_first and n == 1:
            return ProviderUnavailableError("HTTP 503: busy")
        return f"Answer: {n}"


async def test_identical_concurrent_requests_make_one_call(tmp_path: Path) -> None:
    script = Slow()
    store = Store(tmp_path / "r.db")
    model = get_model("mock/m", outputs=script, cache=store, recorder=store)
    tasks = [asyncio.create_task(model.generate("same question")) for _ in range(5)]
    await asyncio.sleep(0.05)
    assert script.calls == 1  # the other four wait for it
    script.release.set()
    outs = await asyncio.gather(*tasks)
    assert {o.text for o in outs} == {"Answer: 1"}
    assert sorted(o.from_cache for o in outs) == [False, True, True, True, True]
    calls = store.calls()
    assert len(calls) == 5 and sum(not c.from_cache for c in calls) == 1
    store.close()


async def test_different_requests_and_sample_indices_are_not_merged() -> None:
    script = Slow()
    model = get_model("mock/m", outputs=script, cache=MemoryCache())
    tasks = [
        asyncio.create_task(model.generate("q1")),
        asyncio.create_task(model.generate("q2")),
        asyncio.create_task(model.generate("q1", sample_index=1)),
    ]
    await asyncio.sleep(0.05)
    script.release.set()
    outs = await asyncio.gather(*tasks)
    assert script.calls == 3 and not any(o.from_cache for o in outs)


async def test_a_failing_leader_does_not_fail_its_waiters() -> None:
    script = Slow(fail_first=True)
    model = get_model(
        "mock/m", outputs=script, cache=MemoryCache(), retry=RetryPolicy(max_attempts=1)
    )
    leader = asyncio.create_task(model.generate("q"))
    await asyncio.sleep(0.02)
    waiter = asyncio.create_task(model.generate("q"))
    await asyncio.sleep(0.02)
    script.release.set()
    with pytest.raises(ProviderUnavailableError):
        await leader
    out = await waiter  # it made its own call once the leader failed
    assert out.text == "Answer: 2" and not out.from_cache and script.calls == 2


async def test_a_cancelled_leader_hands_over_and_a_cancelled_waiter_changes_nothing() -> None:
    script = Slow()
    model = get_model("mock/m", outputs=script, cache=MemoryCache())
    leader = asyncio.create_task(model.generate("q"))
    await asyncio.sleep(0.02)
    waiter = asyncio.create_task(model.generate("q"))
    other = asyncio.create_task(model.generate("q"))
    await asyncio.sleep(0.02)
    other.cancel()  # a waiter that goes away
    leader.cancel()  # and the leader too: one of the rest must make the call
    await asyncio.sleep(0.02)
    script.release.set()
    out = await waiter
    assert out.text == "Answer: 2" and not out.from_cache
    assert leader.cancelled() and other.cancelled()
    # and afterwards the cache answers
    again = await model.generate("q")
    assert again.from_cache and again.text == "Answer: 2"


async def test_without_a_cache_nothing_is_shared() -> None:
    script = Slow()
    model = get_model("mock/m", outputs=script)
    tasks = [asyncio.create_task(model.generate("q")) for _ in range(3)]
    await asyncio.sleep(0.02)
    script.release.set()
    await asyncio.gather(*tasks)
    assert script.calls == 3


@dataclasses.dataclass
class DictCache:
    """A user's cache written as a dataclass: equal-comparable, so unhashable."""

    entries: dict[str, ModelOutput] = dataclasses.field(default_factory=dict)

    def cache_get(self, key: str) -> ModelOutput | None:
        return self.entries.get(key)

    def cache_put(self, key: str, output: ModelOutput) -> None:
        self.entries[key] = output


async def test_an_unhashable_cache_still_shares_identical_requests() -> None:
    script = Slow()
    model = get_model("mock/m", outputs=script, cache=DictCache())
    tasks = [asyncio.create_task(model.generate("q")) for _ in range(3)]
    await asyncio.sleep(0.02)
    script.release.set()
    outs = await asyncio.gather(*tasks)
    assert script.calls == 1 and sum(o.from_cache for o in outs) == 2
