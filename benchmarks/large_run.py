"""A 100,000-sample run on the mock provider: memory through the run, store size, and how long
``show`` and ``report`` take on the finished run (run by hand; several minutes).

Writes a JSON Lines task of N samples in a temporary directory and runs the real CLI,
``reflectlab run --task jsonl:... -m mock/big`` (stderr not a terminal, so it prints a plain
progress line every tenth of the run). On each of those lines, and every half second, the
child's resident memory is read from ``/proc/PID/status``; RSS is printed at 10 %, 50 % and
100 % of the results, with the peak. A flat line means nothing grows with the samples done.
Then the store's size on disk, and the wall time and peak RSS of ``reflectlab show RUN`` and
``reflectlab report RUN -o FILE`` (with the report's size).

Usage: ``python benchmarks/large_run.py [--samples 100000] [--strategy direct,self_refine]
[--rounds 1] [--concurrency 64] [--keep DIR]``.

Measured 2026-12-02 (2 cores shared with a model run; defaults, 200,000 results, ~600,000
calls; store 1.16 GB on disk both times):

============================  ===========================  =========================
                              before (d042392)             after (branch scale)
============================  ===========================  =========================
run                           437 s                        305 s
RSS at 10 / 50 / 100 %        516 / 882 / 2,355 MB         212 / 212 / 224 MB
peak RSS of the run           2,459 MB                     330 MB
``show``                      138 s, 2,254 MB              10.2 s, 333 MB
``report``                    349 s, 2,299 MB, 18.5 MB     14.6 s, 583 MB, 4.7 MB
============================  ===========================  =========================
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CLI = [sys.executable, "-m", "reflectlab"]
PROGRESS = re.compile(r"run (\S+): (\d+)/(\d+) results")


def _status_mb(pid: int, field: str) -> float | None:
    """A memory figure (``VmRSS``, ``VmHWM``) of ``pid`` in MB (None once it has exited)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(rf"{field}:\s+(\d+) kB", text)
    return int(match.group(1)) / 1024 if match else None


def rss_mb(pid: int) -> float | None:
    """Resident memory of ``pid`` in MB (None once it has exited)."""
    return _status_mb(pid, "VmRSS")


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident memory of ``pid`` in MB (None once it has exited)."""
    return _status_mb(pid, "VmHWM")


def write_items(path: Path, n: int) -> None:
    with path.open("w") as f:
        for i in range(n):
            a, b = 17 + i % 89, 3 + i % 23
            row = {
                "id": f"q{i}",
                "input": f"Question {i}: a shop sells {a} boxes and then {b} more. How many?",
                "target": str(2 * a + b),
            }
            f.write(json.dumps(row) + "\n")


def run_sampled(cmd: list[str], env: dict[str, str]) -> tuple[float, list[tuple[int, float]], str]:
    """Run the CLI; return (wall s, [(results done, RSS MB)] at each progress line, run id)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    points: list[tuple[int, float]] = []
    samples: list[float] = []
    run_id = ""
    total = 0
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            mb = rss_mb(proc.pid)
            if mb is not None:
                samples.append(mb)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stderr is not None
    tail: list[str] = []
    for text in proc.stderr:
        tail = [*tail[-20:], text]
        match = PROGRESS.search(text)
        if match:
            run_id, done, total = match.group(1), int(match.group(2)), int(match.group(3))
            mb = rss_mb(proc.pid)
            if mb is not None:
                points.append((done, mb))
    code = proc.wait()
    stop.set()
    sampler.join()
    wall = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"run failed ({code}):\n{''.join(tail)}")
    if samples:
        points.append((-1, max(samples)))
    return wall, points, f"{run_id}/{total}"


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall s, peak RSS MB) of one CLI command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0.0
    while proc.poll() is None:
        mb = peak_rss_mb(proc.pid)
        peak = max(peak, mb or 0.0)
        time.sleep(0.05)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr.read().decode()[-3000:]}")
    return wall, peak


def at(points: list[tuple[int, float]], total: int, fraction: float) -> str:
    want = total * fraction
    for done, mb in points:
        if done >= want:
            return f"{mb:7.0f} MB ({done} results)"
    return "      -"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--strategy", default="direct,self_refine")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--keep", type=Path, default=None, help="keep the store in this dir")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        items = where / "items.jsonl"
        write_items(items, args.samples)
        db = str(where / "large.db")
        env = {**os.environ, "REFLECTLAB_HOME": str(where)}
        cmd = [
            *CLI,
            "run",
            "--task",
            f"jsonl:{items}",
            "--strategy",
            args.strategy,
            "-m",
            "mock/big",
            "--max-rounds",
            str(args.rounds),
            "--baselines",
            "none",
            "--concurrency",
            str(args.concurrency),
            "--db",
            db,
        ]
        wall, points, ident = run_sampled(cmd, env)
        run_id, _, total_text = ident.partition("/")
        total = int(total_text)
        peak = next((mb for done, mb in points if done == -1), 0.0)
        progress = [p for p in points if p[0] >= 0]
        size = sum(os.path.getsize(p) for p in (db, db + "-wal", db + "-shm") if os.path.exists(p))
        print(
            f"run {run_id}: {args.samples} samples x {args.strategy} (max_rounds "
            f"{args.rounds}) on mock/, {total} results in {wall:.1f} s"
        )
        print("RSS of the run process at")
        for fraction in (0.1, 0.5, 1.0):
            print(f"  {fraction:>4.0%}: {at(progress, total, fraction)}")
        print(f"  peak (0.5 s samples): {peak:.0f} MB")
        print(f"store on disk: {size / 1e6:.0f} MB")
        show_wall, show_peak = timed([*CLI, "show", run_id, "--db", db], env)
        print(f"reflectlab show:   {show_wall:6.1f} s, peak RSS {show_peak:5.0f} MB")
        out = where / "report.html"
        report_wall, report_peak = timed([*CLI, "report", run_id, "--db", db, "-o", str(out)], env)
        print(
            f"reflectlab report: {report_wall:6.1f} s, peak RSS {report_peak:5.0f} MB, "
            f"{out.stat().st_size / 1e6:.1f} MB file"
        )


if __name__ == "__main__":
    main()
