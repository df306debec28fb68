"""The call cache contract and its key.

The key is the sha256 of the canonical JSON of everything that can change a reply: model name,
base URL, messages, the generation parameters and the sample index (as in DSPy's rollout id).
So N samples drawn at temperature > 0 are N distinct entries, each cacheable, and asking again
for sample 3 returns sample 3. Errors are never cached, and neither is an empty reply (it is an
error); an empty entry left by an older reflectlab is not served (:func:`usable`).

When the cache and the call recorder are one object implementing :class:`CachingRecorder`
(the SQLite store does), a finished call's cache entry and its call record are written in one
transaction: a kill between the two can never turn a paid call into a free cache hit.
"""

from __future__ import annotations

import hashlib
import json
from typing import Protocol, runtime_checkable

import orjson

from reflectlab.model._types import CallEvent, ChatMessage, GenerateConfig, ModelOutput


def request_hash(
    model: str,
    base_url: str | None,
    messages: list[ChatMessage],
    config: GenerateConfig,
    sample_index: int,
) -> str:
    """The cache key: sha256 of :func:`canonical_request` (see the module docstring)."""
    return hashlib.sha256(
        canonical_request(model, base_url, messages, config, sample_index)
    ).hexdigest()


def canonical_request(
    model: str,
    base_url: str | None,
    messages: list[ChatMessage],
    config: GenerateConfig,
    sample_index: int,
) -> bytes:
    """The canonical JSON (UTF-8) of a request: ``json.dumps`` of ``{"base_url", "config",
    "messages": [[role, content], ...], "model", "sample_index"}`` with sorted keys, no spaces
    and ``ensure_ascii=False``, the format every cache key since the first release was made of.

    Built in pieces because it is on every call's path and the conversation is most of it:
    the strings (messages, model, base URL) go through orjson, whose string escaping is
    ``json.dumps``'s with ``ensure_ascii=False`` code point for code point (tested over all of
    them); the config, whose floats the two spell differently (``1e-05`` / ``0.00001``), goes
    through ``json.dumps``. A string orjson refuses (a lone surrogate) falls back to
    ``json.dumps``, which then fails as it always did."""
    try:
        head = orjson.dumps(base_url)
        convo = orjson.dumps([[m.role, m.content] for m in messages])
        name = orjson.dumps(model)
    except orjson.JSONEncodeError:
        payload = {
            "model": model,
            "base_url": base_url,
            "messages": [[m.role, m.content] for m in messages],
            "config": config.model_dump(exclude_none=True),
            "sample_index": sample_index,
        }
        return json.dumps(
            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
    return b"".join(
        (
            b'{"base_url":',
            head,
            b',"config":',
            _canonical_config(config),
            b',"messages":',
            convo,
            b',"model":',
            name,
            b',"sample_index":',
            # json spells an int as str() does (a bool, or anything else, as json does)
            (str(sample_index) if type(sample_index) is int else json.dumps(sample_index)).encode(),
            b"}",
        )
    )


def _canonical_config(config: GenerateConfig) -> bytes:
    # Remembered per config *object* (a run passes the same frozen one to every call), never
    # by equality: configs that compare equal can spell apart (0.0 and -0.0), and a memo keyed
    # by equality would make a key depend on which one came first. The entry holds the object,
    # so its id cannot be reused while it is remembered.
    seen = _CONFIGS.get(id(config))
    if seen is not None and seen[0] is config:
        return seen[1]
    fields = config.model_dump(exclude_none=True)
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    if len(_CONFIGS) >= 256:
        _CONFIGS.clear()
    _CONFIGS[id(config)] = (config, text)
    return text


_CONFIGS: dict[int, tuple[GenerateConfig, bytes]] = {}


@runtime_checkable
class CallCache(Protocol):
    """Where cached replies live (the SQLite store implements it)."""

    def cache_get(self, key: str) -> ModelOutput | None: ...

    def cache_put(self, key: str, output: ModelOutput) -> None: ...


@runtime_checkable
class CallRecorder(Protocol):
    """Where the call log goes (the SQLite store implements it). Called once per finished call."""

    def record_call(self, event: CallEvent) -> None: ...


@runtime_checkable
class CachingRecorder(Protocol):
    """A cache that is also the call recorder and can write both in one transaction."""

    def record_cached_call(self, event: CallEvent, key: str, output: ModelOutput) -> None:
        """Store ``output`` under ``key`` and record ``event``: both or neither."""
        ...


@runtime_checkable
class AsyncRecorder(Protocol):
    """A recorder whose writes are awaited from an event loop (the SQLite store groups those
    of one loop turn into one commit); returns once the write is durable."""

    async def arecord_call(self, event: CallEvent) -> None: ...


@runtime_checkable
class AsyncCachingRecorder(Protocol):
    """A :class:`CachingRecorder` whose single-transaction write can be awaited; the model
    layer then awaits it instead of calling ``record_cached_call``."""

    async def arecord_cached_call(self, event: CallEvent, key: str, output: ModelOutput) -> None:
        """:meth:`CachingRecorder.record_cached_call`, awaited."""
        ...


def usable(output: ModelOutput) -> bool:
    """Whether a cached reply may be served: it has choices and none is empty or blank."""
    # ``not c.isspace()`` is ``c.strip() != ''`` for a non-empty string (the same Unicode
    # whitespace), without copying a long reply.
    return bool(output.choices) and all(c and not c.isspace() for c in output.choices)


class MemoryCache:
    """An in-memory cache, for scripts and tests that want caching without a database."""

    def __init__(self) -> None:
        self._entries: dict[str, ModelOutput] = {}

    def cache_get(self, key: str) -> ModelOutput | None:
        return self._entries.get(key)

    def cache_put(self, key: str, output: ModelOutput) -> None:
        self._entries[key] = output

    def __len__(self) -> int:
        return len(self._entries)
