"""The self-refine workload through ``reflectlab serve``, side by side with a direct aiohttp
client and (when installed) optillm, against the fake OpenAI server (run by hand).

Starts ``reflectlab._util.fake_openai`` in its own process (50 ms per call, no compute) and the
proxy in its own process (``reflectlab serve --upstream ...``). Then, in one run:

- **proxy**: C concurrent clients send N chat requests with model
  ``self_refine:max_rounds=2/fake`` (5 upstream calls each: draft, feedback, refine, feedback,
  refine), over one aiohttp session;
- **direct aiohttp**: the same 5 sequential calls per sample made by a plain aiohttp client;
- **optillm** (if the ``optillm`` command is installed): its proxy with an approach given by
  ``--optillm-approach`` (default ``rto``, as in PERFORMANCE.md); its calls per request are
  counted at the fake.

Reported for each: efficiency = achieved samples/s over the ideal C / (calls x latency); CPU ms
per upstream call of the process doing the work (the proxy's own process for proxies, the
client's for the direct client); peak RSS of that process (VmHWM). The machine is shared:
expect +-5 % between runs; compare within one run.

Usage: ``python benchmarks/proxy_overhead.py [--samples 200] [--concurrency 32]``.
Targets (issue 10): proxy efficiency >= 0.75 at 32 clients, <= 1 ms proxy CPU per upstream
call, RSS <= 150 MB.

Measured 2026-12-02 on the 2-core machine (load 1.4-2.5; optillm 0.4.0 installed in its own
venv, put on PATH): reflectlab serve 0.70-0.77 (median of 3: 0.76), 0.71-1.04 ms CPU per
upstream call, 87 MB peak RSS; optillm (rto, 4 calls per request) 0.19-0.23, 12-14 ms CPU per
call, 780-890 MB; the direct aiohttp client 0.79-0.81 at 0.21-0.32 ms. Proxy / direct
efficiency run by run 0.92-0.99 (0.84 at the start of the day).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from _plain import drive_plain

from reflectlab._util.fake_openai import fake_server_process

TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def proc_peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up")
        time.sleep(0.1)


def upstream_calls(base_url: str) -> int:
    """Requests the fake server has answered (it counts them in the completion id)."""
    body = json.dumps({"model": "fake", "messages": [{"role": "user", "content": "count"}]})
    req = urllib.request.Request(
        base_url + "/chat/completions",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as r:
        return int(json.loads(r.read())["id"].split("-")[1])


@dataclass
class Result:
    name: str
    wall_s: float
    calls: int
    cpu_s: float
    rss_mb: float
    errors: int


async def drive_proxy(
    url: str, model: str, samples: int, concurrency: int, extra: dict[str, object]
) -> tuple[float, int]:
    """Send ``samples`` chat requests, ``concurrency`` at a time; return (wall, errors)."""
    sem = asyncio.Semaphore(concurrency)
    errors = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def one(i: int) -> None:
            nonlocal errors
            body = {
                "model": model,
                "messages": [{"role": "user", "content": f"What is {i} + {i}? Think first."}],
                "max_tokens": 64,
                **extra,
            }
            async with sem, http.post(url + "/chat/completions", json=body) as r:
                await r.read()
                if r.status != 200:
                    errors += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(samples)))
        return time.perf_counter() - t0, errors


class ProxyProcess:
    """A proxy in its own process, kept up across repeats; stderr goes to a log file."""

    def __init__(self, cmd: list[str], ready_path: str, port: int, env: dict[str, str], log: Path):
        self.url = f"http://127.0.0.1:{port}/v1"
        self.log = log.open("wb")
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        try:
            wait_http(f"http://127.0.0.1:{port}{ready_path}", self.proc)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"{cmd[0]} did not start; see {log}") from None

    def measure(self, name: str, base_url: str, model: str, args: argparse.Namespace) -> Result:
        asyncio.run(drive_proxy(self.url, model, 4, 4, {}))  # warm-up: connections, imports
        calls0, cpu0 = upstream_calls(base_url), proc_cpu_s(self.proc.pid)
        wall, errors = asyncio.run(drive_proxy(self.url, model, args.samples, args.concurrency, {}))
        cpu = proc_cpu_s(self.proc.pid) - cpu0
        calls = upstream_calls(base_url) - calls0 - 1
        return Result(name, wall, calls, cpu, proc_peak_rss_mb(self.proc.pid), errors)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()
        self.log.close()


def measure_direct(base_url: str, args: argparse.Namespace) -> Result:
    import resource

    calls0 = upstream_calls(base_url)
    wall, cpu = asyncio.run(drive_plain(base_url, args.samples, args.concurrency, 5))
    calls = upstream_calls(base_url) - calls0 - 1
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Result("direct aiohttp client", wall, calls, cpu, rss, 0)


def _row(r: Result, args: argparse.Namespace) -> tuple[float, float, float]:
    per_sample = r.calls / args.samples if r.calls else 5
    ideal = args.concurrency / (per_sample * args.latency)
    achieved = args.samples / r.wall_s
    return achieved / ideal, achieved, r.cpu_s / max(r.calls, 1) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs of each path")
    parser.add_argument("--optillm-approach", default="rto")
    args = parser.parse_args()

    results: list[Result] = []
    optillm = shutil.which("optillm")
    with fake_server_process(args.latency) as base_url, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "REFLECTLAB_HOME": tmp, "OPENAI_API_KEY": "sk-none"}
        env.pop("REFLECTLAB_SERVE_API_KEY", None)
        port = free_port()
        serve = [
            *(sys.executable, "-m", "reflectlab", "serve", "--upstream", base_url),
            *("--port", str(port), "--db", str(Path(tmp) / "serve.db")),
            *("--max-concurrency", str(max(256, args.concurrency * 2))),
        ]
        proxies = [
            (
                "reflectlab serve",
                ProxyProcess(serve, "/readyz", port, env, Path(tmp) / "serve.log"),
                "self_refine:max_rounds=2/fake",
            )
        ]
        if optillm:
            oport = free_port()
            cmd = [optillm, "--base-url", base_url, "--port", str(oport)]
            proxies.append(
                (
                    f"optillm ({args.optillm_approach})",
                    ProxyProcess(cmd, "/health", oport, env, Path(tmp) / "optillm.log"),
                    f"{args.optillm_approach}-fake",
                )
            )
        try:
            for _ in range(args.repeat):
                for name, proxy, model in proxies:
                    results.append(proxy.measure(name, base_url, model, args))
                results.append(measure_direct(base_url, args))
        finally:
            for _, proxy, _ in proxies:
                proxy.stop()

    print(
        f"workload: {args.samples} samples x self_refine (2 rounds = 5 calls), "
        f"{args.concurrency} concurrent clients, {args.latency * 1000:.0f} ms per call; "
        f"{args.repeat} alternating runs per path"
    )
    print(
        f"{'path':<28}{'efficiency':>11}{'samples/s':>11}{'calls':>7}"
        f"{'CPU ms/call':>13}{'peak RSS MB':>13}{'errors':>8}"
    )
    for r in results:
        eff, achieved, cpu = _row(r, args)
        print(
            f"{r.name:<28}{eff:>11.3f}{achieved:>11.1f}{r.calls:>7}"
            f"{cpu:>13.3f}{r.rss_mb:>13.1f}{r.errors:>8}"
        )
    print("medians:")
    for name in dict.fromkeys(r.name for r in results):
        rows = [_row(r, args) for r in results if r.name == name]
        effs = sorted(x[0] for x in rows)
        cpus = sorted(x[2] for x in rows)
        print(
            f"  {name:<26}efficiency {effs[len(effs) // 2]:.3f} "
            f"[{effs[0]:.3f}-{effs[-1]:.3f}], CPU {cpus[len(cpus) // 2]:.3f} ms/call"
        )
    pairs = [
        (p, d)
        for p, d in zip(results[::2], results[1::2], strict=False)
        if p.name == "reflectlab serve" and d.name.startswith("direct")
    ]
    if pairs and not optillm:
        ratios = sorted(_row(p, args)[0] / _row(d, args)[0] for p, d in pairs)
        print(f"  proxy / direct efficiency, run by run: {', '.join(f'{x:.2f}' for x in ratios)}")
    if not optillm:
        print("optillm: not installed (pip install optillm to add it to this table)")
    print(
        "CPU: the proxy's own process (server, strategies, store writes) / the direct client's "
        "process; RSS: that process's peak (the direct client's includes this script)."
    )


if __name__ == "__main__":
    main()
