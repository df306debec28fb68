"""A fake OpenAI-compatible server on 127.0.0.1, started inside the test's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from reflectlab._util.fake_openai import FakeOpenAI


@asynccontextmanager
async def serve(fake: FakeOpenAI) -> AsyncIterator[str]:
    """Serve ``fake`` on a free loopback port; yield its base URL (``.../v1``)."""
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()
