"""Calls per second on the mock provider, one core, everything but the network (run by hand).

``mock/<name>`` answers at once, so this measures reflectlab's own cost per model call on a
realistic strategy: ``self_refine`` through the real runner, with the store as cache and call
log, trace events, scoring and result writes in the loop. The process is pinned to one CPU.

Three lines, one process:

- ``runner, fresh``: a new store, every call a cache miss (cache entry + call record written);
- ``runner, from cache``: the same configuration again, a new run id on the same store, so
  every call is a cache hit (0 provider calls; checked);
- ``Model.generate only``: the same number of calls through the model layer with the store as
  cache and recorder, without the runner (what the runner adds is the difference).

Usage: ``python benchmarks/mock_throughput.py [--samples 2000] [--concurrency 32]
[--rounds 3] [--cpu 0]``.

Measured 2026-12-02 (load ~2 on 2 cores; calls/s, CPU us per call), before (d042392) and
after (branch scale): runner fresh 2,854 / 296 -> 3,136 / 243; from cache 4,247 / 189 ->
5,106 / 166; Model.generate only 5,207 / 148 -> 6,512 / 128 (same code: load noise, ~10 %).

Second session, a slower machine, d9a3678 -> this main in one sitting: runner fresh 1,600 /
550 -> 1,955 / 498; from cache 2,013 / 437 -> 2,448 / 393; Model.generate only 2,672 / 321
-> 3,152 / 301 (the cache key from orjson pieces, checkpoints on a thread of their own).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from _plain import drive_model, write_items

from reflectlab.model import get_model
from reflectlab.run import RunConfig, StrategySpec, start_run
from reflectlab.store import Store


def provider_calls(db: str, run_id: str) -> tuple[int, int]:
    con = sqlite3.connect(db)
    fresh, cached = con.execute(
        "SELECT COALESCE(SUM(from_cache = 0), 0), COALESCE(SUM(from_cache = 1), 0) FROM calls "
        "WHERE run_id = ?",
        (run_id,),
    ).fetchone()
    con.close()
    return int(fresh), int(cached)


def timed_run(config: RunConfig, db: str) -> tuple[str, float, float]:
    store = Store(db)
    cpu0, t0 = time.process_time(), time.perf_counter()
    run_id = asyncio.run(start_run(config, store))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    store.close()
    return run_id, wall, cpu


async def model_layer_only(db: str, samples: int, calls: int, concurrency: int) -> float:
    """CPU seconds of ``samples`` x ``calls`` fresh calls through Model.generate alone."""
    store = Store(db)
    model = get_model("mock/bench", cache=store, recorder=store)
    _, cpu = await drive_model(model, samples, concurrency, calls)
    store.close()
    return cpu


def line(name: str, calls: int, wall: float, cpu: float) -> str:
    return f"{name:<24}{calls:>9}{calls / wall:>11.0f}{cpu / calls * 1e6:>13.0f}{wall:>9.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cpu", type=int, default=0, help="CPU to pin to (-1: no pinning)")
    args = parser.parse_args()
    if args.cpu >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["REFLECTLAB_HOME"] = tmp
        items = Path(tmp) / "items.jsonl"
        write_items(items, args.samples)
        db = str(Path(tmp) / "bench.db")
        config = RunConfig(
            task=f"jsonl:{items}",
            strategies=[StrategySpec(name="self_refine")],
            model="mock/bench",
            concurrency=args.concurrency,
            max_rounds=args.rounds,
            baselines="none",
        )
        first, wall1, cpu1 = timed_run(config, db)
        fresh1, _ = provider_calls(db, first)
        second, wall2, cpu2 = timed_run(config, db)
        fresh2, cached2 = provider_calls(db, second)
        per_sample = round(fresh1 / args.samples)
        t0 = time.perf_counter()
        db3 = str(Path(tmp) / "model-layer.db")
        cpu3 = asyncio.run(model_layer_only(db3, args.samples, per_sample, args.concurrency))
        wall3 = time.perf_counter() - t0

    print(
        f"workload: {args.samples} samples x self_refine ({args.rounds} rounds) on mock/, "
        f"{per_sample} calls/sample, concurrency {args.concurrency}, "
        f"pinned to CPU {args.cpu}"
    )
    print(f"{'path':<24}{'calls':>9}{'calls/s':>11}{'CPU us/call':>13}{'wall s':>9}")
    print(line("runner, fresh", fresh1, wall1, cpu1))
    print(line("runner, from cache", cached2, wall2, cpu2))
    print(line("Model.generate only", args.samples * per_sample, wall3, cpu3))
    print(
        f"(second run: {fresh2} provider calls, {cached2} cache hits, "
        f"{wall2 / wall1:.2f} of the first run's time)"
    )


if __name__ == "__main__":
    main()
