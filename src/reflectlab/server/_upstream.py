"""The models behind the proxy, reached through one shared connection pool.

An upstream is an OpenAI-compatible base URL or a model of the embedded engine
(``llamacpp/<model>``). Strategy calls go through the model layer (:class:`Model.generate`:
retries, usage, cost, the trace event, exactly as in the runner); ``direct`` requests and
``/v1/models`` go to the same server as raw HTTP, so tools, ``response_format``, ``logprobs``
and any field reflectlab does not model pass through unchanged. Both use the same aiohttp
session: one pool for the whole server (optillm opens a new HTTP client per request).

The model layer's OpenAI provider owns one session per provider object unless it is given a
shared one; here every upstream model name gets its own provider object (the model name is
part of its request body), all given the server's session (``OpenAIAPI(session=...)``).
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from reflectlab.errors import ConfigError, ProviderUnavailableError
from reflectlab.model import CallRecorder, Model, ModelOutput, PriceTable, get_model
from reflectlab.model.providers.llamacpp import LlamaCppAPI
from reflectlab.model.providers.openai import OpenAIAPI

__all__ = ["Upstream", "finish_reasons"]


#: Finish reasons of the replies made in this context, by reply text (set per choice by the
#: caller): a strategy keeps only the text, but the client is owed "length" when the answer it
#: gets was cut off.
finish_reasons: ContextVar[dict[str, str | None] | None] = ContextVar(
    "reflectlab_server_finish_reasons", default=None
)


class _ServedModel(Model):
    """A :class:`Model` that also notes each reply's finish reason for the request."""

    async def generate(self, *args: Any, **kwargs: Any) -> ModelOutput:
        out = await super().generate(*args, **kwargs)
        seen = finish_reasons.get()
        if seen is not None:
            for text, reason in zip(out.choices, out.finish_reasons, strict=False):
                seen[text] = reason
        return out


class Upstream:
    """Where requests go. ``start()`` opens the pool (and starts the embedded engine)."""

    def __init__(
        self,
        spec: str,
        *,
        api_key: str | None = None,
        recorder: CallRecorder | None = None,
        prices: PriceTable | None = None,
        connections: int = 128,
        timeout_s: float = 600.0,
    ) -> None:
        self.spec = spec
        self.api_key = api_key
        self.recorder = recorder
        self.prices = prices or PriceTable.with_user_prices()
        self.connections = connections
        self.timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._models: dict[str, Model] = {}
        self._embedded: Model | None = None
        self.supports_n: dict[str, bool] = {}
        if spec.startswith(("http://", "https://")):
            self.kind = "http"
            self.base_url = spec.rstrip("/")
            self.embedded_name = ""
        elif spec.startswith("llamacpp/") and spec != "llamacpp/":
            self.kind = "llamacpp"
            self.base_url = ""
            self.embedded_name = spec.split("/", 1)[1]
        else:
            raise ConfigError(
                f"upstream {spec!r} must be an OpenAI-compatible base URL "
                "(http://host:port/v1) or an embedded model (llamacpp/default)"
            )

    @property
    def local(self) -> bool:
        return self.kind == "llamacpp"

    @property
    def ready(self) -> bool:
        return self._session is not None and not self._session.closed

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.api_key,) if self.api_key else ()

    async def start(self) -> None:
        if self.kind == "http":
            headers = {"Content-Type": "application/json"}
            if self.api_key:
                headers["Authorization"] = f"Bearer {self.api_key}"
            self._session = aiohttp.ClientSession(
                headers=headers,
                connector=aiohttp.TCPConnector(limit=self.connections, ttl_dns_cache=300),
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
            )
            return
        api = get_model(f"llamacpp/{self.embedded_name}").api
        if not isinstance(api, LlamaCppAPI):
            raise ConfigError(f"upstream {self.spec!r} is not an embedded llama.cpp model")
        model = _ServedModel(api, recorder=self.recorder, prices=self.prices)
        # The embedded engine's own OpenAI-compatible client (started here: loads the model);
        # raw passthrough reuses its session, so there is still one pool.
        http = await api.openai_client()
        self._embedded = model
        self.base_url = http.base_url or ""
        self._session = http.session()

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            raise ProviderUnavailableError("the upstream connection pool is not open")
        return self._session

    def model(self, name: str) -> Model:
        """The model-layer facade for upstream model ``name`` (the embedded engine serves one
        model, whatever the client calls it)."""
        if self._embedded is not None:
            return self._embedded
        model = self._models.get(name)
        if model is None:
            # Every model name has its own provider (the name is in its request body), all
            # on the server's one pool.
            api = OpenAIAPI(
                name,
                base_url=self.base_url,
                api_key=self.api_key or "",
                max_connections=self.connections,
                timeout_s=self.timeout_s,
                session=self.session,
            )
            model = _ServedModel(api, recorder=self.recorder, prices=self.prices)
            self._models[name] = model
        return model

    def model_name(self, name: str) -> str:
        """The model name the upstream receives in a raw request."""
        return self.embedded_name if self._embedded is not None else name

    def price_known(self, name: str) -> bool:
        return self.local or self.prices.get(self.model(name).name) is not None

    # -- raw HTTP -----------------------------------------------------------------------------
    def _unavailable(self, exc: BaseException) -> ProviderUnavailableError:
        if isinstance(exc, TimeoutError):
            return ProviderUnavailableError(f"upstream timed out after {self.timeout_s:.0f}s")
        return ProviderUnavailableError(f"cannot reach the upstream ({type(exc).__name__})")

    async def post(self, path: str, body: bytes) -> tuple[int, bytes, CIMultiDictProxy[str]]:
        try:
            async with self.session().post(f"{self.base_url}{path}", data=body) as r:
                return r.status, await r.read(), r.headers
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._unavailable(exc) from exc

    async def open_stream(self, path: str, body: bytes) -> aiohttp.ClientResponse:
        """A streaming POST; the caller must ``release()`` the response."""
        try:
            return await self.session().post(f"{self.base_url}{path}", data=body)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._unavailable(exc) from exc

    async def list_models(self) -> list[str]:
        if self._embedded is not None:
            return [self.embedded_name]
        try:
            async with self.session().get(f"{self.base_url}/models") as r:
                raw = await r.read()
                status = r.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._unavailable(exc) from exc
        if status != 200:
            raise ProviderUnavailableError(f"upstream /models answered {status}")
        try:
            data: Any = json.loads(raw)
            return [str(m["id"]) for m in data["data"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderUnavailableError("upstream /models sent a malformed list") from exc

    async def aclose(self) -> None:
        if self._embedded is not None:
            await self._embedded.aclose()
        elif self._session is not None:
            await self._session.close()
        self._session = None
