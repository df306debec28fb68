"""A small OpenAI-compatible chat-completions server for tests and benchmarks.

It does no compute: it answers after a fixed latency with a scripted or echoed reply and
realistic ``usage`` (whitespace token counts). Knobs reproduce what real servers do: reject the
``n`` parameter (llama.cpp server), fail the first requests with given HTTP statuses (429, 503),
report ``prompt_tokens_details.cached_tokens`` (vLLM/OpenAI prefix caching), and break a given
fraction of replies the ways real servers do (:class:`Faults`: empty content, ``null`` content,
``choices: []``, no ``usage``, HTTP 500), reproducibly from a seed.

``--arith-accuracy P`` answers the built-in ``arith`` task like a model that gets a fraction
``P`` of the problems right (which ones is fixed by the problem text), so accuracy under faults
can be compared with accuracy without them.

Run standalone (e.g. for ``benchmarks/``)::

    python -m reflectlab._util.fake_openai --port 8123 --latency 0.05
    python -m reflectlab._util.fake_openai --arith-accuracy 0.6 --fault-rate 0.3 --fault-seed 1
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Responder = Callable[[dict[str, Any]], str]


def _default_reply(body: dict[str, Any]) -> str:
    last = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
    return f"echo: {last[-60:]} Answer: 42"


FAULT_KINDS = ("empty", "null", "no_choices", "no_usage", "500")


def _fraction(*parts: object) -> float:
    """A number in [0, 1) fixed by ``parts``: the same on every run and in every process."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class Faults:
    """Break a fraction ``rate`` of requests, each with one of ``kinds`` (see ``FAULT_KINDS``).

    Which request breaks, and how, depends only on the seed, the request body and how many
    times that same body was sent before: a retry of a broken request is a new draw, and a
    re-run with the same seed breaks the same requests, whatever the concurrency.
    """

    rate: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown or not self.kinds or not 0.0 <= self.rate <= 1.0:
            raise ValueError(
                f"faults: rate must be in [0, 1] and kinds among {FAULT_KINDS} "
                f"(got rate={self.rate}, kinds={self.kinds})"
            )

    def pick(self, body: dict[str, Any], occurrence: int) -> str | None:
        if self.rate <= 0.0 or _fraction(self.seed, body, occurrence, "hit") >= self.rate:
            return None
        return self.kinds[int(_fraction(self.seed, body, occurrence, "kind") * len(self.kinds))]


class ArithSolver:
    """A responder for the built-in ``arith`` task (seed ``task_seed``) that answers a fraction
    ``accuracy`` of the problems right and the others off by one; which ones depends only on
    the problem text, so every run (and every retry) gives the same answer to the same problem."""

    def __init__(self, accuracy: float, task_seed: int = 0, n: int = 1000) -> None:
        from reflectlab.task.builtin.arith import ArithOptions, ArithTask  # only when asked for

        self.accuracy = accuracy
        task = ArithTask(ArithOptions(seed=task_seed, n=n))
        self.targets = {s.input: int(str(s.target)) for s in task.samples()}

    def __call__(self, body: dict[str, Any]) -> str:
        last = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
        problem = str(last).split("\n\n")[0]
        target = self.targets.get(problem)
        if target is None:
            return "I cannot tell. Answer: 0"
        right = _fraction("arith", problem) < self.accuracy
        return f"Working it out step by step. Answer: {target if right else target + 1}"


@dataclass
class FakeOpenAI:
    latency_s: float = 0.0
    reject_n: bool = False
    fail_statuses: list[int] = field(default_factory=list)
    cached_tokens: int = 0
    responder: Responder = _default_reply
    faults: Faults = field(default_factory=Faults)
    requests: list[dict[str, Any]] = field(default_factory=list)
    #: how many requests got each fault kind
    injected: Counter[str] = field(default_factory=Counter)
    _seen: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    #: the Authorization header of each request ("" when none), counted
    authorizations: Counter[str] = field(default_factory=Counter)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        app.router.add_get("/v1/models", self._models)
        return app

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake", "object": "model"}]})

    async def _handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        self.requests.append(body)
        self.authorizations[request.headers.get("Authorization", "")] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            if self.fail_statuses:
                status = self.fail_statuses.pop(0)
                headers = {"Retry-After": "0"} if status == 429 else {}
                return web.json_response(
                    {"error": {"message": f"scripted failure {status}"}},
                    status=status,
                    headers=headers,
                )
            body_key = json.dumps(body, sort_keys=True)
            fault = self.faults.pick(body, self._seen[body_key])
            self._seen[body_key] += 1
            if fault is not None:
                self.injected[fault] += 1
            if fault == "500":
                return web.json_response({"error": {"message": "injected fault 500"}}, status=500)
            n = int(body.get("n", 1))
            if n > 1 and self.reject_n:
                return web.json_response(
                    {"error": {"message": "'n' is not supported: only n = 1 is allowed"}},
                    status=400,
                )
            texts = [self.responder(body) for _ in range(n)]
            prompt_tokens = sum(len(str(m["content"]).split()) for m in body["messages"])
            completion = sum(len(t.split()) for t in texts)
            reply: dict[str, Any] = {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "model": body.get("model", "fake"),
                "choices": [
                    {
                        "index": i,
                        "message": {"role": "assistant", "content": t},
                        "finish_reason": "stop",
                    }
                    for i, t in enumerate(texts)
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion,
                    "total_tokens": prompt_tokens + completion,
                    "prompt_tokens_details": {
                        "cached_tokens": min(self.cached_tokens, prompt_tokens)
                    },
                },
            }
            if fault in ("empty", "null"):
                for choice in reply["choices"]:
                    choice["message"]["content"] = "" if fault == "empty" else None
            elif fault == "no_choices":
                reply["choices"] = []
            elif fault == "no_usage":
                del reply["usage"]
            return web.json_response(reply)
        finally:
            self.in_flight -= 1


def start_fake_server(
    latency_s: float = 0.05, *extra_args: str, port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the fake server in its own process (so its CPU is not the caller's) on a free
    loopback port (or ``port``: to bring a server back at the same address) and return the
    process and its base URL once it accepts connections. The caller stops the process (see
    :func:`fake_server_process`, or kill it to play a server that dies). ``extra_args`` are more
    command-line options (``"--fault-rate", "0.3"``, ...)."""
    if port is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reflectlab._util.fake_openai",
            "--port",
            str(port),
            "--latency",
            str(latency_s),
            *extra_args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}/v1"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise RuntimeError("the fake OpenAI server did not start") from None
            time.sleep(0.05)


@contextmanager
def fake_server_process(
    latency_s: float = 0.05, *extra_args: str, port: int | None = None
) -> Iterator[str]:
    """:func:`start_fake_server` as a context manager: yield the base URL, stop the server
    afterwards."""
    proc, url = start_fake_server(latency_s, *extra_args, port=port)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--reject-n", action="store_true")
    parser.add_argument(
        "--arith-accuracy",
        type=float,
        default=None,
        help="answer the built-in arith task, this fraction of it right",
    )
    parser.add_argument("--fault-rate", type=float, default=0.0, help="fraction of requests broken")
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument(
        "--faults",
        default=",".join(FAULT_KINDS),
        help=f"comma-separated fault kinds among {','.join(FAULT_KINDS)}",
    )
    args = parser.parse_args()
    fake = FakeOpenAI(
        latency_s=args.latency,
        reject_n=args.reject_n,
        faults=Faults(
            rate=args.fault_rate,
            seed=args.fault_seed,
            kinds=tuple(k for k in args.faults.split(",") if k),
        ),
    )
    if args.arith_accuracy is not None:
        fake.responder = ArithSolver(args.arith_accuracy)
    web.run_app(fake.app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
