"""Does a faulty server change the score? (run by hand; issue 9)

Starts ``reflectlab._util.fake_openai`` in its own process answering the built-in ``arith``
task like a model that gets a fixed 63 % of problems right (which ones depends only on the
problem text), then runs the real CLI — ``reflectlab run --task arith --strategy direct
--model openai/fake --limit 100`` — once against a clean server and once per fault rate, where
that fraction of requests come back broken (empty content, null content, ``choices: []``, no
usage, HTTP 500; reproducible from ``--seed``). Each run is repeated from the cache.

Broken replies must be retried, never scored and never cached, so every accuracy printed must
be the clean one. It also prints the model layer's counts per strategy
(``Store.call_quality``): retried invalid replies and calls whose usage is unknown.

Usage: ``python benchmarks/fault_accuracy.py [--rates 0.3] [--seed 1] [--limit 100]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from reflectlab._util.fake_openai import fake_server_process
from reflectlab.store import Store


def run_once(rate: float, seed: int, limit: int) -> list[str]:
    lines = []
    fault_args = ("--arith-accuracy", "0.63", "--fault-rate", str(rate), "--fault-seed", str(seed))
    with (
        fake_server_process(0.0, *fault_args) as url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        db = str(Path(tmp) / "r.db")
        env = {**os.environ, "REFLECTLAB_HOME": tmp}
        cmd = [
            *(sys.executable, "-m", "reflectlab", "run", "--task", "arith"),
            *("--strategy", "direct", "--model", "openai/fake", "--base-url", url),
            *("--limit", str(limit), "--baselines", "none", "--json", "--db", db),
        ]
        for label in ("run", "re-run from the cache"):
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                lines.append(f"fault rate {rate:.0%} {label}: FAILED\n{proc.stderr[-2000:]}")
                continue
            summary = json.loads(proc.stdout)
            s = summary["strategies"][0]
            with Store(db) as store:
                quality = store.call_quality(summary["run_id"]).get("direct")
            lines.append(
                f"fault rate {rate:>4.0%}  {label:<22} accuracy {s['accuracy']:.2f} "
                f"({s['correct']}/{s['n']})  {quality}"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="0.3", help="comma-separated fault rates")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()
    for rate in [0.0, *(float(r) for r in args.rates.split(","))]:
        print("\n".join(run_once(rate, args.seed, args.limit)))


if __name__ == "__main__":
    main()
