"""A finished configuration run again from the cache: 0 model calls, a fraction of the time
(run by hand).

Against the fake OpenAI-compatible server in its own process (50 ms per call, as in
``runner_overhead.py``): ``self_refine`` on N samples at concurrency C through
:func:`reflectlab.run.start_run`, then the identical configuration again (a new run id, the
same store, so the same cache). Prints both times, their ratio, and the fresh calls of the
second run (from the store's call log: every call of it must be a cache hit), with CPU per
call of each.

Usage: ``python benchmarks/cache_rerun.py [--samples 500] [--concurrency 32] [--rounds 3]``.

Measured 2026-12-02 (load 1.5-2.5 on 2 cores): first run ~7 s (3,500 calls), the second 0
calls in 0.75-0.97 s, 0.107-0.133 of the first (before this branch 0.114): not yet "well
under a tenth". The second run is CPU-bound at ~170-235 us per cache hit (request hash, the
call record with its messages written per hit, the strategy and result writes around it).
Second session, a slower machine, d9a3678 -> this main: 0.246 -> 0.211 of the first run
(385 us of CPU per hit, from 453).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from _plain import write_items

from reflectlab._util.fake_openai import fake_server_process
from reflectlab.run import RunConfig, StrategySpec, start_run
from reflectlab.store import Store


def timed(config: RunConfig, store: Store) -> tuple[str, float, float]:
    cpu0, t0 = time.process_time(), time.perf_counter()
    run_id = asyncio.run(start_run(config, store))
    return run_id, time.perf_counter() - t0, time.process_time() - cpu0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()

    with fake_server_process(args.latency) as url, tempfile.TemporaryDirectory() as tmp:
        os.environ["REFLECTLAB_HOME"] = tmp
        os.environ.setdefault("OPENAI_API_KEY", "sk-none")
        items = Path(tmp) / "items.jsonl"
        write_items(items, args.samples)
        config = RunConfig(
            task=f"jsonl:{items}",
            strategies=[StrategySpec(name="self_refine")],
            model="openai/fake",
            base_url=url,
            concurrency=args.concurrency,
            max_rounds=args.rounds,
            baselines="none",
        )
        with Store(Path(tmp) / "bench.db") as store:
            first, wall1, cpu1 = timed(config, store)
            second, wall2, cpu2 = timed(config, store)
            counts = {
                run_id: store.db.execute(
                    "SELECT SUM(from_cache = 0), SUM(from_cache = 1) FROM calls WHERE run_id = ?",
                    (run_id,),
                ).fetchone()
                for run_id in (first, second)
            }
    fresh1, _ = counts[first]
    fresh2, hits2 = counts[second]
    print(
        f"workload: {args.samples} samples x self_refine ({args.rounds} rounds), concurrency "
        f"{args.concurrency}, fake server {args.latency * 1000:.0f} ms per call"
    )
    print(f"{'run':<22}{'wall s':>9}{'model calls':>13}{'cache hits':>12}{'CPU us/call':>13}")
    print(f"{'first':<22}{wall1:>9.2f}{fresh1:>13}{0:>12}{cpu1 / fresh1 * 1e6:>13.0f}")
    print(
        f"{'again, from cache':<22}{wall2:>9.2f}{fresh2:>13}{hits2:>12}{cpu2 / hits2 * 1e6:>13.0f}"
    )
    print(f"second / first time: {wall2 / wall1:.3f}")


if __name__ == "__main__":
    main()
