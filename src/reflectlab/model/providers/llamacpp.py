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

Logs: llama.cpp writes its own lines (``E srv send_error: ...``) to file descriptor 2. While an
embedded server runs, fd 2 is a pipe read by a thread that turns llama.cpp's lines into records
of the ``reflectlab.llamacpp`` logger (level from the line's letter; silent unless the
application configures logging) and passes every other line through to the real stderr
(Python's own ``sys.stderr`` is pointed straight at it, so a traceback never waits on the pipe).
``REFLECTLAB_LLAMACPP_LOG_STDERR=1`` turns the capture off. The server starts at verbosity 1
(errors only); ``verbosity=`` or ``REFLECTLAB_LLAMACPP_VERBOSITY`` (0 silent, 1 errors,
2 +warnings, 3 +info, 4 debug). llama.cpp keeps one threshold per process: the last server
started sets it. A request whose prompt outgrows a slot fails with
:class:`~reflectlab.errors.ContextWindowError` naming the model, the prompt tokens and the slot
context, and the first one per server prints that as one line on stderr.

Threads: by default one core is left free (:func:`default_threads`; 1 thread on 2 CPUs), since a
thread per core collapses as soon as anything else runs; ``REFLECTLAB_LLAMACPP_THREADS`` or
``threads=`` overrides it on a machine dedicated to the model. Per-slot context: the model's
training context, capped at 8192 (:func:`default_ctx_per_slot`; 8192 for SmolLM2, 4096 for a
``.gguf`` of unknown origin), or ``REFLECTLAB_LLAMACPP_CTX`` / ``ctx_per_slot=``; slots:
``REFLECTLAB_LLAMACPP_SLOTS`` / ``n_parallel=`` (default 4). :func:`engine_plan` says what a
name will run with, and estimates its generation speed for ``run``'s duration estimate.

The server is bound to loopback and requires a random per-server API key, so neither another
local user nor a web page in a browser (llama.cpp allows all CORS origins) can use it.

Example::

    model = get_model("llamacpp/default")
    out = await model.generate("What is 2+3?", max_tokens=16)
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import os
import re
import secrets
import sys
import threading
import time
from collections import deque
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
    "EnginePlan",
    "LlamaCppAPI",
    "LocalModelInfo",
    "default_ctx_per_slot",
    "default_model_path",
    "default_threads",
    "engine_plan",
    "known_local_models",
    "models_dir",
    "pull_model",
    "running_servers",
    "shutdown_servers",
    "verify_sha256",
]

DEFAULT_N_PARALLEL = 4
#: Per slot, for a ``.gguf`` the catalogue does not know. Catalogue models get their training
#: context capped at :data:`MAX_DEFAULT_CTX_PER_SLOT` (SmolLM2: 8192). Reflection prompts grow
#: each round (draft + critique + refine): 6 GSM8K samples of self_refine at 4096 overflowed
#: once (4144 tokens). Slots get a fixed share of the KV cache: a unified pool fails *every*
#: request in flight once it fills. KV memory: SmolLM2 ~23 KB per token (4 x 8192: ~750 MB).
DEFAULT_CTX_PER_SLOT = 4096
MAX_DEFAULT_CTX_PER_SLOT = 8192
#: Host-RAM cache of the KV state of prompts evicted from a slot, restored when a later request
#: shares their prefix (successive reflection rounds do). llama.cpp's default is 8 GiB.
DEFAULT_CACHE_RAM_MIB = 512
_VERBOSITY_ENV = "REFLECTLAB_LLAMACPP_VERBOSITY"
_THREADS_ENV = "REFLECTLAB_LLAMACPP_THREADS"
_CTX_ENV = "REFLECTLAB_LLAMACPP_CTX"
_SLOTS_ENV = "REFLECTLAB_LLAMACPP_SLOTS"
_LOG_STDERR_ENV = "REFLECTLAB_LLAMACPP_LOG_STDERR"

log = logging.getLogger("reflectlab.llamacpp")
# Engine lines are for whoever configures logging; without this, logging's last-resort handler
# would print the errors to stderr again.
log.addHandler(logging.NullHandler())


def _env_int(name: str, minimum: int) -> int | None:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} must be an integer") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be >= {minimum}")
    return value


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
    Re-measured 2026-12-01 at load 2-7 (``benchmarks/llamacpp_vs_bare.py``): the bare engine
    with 2 threads was 1.42x one thread (median of 8 back-to-back pairs), but the whole runner
    at temperature 0 on the same 2 samples took 67 s with 1 thread and had not finished after
    10 min with 2 (load 2 -> 4; its two threads got ~45 % of a core each): with the runner's
    own CPU in the loop one thread stays the default here.
    """
    if cpus is None:
        env = _env_int(_THREADS_ENV, 1)
        if env is not None:
            return env
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


def default_ctx_per_slot(model: ResolvedModel | None = None) -> int:
    """Tokens per slot: ``REFLECTLAB_LLAMACPP_CTX`` if set; else the catalogue model's training
    context capped at 8192; else (a ``.gguf`` path) 4096."""
    env = _env_int(_CTX_ENV, 64)
    if env is not None:
        return env
    if model is not None and model.entry is not None:
        return min(model.entry.context_length, MAX_DEFAULT_CTX_PER_SLOT)
    return DEFAULT_CTX_PER_SLOT


def default_slots() -> int:
    """Slots decoded together: ``REFLECTLAB_LLAMACPP_SLOTS`` if set, else 4."""
    return _env_int(_SLOTS_ENV, 1) or DEFAULT_N_PARALLEL


#: Generated tokens/s of all slots together per GB of model file, one thread, 4 in flight:
#: SmolLM2-135M (0.098 GB) ~120 tok/s, Qwen2.5-Coder-0.5B (0.49 GB) ~32
#: (``benchmarks/llamacpp_throughput.py``, 2-core machine under load). A second thread gave
#: ~1.6x on a quiet machine and less under load; the estimate assumes +50 % per thread.
_GEN_TOK_S_GB = 12.0


@dataclass(frozen=True)
class EnginePlan:
    """What ``llamacpp/<name>`` runs with by default here, and its expected speed."""

    model: str
    threads: int
    slots: int
    ctx_per_slot: int
    #: Estimated generated tokens/s of all slots together (see :func:`engine_plan`).
    gen_tok_s: float
    #: The machine's 1-minute load average when planned (None where unknown).
    load: float | None = None

    def describe(self) -> str:
        t = "thread" if self.threads == 1 else "threads"
        load = f", load {self.load:.1f}" if self.load is not None else ""
        return f"{self.model} ({self.threads} {t}, {self.slots} slots{load})"


def engine_plan(name: str) -> EnginePlan | None:
    """The embedded engine's settings for model ``name`` (``llamacpp/...``; None for any other
    provider), from the environment and the machine, as :class:`LlamaCppAPI` will use them
    when given no options. The speed scales the measured rate by model size and threads, and
    by the square of the share of the cores the current load leaves (``cpus / (load +
    threads)``, at most 1: a contended engine loses more than its share, as measured). Cheap:
    resolves the name, loads nothing."""
    if not name.startswith("llamacpp/"):
        return None
    resolved = resolve_model(name.removeprefix("llamacpp/"))
    threads = default_threads()
    size_gb = max(resolved.entry.size_bytes if resolved.entry else _file_size(resolved.path), 1)
    tok_s = _GEN_TOK_S_GB / (size_gb / 1e9) * (1 + 0.5 * (min(threads, 8) - 1))
    try:
        load: float | None = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = None
    if load is not None:  # other work takes its share of the cores, and more than its share:
        # squared fits 2026-12-01 (load 4-5, 1 thread: 16-22 tok/s measured, 122 * 0.13 = 16)
        tok_s *= min(1.0, _cpu_count() / (load + threads)) ** 2
    slots, ctx = default_slots(), default_ctx_per_slot(resolved)
    return EnginePlan(name, threads, slots, ctx, tok_s, load)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 100_000_000


# --------------------------------------------------------------------------- engine stderr

_ENGINE_LINE = re.compile(r"^(?:\d+\.\d+\.\d+\.\d+ )?([DIWE]) (.*)$")
_LEVELS = {"D": logging.DEBUG, "I": logging.INFO, "W": logging.WARNING, "E": logging.ERROR}


class _StderrCapture:
    """File descriptor ``fd`` becomes a pipe; a daemon thread reads it line by line, logs
    llama.cpp's lines (``[timestamp ]<D|I|W|E> text``) to ``reflectlab.llamacpp`` and writes
    every other line to the original descriptor unchanged. With ``fd=2`` and ``sys.stderr`` on
    fd 2, ``sys.stderr`` is re-opened on the original descriptor, so Python's own output (a
    traceback at exit) does not depend on the reader thread."""

    def __init__(self, fd: int = 2) -> None:
        self.fd = fd
        self.original = os.dup(fd)
        self.errors: deque[str] = deque(maxlen=20)
        self._lines = 0
        read_end, write_end = os.pipe()
        self._read_end = read_end
        self._stderr: Any = None
        if fd == 2:
            try:
                on_fd = sys.stderr is not None and sys.stderr.fileno() == 2
            except (AttributeError, OSError, ValueError):
                on_fd = False
            if on_fd:
                sys.stderr.flush()
                self._stderr = sys.stderr
                sys.stderr = open(  # noqa: SIM115 -- lives as long as the capture
                    self.original,
                    "w",
                    buffering=1,
                    encoding=sys.stderr.encoding,
                    errors=sys.stderr.errors,
                    closefd=False,
                )
        os.dup2(write_end, fd)
        os.close(write_end)
        self._thread = threading.Thread(
            target=self._pump, name="reflectlab-llamacpp-stderr", daemon=True
        )
        self._thread.start()

    @property
    def lines(self) -> int:
        """Lines read so far (engine and pass-through)."""
        return self._lines

    def _pump(self) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(self._read_end, 65536)
            except OSError:
                break
            if not chunk:
                break
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                self._line(raw)
        if pending:
            self._line(pending)
        os.close(self._read_end)

    def _line(self, raw: bytes) -> None:
        self._lines += 1
        match = _ENGINE_LINE.match(raw.decode("utf-8", "replace"))
        if match is None:
            with contextlib.suppress(OSError):
                os.write(self.original, raw + b"\n")
            return
        level, text = _LEVELS[match[1]], match[2].strip()
        if level >= logging.ERROR:
            self.errors.append(text)
        log.log(level, "%s", text)

    def wait_for(self, lines: int, timeout_s: float) -> None:
        """Give the engine's log thread a moment to deliver lines beyond ``lines``."""
        deadline = time.monotonic() + timeout_s
        while self._lines <= lines and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        """Put the original descriptor back; the reader drains the pipe and ends."""
        os.dup2(self.original, self.fd)
        self._thread.join(timeout=2)
        if self._stderr is not None:
            sys.stderr.flush()
            sys.stderr = self._stderr
        os.close(self.original)


_capture: _StderrCapture | None = None
_capture_lock = threading.Lock()


def _capture_stderr() -> _StderrCapture | None:
    """Start capturing fd 2 (once per process) unless ``REFLECTLAB_LLAMACPP_LOG_STDERR`` is set."""
    global _capture
    if os.environ.get(_LOG_STDERR_ENV, "").strip() not in ("", "0"):
        return None
    with _capture_lock:
        if _capture is None:
            try:
                _capture = _StderrCapture(2)
            except OSError:
                return None
            atexit.register(_release_stderr)
        return _capture


def _release_stderr() -> None:
    global _capture
    with _capture_lock:
        capture, _capture = _capture, None
    if capture is not None:
        capture.close()


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

    def __init__(self, server: Any, base_url: str, api_key: str, ctx_per_slot: int = 0) -> None:
        self.server: Any = server
        self.base_url = base_url
        self.api_key = api_key
        self.ctx_per_slot = ctx_per_slot
        #: the one stderr line about a conversation outgrowing a slot was printed
        self.told_overflow = False

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
    capture = _capture_stderr()
    seen = capture.lines if capture is not None else 0
    try:
        server = xllamacpp.Server(params)
    except (RuntimeError, ValueError) as exc:
        if capture is not None:
            capture.wait_for(seen, 0.3)
            said = "; ".join(list(capture.errors)[-3:]) or "no details logged"
            where = f"llama.cpp said: {said}"
        else:
            where = "the reason is on stderr above"
        raise ModelError(
            f"llama.cpp could not load {key.path} ({exc}); {where} (raise {_VERBOSITY_ENV} "
            "for more). An unsupported architecture, a damaged file or too little memory are "
            "the usual causes"
        ) from exc
    return _RunningServer(server, f"{server.listening_address}/v1", api_key, key.ctx_per_slot)


# --------------------------------------------------------------------------- the provider


_EXCEEDS = re.compile(
    r"request \((\d+) tokens\) exceeds the available context size \((\d+) tokens\)"
)


def overflow_message(model: str, message: str, *, ctx_per_slot: int, trained: int | None) -> str:
    """One line: which model, how many prompt tokens, how many a slot holds, what to change."""
    found = _EXCEEDS.search(message)
    prompt, slot = (int(found[1]), int(found[2])) if found else (None, ctx_per_slot)
    need = f"{prompt} prompt tokens" if prompt is not None else "more tokens"
    room = f", the model was trained on {trained}" if trained and trained > slot else ""
    return (
        f"{model}: the conversation outgrew the slot context ({need} > {slot} per slot{room}); "
        f"this call failed. Raise --llamacpp-ctx / {_CTX_ENV}, or lower --max-tokens or "
        "the rounds"
    )


class _EmbeddedHTTP(OpenAIAPI):
    """The OpenAI-compatible client pointed at an embedded server."""

    provider: ClassVar[str] = "llamacpp"
    local: ClassVar[bool] = True

    def __init__(
        self, *args: Any, running: _RunningServer, trained: int | None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.running = running
        self.trained = trained

    def _error(self, status: int, raw: bytes, retry_after: str | None) -> ModelError:
        # llama.cpp says "request (N tokens) exceeds the available context size (M tokens)",
        # which OpenAIAPI's pattern does not catch; it must not become a retried/plain 400.
        if status == 400:
            try:
                err = json.loads(raw).get("error", {})
            except (ValueError, AttributeError):
                err = {}
            if isinstance(err, dict) and err.get("type") == "exceed_context_size_error":
                line = overflow_message(
                    self.name,
                    str(err.get("message", "")),
                    ctx_per_slot=self.running.ctx_per_slot,
                    trained=self.trained,
                )
                log.warning("%s", line)
                if not self.running.told_overflow:
                    self.running.told_overflow = True
                    print(f"reflectlab: {line}", file=sys.stderr, flush=True)
                return ContextWindowError(
                    line, model=self.name, base_url=self.base_url, status=status
                )
        return super()._error(status, raw, retry_after)


class LlamaCppAPI(ModelAPI):
    """Embedded llama.cpp: ``llamacpp/default``, ``llamacpp/qwen2.5-coder-0.5b`` or a ``.gguf``.

    Options (pass to ``get_model``):

    - ``n_parallel``: slots decoded together (default 4, or ``REFLECTLAB_LLAMACPP_SLOTS``).
    - ``ctx_per_slot``: tokens of context per request (default :func:`default_ctx_per_slot`:
      the model's training context up to 8192, or ``REFLECTLAB_LLAMACPP_CTX``).
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
        n_parallel: int | None = None,
        ctx_per_slot: int | None = None,
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
        self.model = resolve_model(model_name)
        n_parallel = default_slots() if n_parallel is None else n_parallel
        ctx_per_slot = default_ctx_per_slot(self.model) if ctx_per_slot is None else ctx_per_slot
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
        self.timeout_s, self.connect_timeout_s = _settings.timeouts(
            timeout_s, connect_timeout_s, default_timeout_s=_settings.LOCAL_ENGINE_TIMEOUT_S
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

    async def openai_client(self) -> OpenAIAPI:
        """The engine's OpenAI-compatible client, the engine started if it is not running
        (this loads the model). Its :meth:`~OpenAIAPI.session` and ``base_url`` reach the
        engine's HTTP server, for requests the model layer does not model (a proxy's raw
        passthrough); close it with this provider's :meth:`aclose`."""
        return await self._client()

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
                running=running,
                trained=self.model.entry.context_length if self.model.entry else None,
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
