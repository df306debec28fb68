"""Runner overhead against a fake OpenAI-compatible server with fixed latency (run by hand).

Starts ``reflectlab._util.fake_openai`` in its own process (50 ms per call, no compute), then
runs the real CLI path — ``reflectlab run --task jsonl:... --strategy self_refine`` — on N
samples at concurrency C, and reports, side by side in one run:

- achieved throughput over the ideal that latency and concurrency allow
  (ideal samples/s = C / (calls per sample x latency));
- reflectlab's own CPU time per model call (the CLI process's user+sys CPU, minus the CPU of
  an empty start-up, divided by the calls made), cache, trace event and store write included;
- the same workload through ``Model.generate`` alone (no runner, no store), to show what the
  runner adds over the model layer.

Usage: ``python benchmarks/runner_overhead.py [--samples 1000] [--concurrency 128]``.
Targets (issue 4): >= 0.9 of ideal, < 1 ms CPU per call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reflectlab._util.fake_openai import fake_server_process

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "reflectlab"]


def child_cpu(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``cmd``; return (wall seconds, user+sys CPU seconds of the child, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


async def model_layer_only(
    base_url: str, samples: int, concurrency: int, calls: int
) -> tuple[float, float]:
    """The same number of sequential calls per sample through Model.generate alone."""
    from reflectlab.model import get_model

    model = get_model("openai/fake", base_url=base_url, max_connections=concurrency)
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with sem:
            for k in range(calls):
                await model.generate(f"sample {i} call {k}")

    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(samples)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    await model.aclose()
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with fake_server_process(args.latency) as base_url, tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "items.jsonl"
        with data.open("w") as f:
            for i in range(args.samples):
                f.write(
                    json.dumps({"id": str(i), "input": f"What is {i} + {i}?", "target": str(2 * i)})
                    + "\n"
                )
        env = {**os.environ, "REFLECTLAB_HOME": tmp, "OPENAI_API_KEY": "sk-none"}
        _, startup_cpu, _ = child_cpu([*CLI, "--version"], env)
        db = str(Path(tmp) / "bench.db")
        wall, cpu, out = child_cpu(
            [
                *CLI,
                "run",
                "--task",
                f"jsonl:{data}",
                "--strategy",
                "self_refine",
                "--model",
                "openai/fake",
                "--base-url",
                base_url,
                "--limit",
                str(args.samples),
                "--concurrency",
                str(args.concurrency),
                "--max-rounds",
                str(args.rounds),
                "--baselines",
                "none",
                "--json",
                "--db",
                db,
            ],
            env,
        )
        summary = json.loads(out)
        con = sqlite3.connect(db)
        calls, first, last = con.execute(
            "SELECT COUNT(*), MIN(started_at), MAX(started_at + latency_s) FROM calls "
            "WHERE from_cache = 0"
        ).fetchone()
        con.close()
        calls_per_sample = calls / args.samples
        ideal = args.concurrency / (calls_per_sample * args.latency)
        run_wall = last - first
        achieved = args.samples / run_wall
        run_cpu = cpu - startup_cpu
        print(
            f"workload: {args.samples} samples x self_refine ({args.rounds} rounds) = "
            f"{calls} calls ({calls_per_sample:.2f}/sample), concurrency "
            f"{args.concurrency}, {args.latency * 1000:.0f} ms per call"
        )
        print(f"{'path':<28}{'efficiency':>12}{'samples/s':>12}{'CPU ms/call':>14}")
        print(
            f"{'CLI run (runner+store)':<28}{achieved / ideal:>12.3f}{achieved:>12.1f}"
            f"{run_cpu / calls * 1000:>14.3f}"
        )
        print(
            f"  (process wall incl. start-up {wall:.2f}s, start-up CPU "
            f"{startup_cpu:.2f}s, accuracy {summary['strategies'][0]['accuracy']:.2f})"
        )
        # The run ends by summarizing (statistics imports included): a cost per run, not per
        # call, inside the figure above. `show` computes the same summary; its CPU beyond an
        # empty start-up is that part.
        _, show_cpu, _ = child_cpu([*CLI, "show", summary["run_id"], "--json", "--db", db], env)
        summary_cpu = max(0.0, show_cpu - startup_cpu)
        print(
            f"  of which the final summary ~{summary_cpu:.2f}s CPU; without it "
            f"{max(0.0, run_cpu - summary_cpu) / calls * 1000:.3f} ms CPU per call"
        )
        m_wall, m_cpu = asyncio.run(
            model_layer_only(base_url, args.samples, args.concurrency, round(calls_per_sample))
        )
        m_calls = args.samples * round(calls_per_sample)
        m_ach = args.samples / m_wall
        print(
            f"{'Model.generate only':<28}{m_ach / ideal:>12.3f}{m_ach:>12.1f}"
            f"{m_cpu / m_calls * 1000:>14.3f}"
        )
        print(
            f"ideal {ideal:.1f} samples/s; runner/model-layer throughput ratio "
            f"{achieved / m_ach:.3f}"
        )


if __name__ == "__main__":
    main()
