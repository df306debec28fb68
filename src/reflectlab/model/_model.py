"""The one path every model call takes: :meth:`Model.generate`."""

from __future__ import annotations

import asyncio
import functools
import secrets
import time
import weakref
from typing import Any, cast

from reflectlab.errors import (
    EmptyCompletionError,
    InvalidResponseError,
    ModelError,
    ProviderUnavailableError,
)
from reflectlab.model._cache import (
    AsyncCachingRecorder,
    AsyncRecorder,
    CachingRecorder,
    CallCache,
    CallRecorder,
    request_hash,
    usable,
)
from reflectlab.model._events import current_tags, emit
from reflectlab.model._prices import PriceTable
from reflectlab.model._provider import ModelAPI
from reflectlab.model._retry import RetryPolicy
from reflectlab.model._types import (
    CallEvent,
    GenerateConfig,
    MessagesInput,
    ModelOutput,
    ProviderResponse,
    Usage,
    as_messages,
)


class Model:
    """A model facade over one provider connection.

    ``generate`` does, in order: cache lookup (and, on a miss, waiting for an identical request
    already in flight on the same cache instead of sending it again: the waiters are logged as
    cache hits) -> concurrency slot (per provider connection) -> retries with exponential
    backoff and jitter, within the policy's deadline -> provider call -> reply check -> usage
    and cost -> cache entry and call record (one transaction when the cache is also the
    recorder, awaited when it can write without blocking the event loop, e.g. the store's
    group commit) -> trace event (to the listeners of the current context). Providers stay
    small.

    The reply check is the same for every provider: no choices, fewer or more choices than
    asked for, or a choice that is empty after stripping whitespace (whatever its
    ``finish_reason``, "length" included) raise :class:`~reflectlab.errors.EmptyCompletionError`
    / :class:`~reflectlab.errors.InvalidResponseError`, which are retried like a 5xx and never
    cached; a cached entry that fails the check is not served.

    Example::

        model = get_model("mock/demo", outputs=["4"])
        out = await model.generate("What is 2+2?", role="draft")
        out.text  # "4"
    """

    def __init__(
        self,
        api: ModelAPI,
        *,
        cache: CallCache | None = None,
        recorder: CallRecorder | None = None,
        retry: RetryPolicy | None = None,
        prices: PriceTable | None = None,
        config: GenerateConfig | None = None,
    ) -> None:
        self.api = api
        self.cache = cache
        self.recorder = recorder
        self.retry = retry or RetryPolicy()
        self.prices = prices or PriceTable.with_user_prices()
        self.config = config or GenerateConfig()
        self._slots: dict[int, asyncio.Semaphore] = {}
        self._inflight_own: _Table = {}

    @property
    def name(self) -> str:
        return self.api.name

    def __repr__(self) -> str:
        return f"Model({self.name!r})"

    def _slot(self) -> asyncio.Semaphore:
        # A semaphore belongs to one event loop; a sync wrapper may run several loops in turn.
        # The slots live on the API object so every Model sharing a connection shares them.
        slots: dict[int, asyncio.Semaphore] = self.api.__dict__.setdefault("_reflectlab_slots", {})
        key = id(asyncio.get_running_loop())
        sem = slots.get(key)
        if sem is None:
            sem = slots[key] = asyncio.Semaphore(self.api.max_connections)
        return sem

    async def generate(
        self,
        messages: MessagesInput,
        config: GenerateConfig | None = None,
        *,
        role: str = "generate",
        round: int | None = None,
        sample_index: int = 0,
        use_cache: bool = True,
        **config_overrides: Any,
    ) -> ModelOutput:
        """Generate a reply. ``role`` and ``round`` tag the call in traces and cost breakdowns;
        ``sample_index`` distinguishes repeated samples of the same request (and their cache
        entries); keyword overrides such as ``temperature=0.7`` adjust the config."""
        msgs = as_messages(messages)
        cfg = (config or self.config).merged(**config_overrides)
        key = request_hash(self.name, self.api.base_url, msgs, cfg, sample_index)
        event = CallEvent(
            call_id=secrets.token_hex(16),  # 32 hex digits as uuid4().hex, a quarter of the cost
            model=self.name,
            base_url=self.api.base_url,
            role=role,
            round=round,
            sample_index=sample_index,
            request_hash=key,
            messages=msgs,
            config=cfg,
            tags=dict(current_tags()),
        )
        start = time.perf_counter()
        leader: asyncio.Future[ModelOutput] | None = None
        if use_cache and self.cache is not None:
            inflight = _inflight(self.cache, self._inflight_own)
            while True:
                hit = self.cache.cache_get(key)
                if hit is not None and usable(hit):
                    return await self._serve_hit(event, hit, start)
                pending = inflight.get(key)
                if pending is None:
                    break
                # The same request is already in flight: wait for it rather than pay twice.
                # If it fails or is cancelled, look again (and make the call if need be).
                await asyncio.wait([pending])
                if not pending.cancelled():
                    return await self._serve_hit(event, pending.result(), start)
            leader = inflight[key] = asyncio.get_running_loop().create_future()
        try:
            output = await self._fresh(msgs, cfg, key, event, start, use_cache)
            if leader is not None:
                leader.set_result(output)
            return output
        finally:
            if leader is not None:
                if inflight.get(key) is leader:
                    del inflight[key]
                if not leader.done():
                    leader.cancel()  # failed or cancelled: a waiter makes its own call

    async def _serve_hit(self, event: CallEvent, hit: ModelOutput, start: float) -> ModelOutput:
        """A reply that was already paid for (the cache, or an identical call in flight)."""
        event.choices, event.usage, event.from_cache = hit.choices, hit.usage, True
        event.finish_reasons = hit.finish_reasons
        await self._finish(event, start)
        return hit.model_copy(
            update={"from_cache": True, "call_id": event.call_id, "latency_s": 0.0}
        )

    async def _fresh(
        self,
        msgs: list[Any],
        cfg: GenerateConfig,
        key: str,
        event: CallEvent,
        start: float,
        use_cache: bool,
    ) -> ModelOutput:
        """Make the call (the provider, with retries), record it, cache it."""
        try:
            async with self._slot():
                response = await self._call_with_retries(msgs, cfg, event)
        except ModelError as exc:
            event.error, event.error_type = str(exc), type(exc).__name__
            event.base_url = exc.base_url or event.base_url
            await self._finish(event, start)
            raise
        if response.base_url is not None:  # the replica that served it (the key stays stable)
            event.base_url = response.base_url
        usage = Usage(
            prompt_tokens=response.prompt_tokens,
            completion_tokens=response.completion_tokens,
            cached_tokens=response.cached_tokens,
            known=response.usage_known,
        )
        # Unknown usage has an unknown cost; 0 here is flagged by ``known``, never a price.
        if not self.api.local and usage.known:
            usage.cost_usd = self.prices.cost(self.name, usage)
        output = ModelOutput(
            model=self.name,
            choices=response.choices,
            finish_reasons=response.finish_reasons,
            usage=usage,
            latency_s=time.perf_counter() - start,
            request_hash=key,
            call_id=event.call_id,
        )
        event.choices, event.usage = response.choices, usage
        event.finish_reasons = response.finish_reasons
        if use_cache and self.cache is not None:
            store, recorder = self.cache, self.recorder
            if _same(store, recorder) and _has(type(store), "record_cached_call"):
                event.latency_s = time.perf_counter() - start
                if _has(type(store), "arecord_cached_call"):  # awaited, group-committed
                    await cast(AsyncCachingRecorder, store).arecord_cached_call(event, key, output)
                else:
                    cast(CachingRecorder, store).record_cached_call(event, key, output)
                emit(event)
                return output
            self.cache.cache_put(key, output)
        await self._finish(event, start)
        return output

    async def _call_with_retries(
        self, msgs: list[Any], cfg: GenerateConfig, event: CallEvent
    ) -> ProviderResponse:
        deadline_s = self.retry.deadline_s
        begin = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            event.attempts = attempt
            try:
                if deadline_s is None:
                    response = await self.api.generate(msgs, cfg)
                else:
                    remaining = deadline_s - (time.monotonic() - begin)
                    try:
                        async with asyncio.timeout(remaining):
                            response = await self.api.generate(msgs, cfg)
                    except TimeoutError as exc:
                        raise ProviderUnavailableError(
                            f"no reply within the call's deadline of {deadline_s:g}s "
                            f"(attempt {attempt}; set deadline_s or REFLECTLAB_DEADLINE)",
                            model=self.name,
                            base_url=self.api.base_url,
                        ) from exc
                self._check_reply(response, cfg)
                return response
            except ModelError as exc:
                if isinstance(exc, InvalidResponseError):
                    event.invalid_replies += 1
                delay = self.retry.delay(attempt, exc.retry_after)
                out_of_time = (
                    deadline_s is not None and time.monotonic() - begin + delay >= deadline_s
                )
                if not exc.retryable or attempt >= self.retry.max_attempts or out_of_time:
                    if exc.retryable:
                        why = f": the {deadline_s:g}s deadline" if out_of_time else ""
                        exc.args = (f"{exc.args[0]} (gave up after {attempt} attempts{why})",)
                    raise
                await asyncio.sleep(delay)

    def _check_reply(self, response: ProviderResponse, cfg: GenerateConfig) -> None:
        """An empty or incomplete reply is an error, whichever provider sent it."""
        model, url = self.name, self.api.base_url
        if not response.choices:
            raise EmptyCompletionError("the server returned no choices", model=model, base_url=url)
        if len(response.choices) != cfg.n:
            raise InvalidResponseError(
                f"asked for {cfg.n} choices, the server returned {len(response.choices)}",
                model=model,
                base_url=url,
            )
        for i, text in enumerate(response.choices):
            if not text or text.isspace():  # what strip() would empty, without a copy
                reason = response.finish_reasons[i] if i < len(response.finish_reasons) else None
                what = "empty" if not text else "only whitespace"
                raise EmptyCompletionError(
                    f"choice {i} of the reply is {what} (finish_reason={reason!r})",
                    model=model,
                    base_url=url,
                )

    async def _finish(self, event: CallEvent, start: float) -> None:
        event.latency_s = time.perf_counter() - start
        recorder = self.recorder
        if recorder is not None:
            if _has(type(recorder), "arecord_call"):
                await cast(AsyncRecorder, recorder).arecord_call(event)
            else:
                recorder.record_call(event)
        emit(event)

    def generate_sync(
        self, messages: MessagesInput, config: GenerateConfig | None = None, **kwargs: Any
    ) -> ModelOutput:
        """Blocking wrapper for scripts: runs :meth:`generate` in a fresh event loop."""

        async def once() -> ModelOutput:
            try:
                return await self.generate(messages, config, **kwargs)
            finally:
                await self.api.aclose()

        return asyncio.run(once())

    async def aclose(self) -> None:
        await self.api.aclose()


# Identical requests in flight, per cache (its keys are the requests) and event loop.
_Table = dict[tuple[int, str], "asyncio.Future[ModelOutput]"]
_INFLIGHT: weakref.WeakKeyDictionary[object, _Table] = weakref.WeakKeyDictionary()


def _inflight(cache: object, own: _Table) -> _LoopView:
    """The table shared by every model on ``cache``; ``own`` (the model's) for a cache that
    cannot key a weak dictionary (unhashable, e.g. a dataclass, or without weak references)."""
    try:
        table = _INFLIGHT.get(cache)
        if table is None:
            table = _INFLIGHT[cache] = {}
    except TypeError:
        table = own
    return _LoopView(table, id(asyncio.get_running_loop()))


class _LoopView:
    """The in-flight table of one cache, seen from the running event loop."""

    __slots__ = ("loop", "table")

    def __init__(self, table: _Table, loop: int):
        self.table, self.loop = table, loop

    def get(self, key: str) -> asyncio.Future[ModelOutput] | None:
        return self.table.get((self.loop, key))

    def __setitem__(self, key: str, future: asyncio.Future[ModelOutput]) -> None:
        self.table[(self.loop, key)] = future

    def __delitem__(self, key: str) -> None:
        del self.table[(self.loop, key)]


def _same(a: object, b: object) -> bool:
    return a is b


@functools.cache
def _has(cls: type, method: str) -> bool:
    """Whether a cache/recorder class has ``method`` (``record_cached_call`` of
    :class:`CachingRecorder`, the awaited writes of :class:`AsyncRecorder`), by class,
    computed once: a runtime protocol check walks the protocol's attributes every time (14 µs
    per model call, measured)."""
    return callable(getattr(cls, method, None))
