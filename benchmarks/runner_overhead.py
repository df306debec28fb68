"""Runner overhead against a fake OpenAI-compatible server with fixed latency (run by hand).

Starts ``reflectlab._util.fake_openai`` in its own process (50 ms per call, no compute), then,
side by side in one invocation and alternating ``--repeat`` times:

- **plain aiohttp client** (``benchmarks/_plain.py``): the same 5 sequential calls per sample a
  hand-written client would make, no cache, no store;
- **reflectlab run**: the real CLI path, ``reflectlab run --task jsonl:... --strategy
  self_refine`` with ``max_rounds=2`` (draft, feedback, refine, feedback, refine = 5 calls, as
  the fake never says stop), cache, trace events, store writes and the final summary included;
- **Model.generate only**: the same calls through the model layer alone (no runner, no store).

Reported for each: efficiency = achieved samples/s over the ideal C / (calls x latency), and
CPU ms per model call. For the CLI two CPU figures: the whole process minus an empty
``reflectlab --version`` start-up (so per-run costs such as imports and the summary are
included, spread over the calls), and the *marginal* cost of one more call: the CPU difference
between the full run and a run of a fifth of the samples, over the difference in calls, which
is what the hot path costs in a long run. The last lines give reflectlab's efficiency over the
plain client's, run by run.

Usage: ``python benchmarks/runner_overhead.py [--samples 200] [--concurrency 32]``; also
``--samples 1000 --concurrency 128``. Targets (issue 12): <= 0.4 ms CPU per call and >= 0.95
of the plain client's efficiency, at 32 and 128 in flight.

Measured 2026-12-02 on the 2-core machine (load 1.4-3.6, a model run paused meanwhile):

- 200 samples, 32 in flight: plain 0.79 (0.26 ms/call), reflectlab 0.78 (0.78 ms/call
  marginal), Model.generate alone 0.80 (0.35 ms/call); reflectlab / plain 0.95-0.99 run by run
  (0.66-0.87 at the start of the day, before group commit, in-flight de-duplication and the
  scipy-free summary).
- 1000 samples, 128 in flight: plain 0.88 (0.23 ms/call), reflectlab 0.55-0.59 (0.64 ms/call),
  Model.generate alone 0.84-0.87 (0.30-0.34): reflectlab / plain 0.63-0.67. Here the event
  loop is CPU-bound (2,560 calls/s ideal x 0.64 ms > one core): what is left is CPU per call.

Measured 2026-12-02, second session, on a slower 2-core machine (plain aiohttp 0.37-0.47
ms/call here against 0.23-0.26 above), the previous main (d9a3678) and this one alternating,
3 runs each, medians [range]; CPU now includes the checkpoint thread's:

- 1000 samples, 128 in flight: reflectlab 0.298 [0.286-0.326], 1.18 ms/call -> 0.403
  [0.396-0.425], 0.94 ms/call (plain 0.76-0.80: reflectlab / plain 0.39 -> 0.50);
  Model.generate only 0.590 -> 0.743.
- 200 samples, 32 in flight: reflectlab 0.740, 1.29 ms/call -> 0.799, 1.19 ms/call (plain
  0.79: 0.94 -> 1.01).

The targets (<= 0.4 ms per call, >= 0.95 of plain at 128 in flight) are not met: plain
aiohttp alone costs 0.37-0.47 ms per call here, and at 128 in flight one event loop is
CPU-bound, so the ratio is plain's CPU per call over reflectlab's.
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

from _plain import drive_model, drive_plain, write_items

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
    try:
        return await drive_model(model, samples, concurrency, calls)
    finally:
        await model.aclose()


def cli_run(
    data: Path, base_url: str, samples: int, concurrency: int, tmp: str, env: dict[str, str]
) -> tuple[float, float, int, float]:
    """One CLI run into a fresh store: (efficiency wall s, process CPU s, fresh calls, acc)."""
    db = Path(tmp) / f"bench-{time.monotonic_ns()}.db"
    # A fresh cache too: the runs share the prompts, and a hit is not a call.
    run_env = {**env, "REFLECTLAB_HOME": str(Path(tmp) / db.stem)}
    _, cpu, out = child_cpu(
        [
            *CLI,
            *("run", "--task", f"jsonl:{data}", "--strategy", "self_refine:max_rounds=2"),
            *("--model", "openai/fake", "--base-url", base_url, "--limit", str(samples)),
            *("--concurrency", str(concurrency), "--baselines", "none", "--json", "--db", str(db)),
        ],
        run_env,
    )
    con = sqlite3.connect(db)
    calls, first, last = con.execute(
        "SELECT COUNT(*), MIN(started_at), MAX(started_at + latency_s) FROM calls "
        "WHERE from_cache = 0"
    ).fetchone()
    con.close()
    return last - first, cpu, calls, json.loads(out)["strategies"][0]["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs of each path")
    args = parser.parse_args()
    calls_per_sample = 5
    ideal = args.concurrency / (calls_per_sample * args.latency)
    small = max(1, args.samples // 5)

    def eff(wall: float) -> float:
        return args.samples / wall / ideal

    rows: list[tuple[str, float, float, str]] = []
    ratios: list[float] = []
    with fake_server_process(args.latency) as base_url, tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "items.jsonl"
        write_items(data, args.samples)
        env = {**os.environ, "OPENAI_API_KEY": "sk-none"}
        _, startup_cpu, _ = child_cpu([*CLI, "--version"], env)
        asyncio.run(drive_plain(base_url, 8, 8, 1))  # warm-up
        for _ in range(args.repeat):
            p_wall, p_cpu = asyncio.run(
                drive_plain(base_url, args.samples, args.concurrency, calls_per_sample)
            )
            p_calls = args.samples * calls_per_sample
            rows.append(("plain aiohttp client", eff(p_wall), p_cpu / p_calls * 1000, ""))
            wall, cpu, calls, acc = cli_run(
                data, base_url, args.samples, args.concurrency, tmp, env
            )
            _, s_cpu, s_calls, _ = cli_run(data, base_url, small, args.concurrency, tmp, env)
            if calls != p_calls:
                raise RuntimeError(f"reflectlab made {calls} calls, expected {p_calls}")
            marginal = (cpu - s_cpu) / (calls - s_calls) * 1000
            whole = (cpu - startup_cpu) / calls * 1000
            rows.append(
                (
                    "reflectlab run (CLI)",
                    eff(wall),
                    marginal,
                    f"whole process {whole:.3f} ms/call, accuracy {acc:.2f}",
                )
            )
            ratios.append(eff(wall) / eff(p_wall))
            m_wall, m_cpu = asyncio.run(
                model_layer_only(base_url, args.samples, args.concurrency, calls_per_sample)
            )
            rows.append(("Model.generate only", eff(m_wall), m_cpu / p_calls * 1000, ""))

    print(
        f"workload: {args.samples} samples x self_refine (2 rounds = {calls_per_sample} calls), "
        f"{args.concurrency} in flight, {args.latency * 1000:.0f} ms per call, ideal "
        f"{ideal:.1f} samples/s; {args.repeat} alternating runs per path"
    )
    print(f"{'path':<24}{'efficiency':>11}{'CPU ms/call':>13}  notes")
    for name, e, c, note in rows:
        print(f"{name:<24}{e:>11.3f}{c:>13.3f}  {note}")
    print("medians:")
    for name in dict.fromkeys(r[0] for r in rows):
        effs = sorted(r[1] for r in rows if r[0] == name)
        cpus = sorted(r[2] for r in rows if r[0] == name)
        print(
            f"  {name:<22}efficiency {effs[len(effs) // 2]:.3f} [{effs[0]:.3f}-{effs[-1]:.3f}]"
            f", CPU {cpus[len(cpus) // 2]:.3f} ms/call"
        )
    print(
        "reflectlab / plain client efficiency, run by run: " + ", ".join(f"{x:.3f}" for x in ratios)
    )
    print(
        "CLI CPU ms/call is the marginal cost of a call (full run minus a run of "
        f"{small} samples); 'whole process' spreads start-up, imports and the summary over "
        "the calls."
    )
    # One event loop spends at most one core: past calls/s x CPU per call = 1 it is CPU-bound.
    ideal_calls = ideal * calls_per_sample
    for name in dict.fromkeys(r[0] for r in rows):
        cpus = sorted(r[2] for r in rows if r[0] == name)
        ceiling = 1000.0 / cpus[len(cpus) // 2] / ideal_calls
        print(
            f"{name}: one core at {cpus[len(cpus) // 2]:.3f} ms/call caps efficiency at "
            f"{min(ceiling, 1.0):.2f} here ({ideal_calls:.0f} calls/s ideal)"
        )


if __name__ == "__main__":
    main()
