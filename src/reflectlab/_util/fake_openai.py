"""A small OpenAI-compatible chat-completions server for tests and benchmarks.

It does no compute: it answers after a fixed latency with a scripted or echoed reply and
realistic ``usage`` (whitespace token counts). Knobs reproduce what real servers do: reject the
``n`` parameter (llama.cpp server), fail the first requests with given HTTP statuses (429, 503),
report ``prompt_tokens_details.cached_tokens`` (vLLM/OpenAI prefix caching).

Run standalone (e.g. for ``benchmarks/``)::

    python -m reflectlab._util.fake_openai --port 8123 --latency 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Responder = Callable[[dict[str, Any]], str]


def _default_reply(body: dict[str, Any]) -> str:
    last = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
    return f"echo: {last[-60:]} Answer: 42"


@dataclass
class FakeOpenAI:
    latency_s: float = 0.0
    reject_n: bool = False
    fail_statuses: list[int] = field(default_factory=list)
    cached_tokens: int = 0
    responder: Responder = _default_reply
    requests: list[dict[str, Any]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

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
            n = int(body.get("n", 1))
            if n > 1 and self.reject_n:
                return web.json_response(
                    {"error": {"message": "'n' is not supported: only n = 1 is allowed"}},
                    status=400,
                )
            texts = [self.responder(body) for _ in range(n)]
            prompt_tokens = sum(len(str(m["content"]).split()) for m in body["messages"])
            completion = sum(len(t.split()) for t in texts)
            return web.json_response(
                {
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
            )
        finally:
            self.in_flight -= 1


@contextmanager
def fake_server_process(latency_s: float = 0.05) -> Iterator[str]:
    """Run the fake server in its own process (so its CPU is not the caller's) on a free
    loopback port; yield its base URL once it accepts connections; stop it afterwards."""
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
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the fake OpenAI server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--reject-n", action="store_true")
    args = parser.parse_args()
    fake = FakeOpenAI(latency_s=args.latency, reject_n=args.reject_n)
    web.run_app(fake.app(), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
