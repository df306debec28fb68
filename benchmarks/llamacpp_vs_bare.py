"""reflectlab's embedded path vs a bare xllamacpp server driven by a plain aiohttp client.

Run by hand (never timed inside tests)::

    .venv/bin/python benchmarks/llamacpp_vs_bare.py [--threads 1 2] [--reps 5] [--runner]

Same model file, same server settings (slots, per-slot context, threads, prompt RAM cache),
same prompts (arith word problems, made unique per repetition so no path inherits the other's
prompt cache), ``temperature=0`` and ``max_tokens`` fixed, ``slots`` requests in flight:

- ``bare``: ``xllamacpp.Server`` started here, ``POST /v1/chat/completions`` with aiohttp;
- ``reflectlab``: ``get_model("llamacpp/default", ...)`` (no response cache), i.e. the
  provider, the retry/usage/event path of ``Model.generate`` and the provider's own server.

Paths alternate (ABBA) within one process; each row is the median over repetitions of
generated tokens / wall time. ``--runner`` adds the whole runner (store, scoring, events) on
``arith`` with ``direct,self_refine`` for each thread count (ABBA, same samples per pair):
wall time of a small run. ``--ctx 4096 8192`` compares per-slot contexts instead.

Measured 2026-12-01 on the 2-core machine shared with four other engineers (load 4-7; medians
of paired ratios, each pair run back to back; SmolLM2-135M, 4 slots, 8192 per slot):

==============================================  ==================================
comparison                                      median paired ratio (range, n)
==============================================  ==================================
reflectlab / bare, 1 thread (4 x 64 tokens)     0.94 (0.52-1.55, 8)
reflectlab / bare, 2 threads                    1.09 (0.77-1.63, 8)
reflectlab / bare, 1 thread, ctx 4096 and 8192  0.96 (12)
reflectlab / bare, 1 thread (8 x 16 tokens)     0.98 (0.71-1.15, 6)
2 threads / 1 thread (reflectlab)               1.42 (1.07-2.64, 8)
ctx 8192 / 4096 per slot (bare; reflectlab)     1.16; 0.94 (0.6-1.5, 6 each)
==============================================  ==================================

Whole runner (``--runner``, arith, 2 samples, direct + self_refine, temperature 0): 1 thread
67 s; 2 threads not done after 10 min (load 2 -> 4, each engine thread at ~45 % of a core).
An earlier pair at the default temperature: 216 s vs 212 s, then 116 s (2) vs 72 s (1).

Client CPU per call on the event-loop thread (load-independent): bare aiohttp 1.12 ms,
reflectlab's ``Model.generate`` path 1.04 ms. Absolute rates were 4-35 tok/s under that load
(the table in ``llamacpp_throughput.py`` was taken at load 1-4), so only ratios mean anything;
the two paths are equal within the noise, and reflectlab costs no more CPU per call.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from reflectlab.model import get_model
from reflectlab.model.providers._llamacpp_models import resolve_model
from reflectlab.model.providers.llamacpp import (
    DEFAULT_CACHE_RAM_MIB,
    LlamaCppAPI,
    _get_or_start,
    _ServerKey,
    default_ctx_per_slot,
    default_slots,
)
from reflectlab.task import get_task


def _prompts(n: int) -> list[str]:
    return [s.input for s in get_task("arith", seed=1).samples()[:n]]


class Bare:
    """A bare xllamacpp server and a plain aiohttp client."""

    def __init__(self, path: str, slots: int, ctx: int, threads: int) -> None:
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = path
        params.n_parallel = slots
        params.n_ctx = slots * ctx
        params.kv_unified = False
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.hostnames = ["127.0.0.1"]
        params.port = 0
        params.n_threads_http = 2 * slots + 2
        params.verbosity = 0
        params.ui = False
        params.offline = True
        params.cache_ram_mib = DEFAULT_CACHE_RAM_MIB
        self.server: Any = xllamacpp.Server(params)
        self.url = f"{self.server.listening_address}/v1/chat/completions"

    async def run(self, prompts: list[str], max_tokens: int, inflight: int) -> int:
        sem = asyncio.Semaphore(inflight)
        async with aiohttp.ClientSession() as session:

            async def one(p: str) -> int:
                body = {
                    "messages": [{"role": "user", "content": p}],
                    "max_tokens": max_tokens,
                    "temperature": 0,
                }
                async with sem, session.post(self.url, json=body) as resp:
                    data = await resp.json()
                    return int(data["usage"]["completion_tokens"])

            return sum(await asyncio.gather(*(one(p) for p in prompts)))


class Reflectlab:
    def __init__(self, slots: int, ctx: int, threads: int) -> None:
        self.model = get_model(
            "llamacpp/default", n_parallel=slots, ctx_per_slot=ctx, threads=threads
        )

    async def run(self, prompts: list[str], max_tokens: int, inflight: int) -> int:
        sem = asyncio.Semaphore(inflight)

        async def one(p: str) -> int:
            async with sem:
                out = await self.model.generate(p, max_tokens=max_tokens, temperature=0)
                return int(out.usage.completion_tokens)

        return sum(await asyncio.gather(*(one(p) for p in prompts)))


async def compare(
    thread_counts: list[int], reps: int, n: int, max_tokens: int, ctxs: list[int] | None = None
) -> dict[str, list[float]]:
    """Every (path, threads, ctx) is started first; each repetition runs all of them in a
    rotated order, so neighbours in time share the machine's load and paired ratios cancel
    most of it."""
    slots = default_slots()
    resolved = resolve_model("default")
    paths: dict[str, Bare | Reflectlab] = {}
    for ctx in ctxs or [default_ctx_per_slot(resolved)]:
        tag = f" ctx={ctx}" if ctxs and len(ctxs) > 1 else ""
        for threads in thread_counts:
            paths[f"bare t={threads}{tag}"] = Bare(str(resolved.path), slots, ctx, threads)
            ours = Reflectlab(slots, ctx, threads)
            assert isinstance(ours.model.api, LlamaCppAPI)
            key = _ServerKey(str(resolved.path), slots, ctx, threads, DEFAULT_CACHE_RAM_MIB)
            await asyncio.to_thread(_get_or_start, key, resolved, 0)  # load outside the timing
            paths[f"reflectlab t={threads}{tag}"] = ours
    base = _prompts(n)
    for path in paths.values():  # warm-up, one short call each
        await path.run(base[:1], 8, 1)
    rates: dict[str, list[float]] = {name: [] for name in paths}
    names = list(paths)
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            prompts = [f"[{name} {rep}] {p}" for p in base]
            start, cpu = time.perf_counter(), time.thread_time()
            tokens = await paths[name].run(prompts, max_tokens, slots)
            wall = time.perf_counter() - start
            # The event loop's own CPU (the engine runs in other threads): client cost per call.
            client_ms = (time.thread_time() - cpu) * 1000 / len(prompts)
            rates[name].append(tokens / wall)
            rates.setdefault(f"{name} client ms", []).append(client_ms)
            print(
                f"  rep={rep} {name:<16} {tokens:5d} tok {wall:6.1f} s "
                f"{tokens / wall:6.1f} tok/s  client {client_ms:5.2f} ms/call  "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    for path in paths.values():
        if isinstance(path, Reflectlab):
            await path.model.aclose()
    paths.clear()
    return rates


def _paired(rates: dict[str, list[float]], a: str, b: str) -> str:
    ratios = [x / y for x, y in zip(rates[a], rates[b], strict=True)]
    return (
        f"{a}: {statistics.median(rates[a]):.1f} tok/s, {b}: {statistics.median(rates[b]):.1f} "
        f"tok/s; median paired ratio {statistics.median(ratios):.3f} "
        f"(range {min(ratios):.2f}-{max(ratios):.2f}, n={len(ratios)})"
    )


async def runner_wall(threads: int, limit: int, seed: int) -> float:
    from reflectlab.run import RunConfig, StrategySpec, start_run
    from reflectlab.store import Store

    os.environ["REFLECTLAB_LLAMACPP_THREADS"] = str(threads)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        config = RunConfig(
            task="arith",
            strategies=[StrategySpec(name="direct"), StrategySpec(name="self_refine")],
            model="llamacpp/default",
            limit=limit,
            seed=seed,
            baselines="none",
            temperature=0.0,  # the same replies at either thread count: walls compare
        )
        start = time.perf_counter()
        run_id = await start_run(config, store)
        wall = time.perf_counter() - start
        speed = store.generation_tok_s(run_id)
        store.close()
    print(f"  runner threads={threads}: {wall:.1f} s, per-request {speed}", flush=True)
    return wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument(
        "--ctx", type=int, nargs="+", default=None, help="per slot (default: the provider's)"
    )
    ap.add_argument("--runner", action="store_true")
    ap.add_argument("--no-paths", action="store_true", help="only the --runner comparison")
    ap.add_argument("--runner-limit", type=int, default=4)
    args = ap.parse_args()
    print(f"load before: {os.getloadavg()}", file=sys.stderr)
    rates: dict[str, list[float]] = {}
    if not args.no_paths:
        rates = asyncio.run(
            compare(args.threads, args.reps, args.prompts, args.max_tokens, args.ctx)
        )
    summary: list[str] = []
    if args.no_paths:
        pass
    elif args.ctx and len(args.ctx) > 1:
        summary += [
            _paired(rates, f"{kind} t={t} ctx={c}", f"{kind} t={t} ctx={args.ctx[0]}")
            for kind in ("bare", "reflectlab")
            for t in args.threads
            for c in args.ctx[1:]
        ]
    else:
        for t in args.threads:
            summary.append(_paired(rates, f"reflectlab t={t}", f"bare t={t}"))
            bare_ms = statistics.median(rates[f"bare t={t} client ms"])
            ours_ms = statistics.median(rates[f"reflectlab t={t} client ms"])
            summary.append(
                f"client CPU per call (event loop thread), t={t}: bare {bare_ms:.2f} ms, "
                f"reflectlab {ours_ms:.2f} ms"
            )
        for t in args.threads[1:]:
            summary.append(_paired(rates, f"reflectlab t={t}", f"reflectlab t={args.threads[0]}"))
    if args.runner:  # ABBA over the thread counts: t1 t2 t2 t1
        order = args.threads + args.threads[::-1]
        walls: dict[int, list[float]] = {t: [] for t in args.threads}
        for i, threads in enumerate(order):  # each pair of neighbours gets the same samples
            wall = asyncio.run(runner_wall(threads, args.runner_limit, seed=10 + i // 2))
            walls[threads].append(wall)
        for threads, w in walls.items():
            summary.append(f"runner threads={threads}: {statistics.median(w):.1f} s ({w})")
    print(f"load after: {os.getloadavg()}", file=sys.stderr)
    print("\n".join(summary))


if __name__ == "__main__":
    main()
