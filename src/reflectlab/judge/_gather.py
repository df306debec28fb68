"""Run many judge coroutines at once, under a cap (private)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from reflectlab.errors import ConfigError

T = TypeVar("T")


async def gather_limited(jobs: Sequence[Callable[[], Awaitable[T]]], limit: int) -> list[T]:
    """Await every job, at most ``limit`` at a time; results in input order.

    Jobs are factories, not coroutines, so a job that never gets a slot is never created (no
    "coroutine was never awaited" when an earlier job fails).
    """
    if limit < 1:
        raise ConfigError(f"concurrency must be at least 1, got {limit}")
    slots = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[T]]) -> T:
        async with slots:
            return await job()

    return list(await asyncio.gather(*(run(job) for job in jobs)))
