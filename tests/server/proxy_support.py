"""Helpers for the proxy tests: a fake upstream (the shared FakeOpenAI, plus streaming, a gate
and cancellation counts) and the proxy in front of it, both on 127.0.0.1 in the test's loop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from reflectlab._util.fake_openai import FakeOpenAI
from reflectlab.server import Limits, ServerConfig, create_app, start_server
from reflectlab.server._state import STATE, ServerState
from reflectlab.store import Store


@dataclass
class FakeUpstream(FakeOpenAI):
    """FakeOpenAI that also streams (``stream: true`` -> SSE), can hold requests at a gate,
    counts requests cancelled by a disconnect, and keeps the headers it saw."""

    gate: asyncio.Event | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: int = 0
    cancelled_event: asyncio.Event = field(default_factory=asyncio.Event)
    headers_seen: list[dict[str, str]] = field(default_factory=list)
    echo_auth_on_401: bool = False
    #: Which requests the gate holds (all when None).
    hold: Callable[[dict[str, Any]], bool] | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._wrapped)
        app.router.add_get("/v1/models", self._models)
        return app

    async def _wrapped(self, request: web.Request) -> web.StreamResponse:
        self.headers_seen.append(dict(request.headers))
        if self.echo_auth_on_401:
            return web.json_response(
                {"error": {"message": f"bad key {request.headers.get('Authorization')}"}},
                status=401,
            )
        self.arrived.set()
        try:
            held = self.hold is None or self.hold(json.loads(await request.read()))
            if self.gate is not None and held:
                await self.gate.wait()
            resp = await self._handle(request)
        except asyncio.CancelledError:
            self.cancelled += 1
            self.cancelled_event.set()
            raise
        body = json.loads(await request.read())
        if not body.get("stream") or resp.status != 200:
            return resp
        data = json.loads(resp.body)  # type: ignore[arg-type]
        out = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await out.prepare(request)
        head = {k: data[k] for k in ("id", "model")} | {"object": "chat.completion.chunk"}
        for c in data["choices"]:
            for word in c["message"]["content"].split(" "):
                chunk = {
                    **head,
                    "choices": [{"index": c["index"], "delta": {"content": word + " "}}],
                }
                await out.write(f"data: {json.dumps(chunk)}\n\n".encode())
            end = {**head, "choices": [{"index": c["index"], "delta": {}, "finish_reason": "stop"}]}
            await out.write(f"data: {json.dumps(end)}\n\n".encode())
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {**head, "choices": [], "usage": data["usage"]}
            await out.write(f"data: {json.dumps(usage)}\n\n".encode())
        await out.write(b"data: [DONE]\n\n")
        await out.write_eof()
        return out


@asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[str]:
    runner, port = await start_server(app, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@dataclass
class Proxy:
    url: str  # http://127.0.0.1:PORT (append /v1 for clients)
    state: ServerState
    store: Store
    fake: FakeUpstream

    @property
    def base_url(self) -> str:
        return self.url + "/v1"


@asynccontextmanager
async def running_proxy(
    fake: FakeUpstream, db: Path, *, limits: Limits | None = None, **config: Any
) -> AsyncIterator[Proxy]:
    store = Store(db)
    async with serve_app(fake.app()) as upstream:
        cfg = ServerConfig(upstream=upstream + "/v1", limits=limits or Limits(), **config)
        app = create_app(cfg, store=store)
        async with serve_app(app) as url:
            yield Proxy(url, app[STATE], store, fake)
    store.close()
