"""Sandbox throughput: programs per second at several concurrency caps. Run by hand:

    .venv/bin/python benchmarks/sandbox_throughput.py [N_PROGRAMS]

Each program is a HumanEval-sized check (a small function and a few asserts), so the time
is mostly the sandbox's own: launcher start, namespaces and mounts, interpreter start, sweep.
Use it to choose a concurrency cap for a machine (reflectlab.task uses 4).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from reflectlab.sandbox import SandboxResult, run_python

PROGRAM = """
def add(a, b):
    return a + b

assert add(2, 3) == 5
assert add(-1, 1) == 0
"""


async def _measure(n: int, cap: int) -> tuple[float, int]:
    sem = asyncio.Semaphore(cap)

    async def one() -> SandboxResult:
        async with sem:
            return await run_python(PROGRAM)

    started = time.perf_counter()
    results = await asyncio.gather(*(one() for _ in range(n)))
    return time.perf_counter() - started, sum(r.ok for r in results)


async def main(n: int) -> None:
    await run_python("pass")  # warm the page cache
    print(f"{n} programs, {os.cpu_count()} cores")
    for cap in (1, 2, 4, 8, 16):
        elapsed, ok = await _measure(n, cap)
        print(f"cap {cap:>2}: {elapsed:6.2f} s  {n / elapsed:6.1f} programs/s  ({ok} ok)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 64))
