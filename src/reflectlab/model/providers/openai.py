"""``openai/<model>``: any OpenAI-compatible chat-completions server.

OpenAI, vLLM, SGLang, llama.cpp server, Ollama, LM Studio. The base URL comes from the
argument, else ``OPENAI_BASE_URL``, else OpenAI's; the key from the argument, else
``OPENAI_API_KEY`` (local servers need none).

Transport: aiohttp with one pooled session per connection. Measured on 2 cores (see
``../shared/PERFORMANCE.md`` and ``benchmarks/``), httpx's async pool costs ~5 ms CPU per call at
32 in flight against ~0.5 ms for aiohttp; on a small machine that decides throughput.

Servers that reject the ``n`` parameter (llama.cpp server, some proxies) are detected on the
first 400 that names it, and servers that ignore it (Ollama) on the first reply with too few
choices; from then on ``n`` > 1 is served as n separate requests.

Timeouts (see :mod:`reflectlab.model._settings`): ``connect_timeout_s`` to open the TCP
connection, ``timeout_s`` for one whole attempt (connect, send, wait, read); defaults 10 s and
120 s, or ``REFLECTLAB_CONNECT_TIMEOUT`` / ``REFLECTLAB_TIMEOUT``. The base URL must be an
absolute ``http://`` or ``https://`` URL with a host; anything else is a ConfigError here, not
a connection error retried later.

A 200 reply is checked before it is believed: a body that is not a JSON object, ``choices``
that is not a list, a choice without a ``message`` object are :class:`InvalidResponseError`;
no choices, or a choice whose content is null or blank (and no refusal text) are
:class:`EmptyCompletionError`; both are retried. A reply without ``usage`` (or with a null
one, or without prompt/completion counts) is kept with ``usage_known=False``; counts that are
not non-negative integers are an :class:`InvalidUsageError` naming the field.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlsplit

import aiohttp
import orjson

from reflectlab.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ContextWindowError,
    EmptyCompletionError,
    InvalidResponseError,
    InvalidUsageError,
    ModelError,
    ModelNotFoundError,
    ProviderUnavailableError,
    RateLimitError,
)
from reflectlab.model import _settings
from reflectlab.model._provider import ModelAPI
from reflectlab.model._types import ChatMessage, GenerateConfig, ProviderResponse

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_CONTEXT_RE = re.compile(
    r"context.{0,20}(length|window|size)|too many tokens|maximum context", re.I
)
_N_REJECTED_RE = re.compile(r"(\bn\b|'n'|\"n\"|\bn must\b|only n ?= ?1|number of choices)", re.I)


def check_base_url(url: str, source: str) -> str:
    """``url`` without a trailing slash, or a ConfigError saying what a base URL looks like."""
    expected = "an absolute http:// or https:// URL with a host, e.g. http://localhost:8000/v1"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        raise ConfigError(
            f"{source} {url!r} is not a valid URL ({exc}); expected {expected}"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{source} {url!r} is not {expected}")
    return url.rstrip("/")


def _count(usage: dict[str, Any], key: str, where: str) -> int | None:
    """A token count from ``usage``: None when absent or null, else a non-negative integer."""
    value = usage.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where}{key} is {value!r}, not a non-negative integer")
    return value


def parse_usage(data: dict[str, Any]) -> tuple[int, int, int, bool]:
    """(prompt, completion, cached tokens, known) from a completion body. ``known`` is False
    when usage or either main count is missing; a count that is present but not a
    non-negative integer raises ValueError naming it."""
    usage = data.get("usage")
    if usage is None:
        return 0, 0, 0, False
    if not isinstance(usage, dict):
        raise ValueError(f"usage is {usage!r}, not an object")
    prompt = _count(usage, "prompt_tokens", "usage.")
    completion = _count(usage, "completion_tokens", "usage.")
    details = usage.get("prompt_tokens_details")
    if details is not None and not isinstance(details, dict):
        raise ValueError(f"usage.prompt_tokens_details is {details!r}, not an object")
    cached = _count(details or {}, "cached_tokens", "usage.prompt_tokens_details.") or 0
    if prompt is None or completion is None:
        return 0, 0, 0, False
    return prompt, completion, min(cached, prompt), True


def parse_choices(data: object) -> tuple[list[str], list[str | None]]:
    """Texts and finish reasons of a completion body; raises InvalidResponse/EmptyCompletion
    (without model and URL: the caller adds them) when the body is not a usable completion."""
    if not isinstance(data, dict):
        raise InvalidResponseError(f"the reply is JSON but not an object: {data!r:.200}")
    choices = data.get("choices")
    if not isinstance(choices, list):
        raise InvalidResponseError(f"'choices' is {choices!r:.200}, not a list")
    if not choices:
        raise EmptyCompletionError("the reply has no choices (choices: [])")
    texts: list[str] = []
    reasons: list[str | None] = []
    for i, choice in enumerate(choices):
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            raise EmptyCompletionError(f"choice {i} has no message: {choice!r:.200}")
        reason = choice.get("finish_reason")
        content = message.get("content")
        if content is None and isinstance(message.get("refusal"), str):
            content = message["refusal"]  # a refusal is the model's answer, not an empty one
        if content is not None and not isinstance(content, str):
            raise InvalidResponseError(f"choice {i} content is {content!r:.200}, not a string")
        if not content or content.isspace():
            extra = ", tool_calls only" if message.get("tool_calls") else ""
            what = "null" if content is None else "empty" if not content else "only whitespace"
            raise EmptyCompletionError(
                f"choice {i} content is {what} (finish_reason={reason!r}{extra})"
            )
        texts.append(content)
        reasons.append(reason if isinstance(reason, str) else None)
    return texts, reasons


class OpenAIAPI(ModelAPI):
    provider: ClassVar[str] = "openai"

    def __init__(
        self,
        model_name: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        max_connections: int = 64,
        timeout_s: float | None = None,
        connect_timeout_s: float | None = None,
        local: bool | None = None,
        session: Callable[[], aiohttp.ClientSession] | None = None,
    ) -> None:
        """``session``: a connection pool that the caller owns and shares (a proxy serving
        many model names through one pool): called for the session of each request; this
        provider then never opens or closes one of its own, and the pool's headers and
        timeouts are the caller's."""
        if base_url:
            url = check_base_url(base_url, "base_url")
        elif os.environ.get("OPENAI_BASE_URL"):
            url = check_base_url(os.environ["OPENAI_BASE_URL"], "OPENAI_BASE_URL")
        else:
            url = DEFAULT_BASE_URL
        super().__init__(model_name, base_url=url, max_connections=max_connections)
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.timeout_s, self.connect_timeout_s = _settings.timeouts(
            timeout_s, connect_timeout_s, default_timeout_s=_settings.DEFAULT_TIMEOUT_S
        )
        self.supports_n = True
        if local is not None:
            self.local = local  # type: ignore[misc]
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._shared_session = session

    def session(self) -> aiohttp.ClientSession:
        """The HTTP session requests go through: the caller's shared pool when one was given,
        else this provider's own (opened on first use, one per event loop)."""
        if self._shared_session is not None:
            return self._shared_session()
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            headers = {"Content-Type": "application/json"}
            if self.api_key:
                headers["Authorization"] = f"Bearer {self.api_key}"
            self._session = aiohttp.ClientSession(
                headers=headers,
                connector=aiohttp.TCPConnector(limit=self.max_connections, ttl_dns_cache=300),
                # sock_connect, not connect: the latter also counts the wait for a pooled
                # connection, which is queueing, not a server that does not answer.
                timeout=aiohttp.ClientTimeout(
                    total=self.timeout_s, sock_connect=self.connect_timeout_s
                ),
            )
            self._session_loop = loop
        return self._session

    def _body(self, messages: list[ChatMessage], config: GenerateConfig, n: int) -> bytes:
        body: dict[str, Any] = {
            "model": self.model_name,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
        }
        for field in ("temperature", "max_tokens", "top_p", "seed"):
            value = getattr(config, field)
            if value is not None:
                body[field] = value
        if config.stop:
            body["stop"] = list(config.stop)
        if n > 1:
            body["n"] = n
        try:
            return orjson.dumps(body)
        except orjson.JSONEncodeError:  # what orjson cannot write (a seed past 64 bits)
            return json.dumps(body).encode()

    async def generate(
        self, messages: list[ChatMessage], config: GenerateConfig
    ) -> ProviderResponse:
        if config.n > 1 and self.supports_n:
            try:
                first = await self._request(messages, config, config.n)
            except BadRequestError as exc:
                if not _N_REJECTED_RE.search(str(exc)):
                    raise
                self.supports_n = False
            else:
                if len(first.choices) >= config.n:
                    return first
                # The server ignored n (Ollama does): keep what came, fetch the rest one by one.
                self.supports_n = False
                rest = await asyncio.gather(
                    *(
                        self._request(messages, config, 1)
                        for _ in range(config.n - len(first.choices))
                    )
                )
                return _joined([first, *rest])
        if config.n == 1:
            return await self._request(messages, config, 1)
        parts = await asyncio.gather(*(self._request(messages, config, 1) for _ in range(config.n)))
        return _joined(parts)

    async def _request(
        self, messages: list[ChatMessage], config: GenerateConfig, n: int
    ) -> ProviderResponse:
        url = f"{self.base_url}/chat/completions"
        try:
            async with self.session().post(url, data=self._body(messages, config, n)) as r:
                raw = await r.read()
                status = r.status
                retry_after = r.headers.get("Retry-After")
        except aiohttp.ConnectionTimeoutError as exc:
            raise ProviderUnavailableError(
                f"could not connect within {self.connect_timeout_s:g}s (connect_timeout_s / "
                "REFLECTLAB_CONNECT_TIMEOUT); is the server up and the address right?",
                model=self.name,
                base_url=self.base_url,
            ) from exc
        except TimeoutError as exc:
            raise ProviderUnavailableError(
                f"no complete reply within {self.timeout_s:g}s (timeout_s / REFLECTLAB_TIMEOUT)",
                model=self.name,
                base_url=self.base_url,
            ) from exc
        except aiohttp.ClientError as exc:
            raise ProviderUnavailableError(
                f"cannot reach the server ({type(exc).__name__}: {exc}); is it running?",
                model=self.name,
                base_url=self.base_url,
            ) from exc
        if status != 200:
            raise self._error(status, raw, retry_after)
        where: dict[str, Any] = {"model": self.name, "base_url": self.base_url, "status": status}
        try:
            data = _loads(raw)
        except ValueError as exc:
            raise InvalidResponseError(
                f"HTTP 200 but the body is not JSON: {raw[:200]!r}", **where
            ) from exc
        try:
            texts, reasons = parse_choices(data)
        except InvalidResponseError as exc:
            raise type(exc)(str(exc), **where) from None
        try:
            prompt, completion, cached, known = parse_usage(data)
        except ValueError as exc:
            raise InvalidUsageError(f"the server sent unusable usage: {exc}", **where) from None
        served = data.get("model")
        return ProviderResponse(
            choices=texts,
            finish_reasons=reasons,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cached_tokens=cached,
            usage_known=known,
            served_model=served if isinstance(served, str) else None,
            base_url=self.base_url,
        )

    def _error(self, status: int, raw: bytes, retry_after: str | None) -> ModelError:
        try:
            err = json.loads(raw).get("error", {})
            message = err.get("message") if isinstance(err, dict) else str(err)
        except (ValueError, AttributeError):
            message = None
        message = message or raw[:300].decode("utf-8", "replace") or f"HTTP {status}"
        kw: dict[str, Any] = {"model": self.name, "base_url": self.base_url, "status": status}
        if status == 429:
            try:
                kw["retry_after"] = float(retry_after) if retry_after else None
            except ValueError:
                kw["retry_after"] = None
            return RateLimitError(f"rate limited (429): {message}", **kw)
        if status in (401, 403):
            return AuthenticationError(f"HTTP {status}: {message}; check OPENAI_API_KEY", **kw)
        if status == 404:
            return ModelNotFoundError(
                f"HTTP 404: {message}; check the model name and base URL", **kw
            )
        if status in (400, 413, 422) and _CONTEXT_RE.search(message):
            return ContextWindowError(f"prompt too long for the model: {message}", **kw)
        if status >= 500 or status == 408:
            return ProviderUnavailableError(f"server error {status}: {message}", **kw)
        return BadRequestError(f"HTTP {status}: {message}", **kw)

    async def aclose(self) -> None:
        """Close this provider's own session (a shared pool stays open: it is the caller's)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def _loads(raw: bytes) -> Any:
    """A reply body as JSON: orjson (several times faster than json on this path); what orjson
    refuses but json reads (``NaN``, say) is read as json reads it, so no reply that parsed
    before fails now. Raises ValueError when neither can."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def _joined(parts: list[ProviderResponse]) -> ProviderResponse:
    """One response from several requests for the same prompt (n served one by one)."""
    known = all(p.usage_known for p in parts)
    return ProviderResponse(
        choices=[c for p in parts for c in p.choices],
        finish_reasons=[f for p in parts for f in p.finish_reasons],
        prompt_tokens=sum(p.prompt_tokens for p in parts) if known else 0,
        completion_tokens=sum(p.completion_tokens for p in parts) if known else 0,
        cached_tokens=sum(p.cached_tokens for p in parts) if known else 0,
        usage_known=known,
        served_model=parts[0].served_model,
        base_url=parts[0].base_url,
    )
