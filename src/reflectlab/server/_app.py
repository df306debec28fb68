"""The aiohttp application: middleware (auth, errors), start-up and shutdown, and running it.

Start-up opens the upstream pool (and for ``llamacpp/`` loads the embedded model: readiness
says 503 until then), opens the store and creates this session's run. Shutdown marks the run
completed and closes the pool. ``handler_cancellation`` is on, so a client that disconnects
cancels its handler and with it every internal call in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web

from reflectlab.errors import ConfigError
from reflectlab.run import StrategySpec
from reflectlab.server._config import ServerConfig
from reflectlab.server._errors import ApiError, error_response
from reflectlab.server._limits import Gate, check_auth
from reflectlab.server._routes import add_routes
from reflectlab.server._selection import Selection, build_strategy
from reflectlab.server._state import STATE, ServerState
from reflectlab.server._traces import SecretScrubbingRecorder, TraceLog
from reflectlab.server._upstream import Upstream
from reflectlab.store import Store

__all__ = ["create_app", "run_server", "start_server"]

log = logging.getLogger("reflectlab.server")
_OPEN = frozenset({"/healthz", "/readyz", "/openapi.json"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Auth first; then every failure becomes an OpenAI-style JSON error, never a traceback."""
    state = request.app[STATE]
    try:
        if request.path not in _OPEN:
            check_auth(request, state.client_key)
        return await handler(request)
    except ApiError as exc:
        state.metrics.error("none", exc.kind)
        return error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        kind = "not_found" if exc.status == 404 else "http_error"
        state.metrics.error("none", kind)
        keep = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        return error_response(ApiError(exc.status, exc.reason, code=kind, headers=keep))
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        log.exception("internal error on %s %s", request.method, request.path)
        state.metrics.error("none", "internal_error")
        return error_response(
            ApiError(500, "internal error in the proxy (logged)", type="server_error")
        )


def _default_spec(config: ServerConfig) -> StrategySpec:
    spec = StrategySpec.parse(config.strategy)
    if spec.name != "direct":
        try:
            build_strategy(Selection(spec.name, dict(spec.params)), config.limits)
        except ApiError as exc:
            raise ConfigError(f"--strategy {config.strategy!r}: {exc.message}") from None
    return spec


def create_app(config: ServerConfig, *, store: Store | None = None) -> web.Application:
    """The proxy as an aiohttp application (not yet started). ``store`` defaults to
    ``config.db`` or the default database."""
    config.check_bind()
    own_store = store is None
    db = store if store is not None else Store(config.db)
    upstream_key = config.upstream_api_key.get_secret_value() if config.upstream_api_key else None
    key = config.api_key.get_secret_value().encode() if config.api_key else None
    secrets = tuple(s for s in (upstream_key, key.decode() if key else None) if s)
    upstream = Upstream(
        config.upstream,
        api_key=upstream_key,
        recorder=SecretScrubbingRecorder(db, secrets),
        connections=config.upstream_connections,
        # A little over the request cap, so the cap (which keeps the last answer) fires first.
        timeout_s=config.limits.request_timeout_s + 5.0,
    )
    state = ServerState(
        config=config,
        upstream=upstream,
        traces=TraceLog(
            db,
            upstream=config.upstream,
            config=config.model_dump(mode="json", exclude={"api_key", "upstream_api_key"}),
        ),
        default=_default_spec(config),
        gate=Gate(config.limits.max_concurrency, config.limits.retry_after_s),
        client_key=key or None,
    )
    app = web.Application(middlewares=[_guard], client_max_size=config.limits.max_body_bytes)
    app[STATE] = state
    add_routes(app)

    async def start_upstream() -> None:
        await upstream.start()
        state.ready = True

    async def on_startup(app: web.Application) -> None:
        state.traces.open()
        # In the background: the port opens (liveness) while the embedded engine loads;
        # readiness says 503 until then, and chat requests wait for it.
        state.starting = asyncio.ensure_future(start_upstream())

    async def on_cleanup(app: web.Application) -> None:
        state.ready = False
        if state.starting is not None and not state.starting.done():
            state.starting.cancel()
            with contextlib.suppress(BaseException):
                await state.starting
        await upstream.aclose()
        state.traces.close("completed")
        if own_store:
            db.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


async def start_server(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start ``app`` on ``host:port`` (0 = a free port); return the runner and the port."""
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = int(sockets[0].getsockname()[1]) if sockets else port
    return runner, bound


def run_server(config: ServerConfig, *, on_ready: Callable[[str, str], None] | None = None) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM; either way the session's run is closed and
    the pool shut down). ``on_ready(base_url, run_id)`` is called once the proxy accepts
    requests."""
    app = create_app(config)

    async def main() -> None:
        runner, port = await start_server(app, config.host, config.port)
        try:
            if on_ready is not None:
                host = f"[{config.host}]" if ":" in config.host else config.host
                on_ready(f"http://{host}:{port}/v1", app[STATE].traces.run_id)
            stop = asyncio.Event()
            with contextlib.suppress(NotImplementedError):  # not on Windows
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
            await stop.wait()
        finally:
            await runner.cleanup()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
