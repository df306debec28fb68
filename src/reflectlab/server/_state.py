"""What every handler shares: configuration, the upstream pool, the trace log and metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from reflectlab.run import StrategySpec
from reflectlab.server._config import ServerConfig
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

    @property
    def secrets(self) -> tuple[str, ...]:
        own = (self.client_key.decode(),) if self.client_key else ()
        return (*self.upstream.secrets, *own)


STATE = web.AppKey("reflectlab_state", ServerState)
