"""Several endpoints (replicas) of one model behind one :class:`ModelAPI`.

``get_model("openai/m", base_url="http://a/v1,http://b/v1")`` (or a list, or ``--base-url``
given twice) builds one provider connection per endpoint and balances between them:

- **least outstanding requests**: each request goes to the healthy endpoint with the fewest
  requests in flight relative to its limit (ties in turn); each endpoint keeps its own
  ``max_connections``, and a request waits when every healthy endpoint is full;
- **take-out and cool-down**: an endpoint that fails with a connection error, a 5xx or a
  timeout (:class:`~reflectlab.errors.ProviderUnavailableError`) is taken out for
  ``cooldown_s``, doubling on each further failure up to ``max_cooldown_s``; the request is
  sent at once to another endpoint. When the cool-down ends one request probes it; a success
  puts it back. Other errors (400, 401, 429, ...) are the request's, not the endpoint's, and
  pass through to :class:`~reflectlab.model.Model`'s retry loop unchanged;
- when every endpoint is out (or failed this request), the call fails with a retryable
  ``ProviderUnavailableError`` whose ``retry_after`` is the end of the nearest cool-down, so
  the model's retry loop waits for it.

The served endpoint is recorded on every call (``CallEvent.base_url``). The cache key uses
:attr:`BalancedAPI.base_url`, the sorted endpoint set: the same request is one cache entry
whichever replica answered it (a single URL keeps its old key, as no balancer is built then).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from reflectlab.errors import ConfigError, ModelError, ProviderUnavailableError
from reflectlab.model._provider import ModelAPI
from reflectlab.model._types import ChatMessage, GenerateConfig, ProviderResponse

#: First cool-down of a failed endpoint, in seconds; doubles on each further failure.
COOLDOWN_S = 1.0
MAX_COOLDOWN_S = 60.0


def split_endpoints(base_url: str | Sequence[str] | None) -> list[str]:
    """The endpoints named by ``base_url``: a comma-separated string or a list of URLs, each
    without a trailing slash, duplicates dropped, in the order given."""
    if base_url is None:
        return []
    parts = base_url.split(",") if isinstance(base_url, str) else list(base_url)
    out: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise ConfigError(f"base_url entries must be strings, not {part!r}")
        url = part.strip().rstrip("/")
        if url and url not in out:
            out.append(url)
    return out


class Endpoint:
    """One replica: its connection, limit, requests in flight and health."""

    def __init__(self, api: ModelAPI) -> None:
        if not api.base_url:
            raise ConfigError(f"{api.name}: every endpoint needs a base URL")
        self.api = api
        self.url: str = api.base_url
        self.limit = max(1, api.max_connections)
        self.outstanding = 0
        #: requests it answered / failed (connection, 5xx, timeout)
        self.served = 0
        self.failures = 0
        #: consecutive failures (sets the cool-down); 0 when healthy
        self.streak = 0
        self.down_until = 0.0
        self.probing = False

    def __repr__(self) -> str:
        return (
            f"Endpoint({self.url!r}, outstanding={self.outstanding}, served={self.served}, "
            f"failures={self.failures}, down_until={self.down_until:.3f})"
        )


class BalancedAPI(ModelAPI):
    """Balances one model's requests over several endpoints; see the module docstring.

    Example::

        model = get_model("openai/m", base_url=["http://10.0.0.1:8000/v1",
                                                 "http://10.0.0.2:8000/v1"])
    """

    provider = "openai"

    def __init__(
        self,
        apis: Sequence[ModelAPI],
        *,
        cooldown_s: float = COOLDOWN_S,
        max_cooldown_s: float = MAX_COOLDOWN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if len(apis) < 2:
            raise ConfigError("a balanced model needs at least two endpoints")
        names = {a.name for a in apis}
        if len(names) != 1:
            raise ConfigError(f"the endpoints of one model must serve one name, not {names}")
        self.endpoints = [Endpoint(a) for a in apis]
        urls = sorted(e.url for e in self.endpoints)
        super().__init__(
            apis[0].model_name,
            base_url=",".join(urls),
            max_connections=sum(e.limit for e in self.endpoints),
        )
        self._provider_name = apis[0].name
        self.local = all(a.local for a in apis)  # type: ignore[misc]
        self.cooldown_s = cooldown_s
        self.max_cooldown_s = max_cooldown_s
        self._clock = clock
        self._turn = 0
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def name(self) -> str:
        return self._provider_name

    def _pick(self, tried: set[int]) -> Endpoint | float | None:
        """A free healthy endpoint; ``None`` when all usable ones are full or being probed
        (wait); a float (seconds until the nearest cool-down ends) when none is usable for
        this request."""
        now = self._clock()
        best: Endpoint | None = None
        best_load = 0.0
        usable = False
        n = len(self.endpoints)
        for k in range(n):
            i = (self._turn + k) % n
            ep = self.endpoints[i]
            if i in tried or ep.down_until > now:
                continue
            usable = True
            if ep.outstanding >= ep.limit or (ep.streak and ep.probing):
                continue  # full, or one probe already checks it after its cool-down
            load = ep.outstanding / ep.limit
            if best is None or load < best_load:
                best, best_load = ep, load
        if best is not None:
            self._turn = (self.endpoints.index(best) + 1) % n
            return best
        if usable:
            return None
        waits = [ep.down_until - now for i, ep in enumerate(self.endpoints) if i not in tried]
        return max(0.0, min(waits, default=self.cooldown_s))

    async def _acquire(self, tried: set[int], last: Exception | None) -> Endpoint:
        while True:
            picked = self._pick(tried)
            if isinstance(picked, Endpoint):
                picked.outstanding += 1
                if picked.streak:
                    picked.probing = True
                return picked
            if picked is None:
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                try:
                    await waiter
                finally:
                    if waiter in self._waiters:
                        self._waiters.remove(waiter)
                continue
            now = self._clock()
            down = sum(ep.down_until > now for ep in self.endpoints)
            raise ProviderUnavailableError(
                f"no endpoint can take the request: {down} of {len(self.endpoints)} "
                f"cooling down, {len(tried)} failed it"
                + (f" (last: {last})" if last is not None else ""),
                model=self.name,
                base_url=self.base_url,
                retry_after=picked,
            )

    def _release(self, ep: Endpoint) -> None:
        ep.outstanding -= 1
        # Wake every waiter: which one can go depends on which endpoint freed and its health.
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _failed(self, ep: Endpoint) -> None:
        ep.failures += 1
        ep.probing = False
        now = self._clock()
        if ep.down_until > now:
            return  # already out: requests in flight when it died all fail together
        ep.streak += 1
        ep.down_until = now + min(self.max_cooldown_s, self.cooldown_s * 2 ** (ep.streak - 1))

    @staticmethod
    def _answered(ep: Endpoint) -> None:
        ep.streak, ep.probing, ep.down_until = 0, False, 0.0

    async def generate(
        self, messages: list[ChatMessage], config: GenerateConfig
    ) -> ProviderResponse:
        tried: set[int] = set()
        last: Exception | None = None
        while True:
            ep = await self._acquire(tried, last)
            try:
                response = await ep.api.generate(messages, config)
            except ProviderUnavailableError as exc:
                self._failed(ep)
                tried.add(self.endpoints.index(ep))
                last = exc
                continue
            except ModelError:
                self._answered(ep)  # it replied (400, 401, 429, ...): the endpoint is up
                raise
            except BaseException:
                ep.probing = False
                raise
            finally:
                self._release(ep)
            self._answered(ep)
            ep.served += 1
            if response.base_url is None:
                response.base_url = ep.url
            return response

    async def aclose(self) -> None:
        for ep in self.endpoints:
            await ep.api.aclose()
