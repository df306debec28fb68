"""The references the overhead benchmarks compare with: a plain asyncio + aiohttp client, and
the model layer alone.

It makes the self-refine workload's calls the way a hand-written client would: one
``aiohttp.ClientSession`` (pool sized to the concurrency), ``calls`` sequential chat requests per
sample, the conversation growing by the reply and a follow-up each time, no cache, no store, no
validation. Whatever reflectlab adds on top is measured against this, in the same run.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp

from reflectlab.model import Model


def write_items(path: Path, n: int) -> None:
    """The workload's task file: ``n`` arithmetic questions as JSON Lines (``jsonl:`` task)."""
    with path.open("w") as f:
        for i in range(n):
            row = {"id": str(i), "input": f"What is {i} + {i}?", "target": str(2 * i)}
            f.write(json.dumps(row) + "\n")


async def drive_plain(
    base_url: str, samples: int, concurrency: int, calls: int, max_tokens: int = 64
) -> tuple[float, float]:
    """Run the workload; return (wall seconds, CPU seconds of this process)."""
    sem = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(i: int) -> None:
            messages = [{"role": "user", "content": f"What is {i} + {i}? Think first."}]
            async with sem:
                for _ in range(calls):
                    body = {"model": "fake", "messages": messages, "max_tokens": max_tokens}
                    async with http.post(base_url + "/chat/completions", json=body) as r:
                        data = json.loads(await r.read())
                    text = data["choices"][0]["message"]["content"]
                    messages = [*messages, {"role": "assistant", "content": text}]
                    messages.append({"role": "user", "content": "Review and improve."})

        cpu0, t0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(samples)))
        return time.perf_counter() - t0, time.process_time() - cpu0


async def drive_model(
    model: Model, samples: int, concurrency: int, calls: int
) -> tuple[float, float]:
    """The same calls through ``Model.generate`` alone (no runner, strategy or result):
    ``calls`` sequential calls per sample, ``concurrency`` samples at a time. Returns (wall
    seconds, CPU seconds of this process)."""
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with sem:
            for k in range(calls):
                await model.generate(f"sample {i} call {k}")

    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(samples)))
    return time.perf_counter() - t0, time.process_time() - cpu0
