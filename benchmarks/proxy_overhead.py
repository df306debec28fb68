"""The self-refine workload through ``reflectlab serve``, side by side with a direct aiohttp
client and (when installed) optillm, against the fake OpenAI server (run by hand).

Starts ``reflectlab._util.fake_openai`` in its own process (50 ms per call, no compute) and the
proxy in its own process (``reflectlab serve --upstream ...``). Then, in one run:

- **proxy**: C concurrent clients send N chat requests with model
  ``self_refine:max_rounds=2/fake`` (5 upstream calls each: draft, feedback, refine, feedback,
  refine), over one aiohttp session;
- **direct aiohttp**: the same 5 sequential calls per sample made by a plain aiohttp client;
- **optillm** (if the ``optillm`` command is installed): its proxy with an approach given by
  ``--optillm-approach`` (default ``self_consistency``), calls per request counted at the fake.

Reported for each: efficiency = achieved samples/s over the ideal C / (calls x latency); CPU ms
per upstream call of the process doing the work (the proxy's own process for proxies, the
client's for the direct client); peak RSS of that process (VmHWM). The machine is shared:
expect +-5 % between runs; compare within one run.

Usage: ``python benchmarks/proxy_overhead.py [--samples 200] [--concurrency 32]``.
Targets (issue 10): proxy efficiency >= 0.75 at 32 clients, <= 1 ms proxy CPU per upstream
call, RSS <= 150 MB.
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


async def drive_direct(base_url: str, samples: int, concurrency: int, calls: int) -> float:
    """The same workload made by a plain aiohttp client: ``calls`` sequential calls/sample."""
    sem = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(i: int) -> None:
            messages = [{"role": "user", "content": f"What is {i} + {i}? Think first."}]
            async with sem:
                for _ in range(calls):
                    body = {"model": "fake", "messages": messages, "max_tokens": 64}
                    async with http.post(base_url + "/chat/completions", json=body) as r:
                        data = json.loads(await r.read())
                    text = data["choices"][0]["message"]["content"]
                    messages = [*messages, {"role": "assistant", "content": text}]
                    messages.append({"role": "user", "content": "Review and improve."})

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(samples)))
        return time.perf_counter() - t0


def run_proxy_process(
    cmd: list[str], ready_path: str, port: int, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}{ready_path}", proc)
    return proc


def measure_proxy(
    name: str,
    cmd: list[str],
    ready_path: str,
    port: int,
    env: dict[str, str],
    base_url: str,
    model: str,
    args: argparse.Namespace,
    extra: dict[str, object] | None = None,
) -> Result:
    proc = run_proxy_process(cmd, ready_path, port, env)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        asyncio.run(drive_proxy(url, model, 4, 4, extra or {}))  # warm-up
        calls0, cpu0 = upstream_calls(base_url), proc_cpu_s(proc.pid)
        wall, errors = asyncio.run(
            drive_proxy(url, model, args.samples, args.concurrency, extra or {})
        )
        cpu = proc_cpu_s(proc.pid) - cpu0
        calls = upstream_calls(base_url) - calls0 - 1
        return Result(name, wall, calls, cpu, proc_peak_rss_mb(proc.pid), errors)
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--optillm-approach", default="self_consistency")
    args = parser.parse_args()
    calls_per_sample = 5

    results: list[Result] = []
    with fake_server_process(args.latency) as base_url, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "REFLECTLAB_HOME": tmp, "OPENAI_API_KEY": "sk-none"}
        env.pop("REFLECTLAB_SERVE_API_KEY", None)
        port = free_port()
        serve = [
            sys.executable,
            "-m",
            "reflectlab",
            "serve",
            "--upstream",
            base_url,
            "--port",
            str(port),
            "--db",
            str(Path(tmp) / "serve.db"),
            "--max-concurrency",
            str(max(256, args.concurrency * 2)),
        ]
        results.append(
            measure_proxy(
                "reflectlab serve",
                serve,
                "/readyz",
                port,
                env,
                base_url,
                "self_refine:max_rounds=2/fake",
                args,
            )
        )

        calls0, cpu0 = upstream_calls(base_url), time.process_time()
        wall = asyncio.run(drive_direct(base_url, args.samples, args.concurrency, 5))
        cpu = time.process_time() - cpu0
        calls = upstream_calls(base_url) - calls0 - 1
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        results.append(Result("direct aiohttp client", wall, calls, cpu, rss, 0))

        optillm = shutil.which("optillm")
        if optillm:
            oport = free_port()
            cmd = [optillm, "--base-url", base_url, "--port", str(oport)]
            results.append(
                measure_proxy(
                    f"optillm ({args.optillm_approach})",
                    cmd,
                    "/health",
                    oport,
                    env,
                    base_url,
                    f"{args.optillm_approach}-fake",
                    args,
                )
            )

    print(
        f"workload: {args.samples} samples x self_refine (2 rounds, {calls_per_sample} calls), "
        f"{args.concurrency} concurrent clients, {args.latency * 1000:.0f} ms per call"
    )
    print(
        f"{'path':<28}{'efficiency':>11}{'samples/s':>11}{'calls':>7}"
        f"{'CPU ms/call':>13}{'peak RSS MB':>13}{'errors':>8}"
    )
    for r in results:
        per_sample = r.calls / args.samples if r.calls else calls_per_sample
        ideal = args.concurrency / (per_sample * args.latency)
        achieved = args.samples / r.wall_s
        print(
            f"{r.name:<28}{achieved / ideal:>11.3f}{achieved:>11.1f}{r.calls:>7}"
            f"{r.cpu_s / max(r.calls, 1) * 1000:>13.3f}{r.rss_mb:>13.1f}{r.errors:>8}"
        )
    if not shutil.which("optillm"):
        print("optillm: not installed (pip install optillm to add it to this table)")
    print(
        "CPU: the proxy's own process (server, strategies, store writes) / the direct client's "
        "process; RSS: that process's peak (the direct client's includes this script)."
    )


if __name__ == "__main__":
    main()
