"""What every handler shares: configuration, the upstream pool, the trace log and metrics."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from reflectlab.run import StrategySpec
from reflectlab.server._config import ServerConfig
from reflectlab.server._errors import ApiError
from reflectlab.server._limits import Gate
from reflectlab.server._metrics import Metrics
from reflectlab.server._traces import TraceLog
from reflectlab.server._upstream import Upstream

__all__ = ["STATE", "ServerState"]


@dataclass
class ServerState:
    config: ServerConfig
    upstream: Upstream
    traces: TraceLog
    default: StrategySpec
    gate: Gate
    metrics: Metrics = field(default_factory=Metrics)
    client_key: bytes | None = None
    ready: bool = False
    starting: asyncio.Future[None] | None = None

    async def wait_ready(self) -> None:
        """Wait for start-up (loading the embedded model); a failed start is a 503."""
        if self.ready:
            return
        if self.starting is None:
            raise ApiError(503, "the proxy is not started", type="server_error", code="starting")
        try:
            await asyncio.shield(self.starting)
        except Exception as exc:
            raise ApiError(
                503,
                f"the upstream could not be started: {type(exc).__name__}: {exc}",
                type="server_error",
                code="upstream_start_failed",
            ) from None

    @property
    def start_error(self) -> str | None:
        task = self.starting
        if task is None or not task.done() or task.cancelled() or task.exception() is None:
            return None
        exc = task.exception()
        return f"{type(exc).__name__}: {exc}"

    @property
    def secrets(self) -> tuple[str, ...]:
        own = (self.client_key.decode(),) if self.client_key else ()
        return (*self.upstream.secrets, *own)


STATE = web.AppKey("reflectlab_state", ServerState)
