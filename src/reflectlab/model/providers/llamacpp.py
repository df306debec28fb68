"""``llamacpp/<name-or-path.gguf>``: the embedded llama.cpp engine, reflectlab's offline default.

The engine is `xllamacpp`, which runs llama.cpp's own C++ server inside this process: continuous
batching over ``n_parallel`` slots, prefix (prompt) caching, the model's chat template. On first
use it is started once per process per (model file, settings) on ``127.0.0.1`` on a free port,
and every :class:`LlamaCppAPI` for that file shares it; requests go to its OpenAI-compatible
endpoint through :class:`~reflectlab.model.providers.openai.OpenAIAPI`, so request, usage and
error handling exist once.

Why HTTP and not xllamacpp's in-process ``handle_chat_completions``: both batch requests in
flight (that call releases the GIL) and measure the same on 2 cores (SmolLM2, one thread:
~130 vs ~127 generated tok/s; ``benchmarks/llamacpp_throughput.py``), but a blocking call in a
worker thread cannot be cancelled — a timed-out or cancelled request would keep its slot busy
until it finished — while over HTTP a closed connection frees the slot (checked), and aiohttp
costs ~0.5 ms per call.

Names: ``llamacpp/default`` (alias ``llamacpp/smollm2-135m``), ``llamacpp/qwen2.5-coder-0.5b``
(after ``reflectlab models pull qwen2.5-coder-0.5b``), or any path ending in ``.gguf``
(``llamacpp//abs/model.gguf``, ``llamacpp/./model.gguf``). See
:mod:`reflectlab.model.providers._llamacpp_models` for the catalogue and checksums.

Logs: llama.cpp logs every request to stderr at its default verbosity. The server starts at
verbosity 1 (errors only), so a user's terminal stays clean and a failure still prints why; set
``verbosity=`` or ``REFLECTLAB_LLAMACPP_VERBOSITY`` (0 silent, 1 errors, 2 +warnings, 3 +info,
4 debug). llama.cpp keeps one threshold per process: the last server started sets it.

Threads: by default one core is left free (:func:`default_threads`; 1 thread on 2 CPUs), since a
thread per core collapses as soon as anything else runs; ``REFLECTLAB_LLAMACPP_THREADS`` or
``threads=`` overrides it on a machine dedicated to the model.

The server is bound to loopback and requires a random per-server API key, so neither another
local user nor a web page in a browser (llama.cpp allows all CORS origins) can use it.

Example::

    model = get_model("llamacpp/default")
    out = await model.generate("What is 2+3?", max_tokens=16)
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import secrets
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

from reflectlab.errors import ConfigError, ContextWindowError, ModelError
from reflectlab.model import _settings
from reflectlab.model._provider import ModelAPI
from reflectlab.model._types import ChatMessage, GenerateConfig, ProviderResponse
from reflectlab.model.providers._llamacpp_models import (
    LocalModelInfo,
    ResolvedModel,
    default_model_path,
    known_local_models,
    models_dir,
    pull_model,
    resolve_model,
    verify_sha256,
)
from reflectlab.model.providers.openai import OpenAIAPI

__all__ = [
    "LlamaCppAPI",
    "LocalModelInfo",
    "default_model_path",
    "default_threads",
    "known_local_models",
    "models_dir",
    "pull_model",
    "running_servers",
    "shutdown_servers",
    "verify_sha256",
]

DEFAULT_N_PARALLEL = 4
#: Per slot. Reflection prompts grow each round (draft + critique + refine); 4096 fits that
#: while staying under SmolLM2's 8192-token training context. Slots get a fixed share of the
#: KV cache: a unified pool fails *every* request in flight once it fills.
DEFAULT_CTX_PER_SLOT = 4096
#: Host-RAM cache of the KV state of prompts evicted from a slot, restored when a later request
#: shares their prefix (successive reflection rounds do). llama.cpp's default is 8 GiB.
DEFAULT_CACHE_RAM_MIB = 512
_VERBOSITY_ENV = "REFLECTLAB_LLAMACPP_VERBOSITY"
_THREADS_ENV = "REFLECTLAB_LLAMACPP_THREADS"


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_threads(cpus: int | None = None) -> int:
    """Engine threads: ``REFLECTLAB_LLAMACPP_THREADS`` if set; else leave a core free, and past
    4 CPUs assume SMT (physical cores = half).

    llama.cpp's threads meet at a barrier after every layer, so when anything else takes a
    core -- reflectlab's own event loop and scoring, the sandbox running model-written code,
    another job -- a thread per core stalls them all. Measured on 2 cores at load ~4: 2 threads
    fell to 0-50 generated tok/s, 1 thread kept ~120 (see ``benchmarks/llamacpp_throughput.py``).
    On a machine doing nothing else, all cores are faster (2 threads: ~1.6x at 4 in flight).
    """
    raw = os.environ.get(_THREADS_ENV)
    if raw is not None and cpus is None:
        try:
            return max(1, int(raw))
        except ValueError:
            raise ConfigError(f"{_THREADS_ENV}={raw!r} must be an integer") from None
    n = _cpu_count() if cpus is None else cpus
    return max(1, min(16, n - 1 if n <= 4 else n // 2))


def _default_verbosity() -> int:
    raw = os.environ.get(_VERBOSITY_ENV)
    if raw is None:
        return 1
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{_VERBOSITY_ENV}={raw!r} must be an integer 0-4") from None


# --------------------------------------------------------------------------- server registry


@dataclass(frozen=True)
class _ServerKey:
    path: str
    n_parallel: int
    ctx_per_slot: int
    threads: int
    cache_ram_mib: int


class _RunningServer:
    """One xllamacpp server and how to reach it. Dropping the last reference to the
    xllamacpp object stops it: its destructor terminates and joins the engine's thread."""

    def __init__(self, server: Any, base_url: str, api_key: str) -> None:
        self.server: Any = server
        self.base_url = base_url
        self.api_key = api_key

    @property
    def closed(self) -> bool:
        return self.server is None

    def close(self) -> None:
        server, self.server = self.server, None
        del server


_registry_lock = threading.Lock()
_servers: dict[_ServerKey, _RunningServer] = {}
_start_locks: dict[_ServerKey, threading.Lock] = {}
_atexit_registered = False
# Servers inherited by a forked child: their engine threads do not exist there, so their
# destructors must never run (joining a thread of another process). Kept referenced forever.
_orphans: list[_RunningServer] = []


def _forget_after_fork() -> None:
    global _registry_lock, _servers, _start_locks
    _orphans.extend(_servers.values())
    _servers = {}
    _start_locks = {}
    _registry_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def shutdown_servers() -> None:
    """Stop every embedded server of this process. Runs at interpreter exit (atexit), so no
    engine thread outlives the interpreter; safe to call any time (the next request restarts
    its server)."""
    with _registry_lock:
        running = list(_servers.values())
        _servers.clear()
    for server in running:
        server.close()


def running_servers() -> list[dict[str, Any]]:
    """The embedded servers running in this process: file, settings and URL (diagnostics)."""
    with _registry_lock:
        return [{**asdict(key), "base_url": s.base_url} for key, s in _servers.items()]


def _get_or_start(key: _ServerKey, model: ResolvedModel, verbosity: int) -> _RunningServer:
    """Blocking (verifies the file, loads the model): call it from a worker thread. Concurrent
    first uses of one key wait on that key's lock and share the one server it starts."""
    global _atexit_registered
    with _registry_lock:
        running = _servers.get(key)
        if running is not None:
            return running
        lock = _start_locks.setdefault(key, threading.Lock())
    with lock:
        with _registry_lock:
            running = _servers.get(key)
        if running is not None:
            return running
        model.prepare()
        running = _start_server(key, verbosity)
        with _registry_lock:
            _servers[key] = running
            if not _atexit_registered:
                atexit.register(shutdown_servers)
                _atexit_registered = True
        return running


def _start_server(key: _ServerKey, verbosity: int) -> _RunningServer:
    import xllamacpp  # imported on first use: ~40 ms, and listing models should not pay it

    api_key = secrets.token_urlsafe(24)
    params = xllamacpp.CommonParams()
    params.model.path = key.path
    params.model_alias = {Path(key.path).name}  # responses name the file, not the user's path
    params.n_parallel = key.n_parallel
    params.n_ctx = key.n_parallel * key.ctx_per_slot
    params.kv_unified = False
    params.cpuparams.n_threads = key.threads
    params.cpuparams_batch.n_threads = key.threads
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # the OS picks a free port
    params.api_keys = [api_key]
    # One HTTP thread per connection LlamaCppAPI opens by default (2 x slots), plus health.
    params.n_threads_http = 2 * key.n_parallel + 2
    params.verbosity = verbosity
    params.ui = False
    params.endpoint_slots = False
    params.offline = True  # never reach for Hugging Face
    params.cache_ram_mib = key.cache_ram_mib
    try:
        server = xllamacpp.Server(params)
    except (RuntimeError, ValueError) as exc:
        raise ModelError(
            f"llama.cpp could not load {key.path} ({exc}); the reason is on stderr above "
            f"(raise {_VERBOSITY_ENV} for more). An unsupported architecture, a damaged file "
            "or too little memory are the usual causes"
        ) from exc
    return _RunningServer(server, f"{server.listening_address}/v1", api_key)


# --------------------------------------------------------------------------- the provider


class _EmbeddedHTTP(OpenAIAPI):
    """The OpenAI-compatible client pointed at an embedded server."""

    provider: ClassVar[str] = "llamacpp"
    local: ClassVar[bool] = True

    def _error(self, status: int, raw: bytes, retry_after: str | None) -> ModelError:
        # llama.cpp says "request (N tokens) exceeds the available context size (M tokens)",
        # which OpenAIAPI's pattern does not catch; it must not become a retried/plain 400.
        if status == 400:
            try:
                err = json.loads(raw).get("error", {})
            except (ValueError, AttributeError):
                err = {}
            if isinstance(err, dict) and err.get("type") == "exceed_context_size_error":
                return ContextWindowError(
                    f"prompt too long for the model: {err.get('message')} (raise ctx_per_slot)",
                    model=self.name,
                    base_url=self.base_url,
                    status=status,
                )
        return super()._error(status, raw, retry_after)


class LlamaCppAPI(ModelAPI):
    """Embedded llama.cpp: ``llamacpp/default``, ``llamacpp/qwen2.5-coder-0.5b`` or a ``.gguf``.

    Options (pass to ``get_model``):

    - ``n_parallel``: slots decoded together (default 4).
    - ``ctx_per_slot``: tokens of context per request (default 4096).
    - ``threads``: engine threads (default :func:`default_threads`: 1 on 2 CPUs, leaving a core
      to everything else).
    - ``cache_ram_mib``: host RAM for evicted prompts' KV state (default 512; 0 disables).
    - ``max_connections``: requests in flight from reflectlab (default ``2 * n_parallel``: when
      a slot frees, the next request is already waiting in the server; more only queues).
    - ``timeout_s``: per attempt (default 600, or ``REFLECTLAB_TIMEOUT``: a CPU engine can take
      minutes on a long reply); ``connect_timeout_s`` (default 10, or
      ``REFLECTLAB_CONNECT_TIMEOUT``). The call's deadline bounds the total either way.
    - ``verbosity``: of llama.cpp's stderr log (default 1, errors only).

    The name is resolved at construction (cheap; unknown or missing models fail here with the
    command that fixes them); the checksum is verified and the model loaded on the first call,
    in a worker thread. Instances with the same file and settings share one server.

    Example::

        model = get_model("llamacpp/default", n_parallel=8)
        outs = await asyncio.gather(*(model.generate(q, max_tokens=64) for q in questions))
    """

    provider: ClassVar[str] = "llamacpp"
    local: ClassVar[bool] = True

    def __init__(
        self,
        model_name: str,
        *,
        base_url: str | None = None,
        n_parallel: int = DEFAULT_N_PARALLEL,
        ctx_per_slot: int = DEFAULT_CTX_PER_SLOT,
        threads: int | None = None,
        cache_ram_mib: int = DEFAULT_CACHE_RAM_MIB,
        max_connections: int | None = None,
        timeout_s: float | None = None,
        connect_timeout_s: float | None = None,
        verbosity: int | None = None,
    ) -> None:
        if base_url is not None:
            raise ConfigError(
                "llamacpp/ runs llama.cpp inside this process and takes no base_url; for a "
                "llama.cpp server you started yourself use openai/<model> with base_url="
            )
        if n_parallel < 1 or ctx_per_slot < 64 or (threads is not None and threads < 1):
            raise ConfigError(
                f"llamacpp/{model_name}: n_parallel and threads must be >= 1 and ctx_per_slot "
                f">= 64 (got n_parallel={n_parallel}, ctx_per_slot={ctx_per_slot}, "
                f"threads={threads})"
            )
        # base_url stays None: it is part of the cache key, and the port changes every run.
        super().__init__(
            model_name, base_url=None, max_connections=max_connections or 2 * n_parallel
        )
        self.model = resolve_model(model_name)
        self.timeout_s = _settings.seconds(
            timeout_s,
            name="timeout_s",
            env=_settings.ENV_TIMEOUT,
            default=_settings.LOCAL_ENGINE_TIMEOUT_S,
        )
        self.connect_timeout_s = _settings.seconds(
            connect_timeout_s,
            name="connect_timeout_s",
            env=_settings.ENV_CONNECT_TIMEOUT,
            default=_settings.DEFAULT_CONNECT_TIMEOUT_S,
        )
        self.verbosity = _default_verbosity() if verbosity is None else verbosity
        self._key = _ServerKey(
            path=str(self.model.path),
            n_parallel=n_parallel,
            ctx_per_slot=ctx_per_slot,
            threads=threads or default_threads(),
            cache_ram_mib=cache_ram_mib,
        )
        self._running: _RunningServer | None = None
        self._http: _EmbeddedHTTP | None = None

    @property
    def model_path(self) -> Path:
        return self.model.path

    async def _client(self) -> _EmbeddedHTTP:
        http, running = self._http, self._running
        if http is not None and running is not None and not running.closed:
            return http
        running = await asyncio.to_thread(_get_or_start, self._key, self.model, self.verbosity)
        # Concurrent first calls all land here; keep the first client so no session leaks.
        if self._http is None or self._running is not running:
            old = self._http
            self._http = _EmbeddedHTTP(
                self.model_name,
                base_url=running.base_url,
                api_key=running.api_key,
                max_connections=self.max_connections,
                timeout_s=self.timeout_s,
                connect_timeout_s=self.connect_timeout_s,
            )
            self._running = running
            if old is not None:
                await old.aclose()
        return self._http

    async def generate(
        self, messages: list[ChatMessage], config: GenerateConfig
    ) -> ProviderResponse:
        http = await self._client()
        return await http.generate(messages, config)

    async def aclose(self) -> None:
        """Close this instance's HTTP session. The server stays up for reuse until exit."""
        if self._http is not None:
            await self._http.aclose()
