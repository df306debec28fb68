"""Many runs from one event loop: independent, and each as contained as a lone run."""

from __future__ import annotations

import asyncio

import pytest

from reflectlab.sandbox import SandboxResult, run_python

from .conftest import FORK_BOMB, QUICK, ROOT


async def _capped(sem: asyncio.Semaphore, code: str, stdin: str | None = None) -> SandboxResult:
    async with sem:
        return await run_python(code, stdin=stdin, limits=QUICK)


async def test_many_runs_at_once(sandbox_uids: list[int]) -> None:
    sem = asyncio.Semaphore(4)
    results = await asyncio.gather(
        *(_capped(sem, "print(int(input()) ** 2)", stdin=f"{i}\n") for i in range(24))
    )
    assert [r.stdout for r in results] == [f"{i * i}\n" for i in range(24)]
    if ROOT:
        assert len(set(sandbox_uids)) == 24  # a uid, and so a process budget, per run


async def test_fork_bomb_does_not_starve_its_neighbours() -> None:
    sem = asyncio.Semaphore(4)
    limits = QUICK.model_copy(update={"wall_seconds": 3})
    bomb_run = asyncio.create_task(run_python(FORK_BOMB, limits=limits))
    # Neighbours fork too: they must get their own budget, not what the bomb left over.
    code = "import subprocess\nprint(subprocess.run(['echo', 'ok'], capture_output=True).stdout)"
    neighbours = await asyncio.gather(*(_capped(sem, code) for _ in range(6)))
    assert all(r.ok and r.stdout == "b'ok\\n'\n" for r in neighbours), neighbours
    assert (await bomb_run).reason in ("timeout", "cpu")


async def test_cancelled_run_leaves_nothing_behind() -> None:
    code = "import os, time\nos.fork()\ntime.sleep(600)"
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(run_python(code, limits=QUICK), timeout=1)
    # the autouse fixture checks that no process of the run survived
