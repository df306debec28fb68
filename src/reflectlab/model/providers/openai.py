"""``openai/<model>``: any OpenAI-compatible chat-completions server.

OpenAI, vLLM, SGLang, llama.cpp server, Ollama, LM Studio. The base URL comes from the
argument, else ``OPENAI_BASE_URL``, else OpenAI's; the key from the argument, else
``OPENAI_API_KEY`` (local servers need none).

Transport: aiohttp with one pooled session per connection. Measured on 2 cores (see
``../shared/PERFORMANCE.md`` and ``benchmarks/``), httpx's async pool costs ~5 ms CPU per call at
32 in flight against ~0.5 ms for aiohttp; on a small machine that decides throughput.

Servers that reject the ``n`` parameter (llama.cpp server, some proxies) are detected on the
first 400 that names it; from then on ``n`` > 1 is served as n separate requests.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from typing import Any, ClassVar

import aiohttp

from reflectlab.errors import (
    AuthenticationError,
    BadRequestError,
    ContextWindowError,
    ModelError,
    ModelNotFoundError,
    ProviderUnavailableError,
    RateLimitError,
)
from reflectlab.model._provider import ModelAPI
from reflectlab.model._types import ChatMessage, GenerateConfig, ProviderResponse

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_CONTEXT_RE = re.compile(
    r"context.{0,20}(length|window|size)|too many tokens|maximum context", re.I
)
_N_REJECTED_RE = re.compile(r"(\bn\b|'n'|\"n\"|\bn must\b|only n ?= ?1|number of choices)", re.I)


class OpenAIAPI(ModelAPI):
    provider: ClassVar[str] = "openai"

    def __init__(
        self,
        model_name: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        max_connections: int = 64,
        timeout_s: float = 600.0,
        local: bool | None = None,
    ) -> None:
        url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        super().__init__(model_name, base_url=url, max_connections=max_connections)
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.timeout_s = timeout_s
        self.supports_n = True
        if local is not None:
            self.local = local  # type: ignore[misc]
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            headers = {"Content-Type": "application/json"}
            if self.api_key:
                headers["Authorization"] = f"Bearer {self.api_key}"
            self._session = aiohttp.ClientSession(
                headers=headers,
                connector=aiohttp.TCPConnector(limit=self.max_connections, ttl_dns_cache=300),
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
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
        return json.dumps(body).encode()

    async def generate(
        self, messages: list[ChatMessage], config: GenerateConfig
    ) -> ProviderResponse:
        if config.n > 1 and self.supports_n:
            try:
                return await self._request(messages, config, config.n)
            except BadRequestError as exc:
                if not _N_REJECTED_RE.search(str(exc)):
                    raise
                self.supports_n = False
        if config.n == 1:
            return await self._request(messages, config, 1)
        parts = await asyncio.gather(*(self._request(messages, config, 1) for _ in range(config.n)))
        return ProviderResponse(
            choices=[c for p in parts for c in p.choices],
            finish_reasons=[f for p in parts for f in p.finish_reasons],
            prompt_tokens=sum(p.prompt_tokens for p in parts),
            completion_tokens=sum(p.completion_tokens for p in parts),
            cached_tokens=sum(p.cached_tokens for p in parts),
            served_model=parts[0].served_model,
        )

    async def _request(
        self, messages: list[ChatMessage], config: GenerateConfig, n: int
    ) -> ProviderResponse:
        url = f"{self.base_url}/chat/completions"
        try:
            async with self._get_session().post(url, data=self._body(messages, config, n)) as r:
                raw = await r.read()
                status = r.status
                retry_after = r.headers.get("Retry-After")
        except TimeoutError as exc:
            raise ProviderUnavailableError(
                f"request timed out after {self.timeout_s:.0f}s",
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
        try:
            data = json.loads(raw)
            choices = data["choices"]
            texts = [(c.get("message") or {}).get("content") or "" for c in choices]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ProviderUnavailableError(
                f"server sent a malformed completion: {raw[:200]!r}",
                model=self.name,
                base_url=self.base_url,
                status=status,
            ) from exc
        usage = data.get("usage") or {}
        details = usage.get("prompt_tokens_details") or {}
        return ProviderResponse(
            choices=texts,
            finish_reasons=[c.get("finish_reason") for c in choices],
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            cached_tokens=int(details.get("cached_tokens") or 0),
            served_model=data.get("model"),
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
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
