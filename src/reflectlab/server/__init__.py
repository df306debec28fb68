"""``reflectlab serve``: an OpenAI-compatible proxy that adds a reflection strategy to any client.

Point an existing application's base URL at the proxy and pick a strategy per request — by a
model prefix (``self_refine/<model>``, ``self_refine:max_rounds=2/<model>``), by
``extra_body={"reflectlab": {"strategy": ..., "params": {...}}}``, by the
``X-Reflectlab-Strategy`` header, or the server default. ``direct`` passes the request through
unchanged. Answers are complete chat.completions whose ``usage`` sums every internal call, with
a ``reflectlab`` field (rounds, calls, per-round answers, stop reason, feedback provenance,
trace id); every request is traced in the store as part of one run per server session.

Design: the server sits on the library — strategies run through ``run_strategy`` on a
:class:`ChatTask`, every internal call goes through ``Model.generate`` on one shared upstream
connection pool — and nothing below imports it. One file per concern: ``_app`` (application,
middleware, lifecycle), ``_routes`` (endpoints), ``_selection`` (which strategy), ``_chat``
(request parsing, the chat task), ``_reflect`` / ``_passthrough`` (the two ways to answer),
``_streaming`` (SSE), ``_limits`` (auth, sizes, concurrency), ``_metrics`` (Prometheus),
``_traces`` (the store), ``_upstream`` (the pool), ``_errors``, ``_openapi``.

Example::

    from reflectlab.server import ServerConfig, run_server
    run_server(ServerConfig(upstream="http://localhost:8000/v1", strategy="self_refine"))
"""

from reflectlab.server._app import create_app, run_server, start_server
from reflectlab.server._chat import ChatTask
from reflectlab.server._config import Limits, ServerConfig
from reflectlab.server._metrics import Metrics
from reflectlab.server._selection import HEADER, available_strategies

__all__ = [
    "HEADER",
    "ChatTask",
    "Limits",
    "Metrics",
    "ServerConfig",
    "available_strategies",
    "create_app",
    "run_server",
    "start_server",
]
