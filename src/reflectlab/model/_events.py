"""Who hears about model calls: listeners and tags scoped to an async context.

The runner wraps each sample in ``with call_tags(run_id=..., sample_id=...)`` and
``with capture_calls() as events``; every :meth:`Model.generate` inside that context (in any task
spawned from it) is tagged and reported there, with no global state and no plumbing through
strategy code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from reflectlab.model._types import CallEvent

CallListener = Callable[[CallEvent], None]

_listeners: ContextVar[tuple[CallListener, ...]] = ContextVar("reflectlab_listeners", default=())
_tags: ContextVar[dict[str, Any]] = ContextVar("reflectlab_call_tags", default={})  # noqa: B039


@contextmanager
def call_listener(listener: CallListener) -> Iterator[None]:
    """Call ``listener(event)`` for every model call made inside this context."""
    token = _listeners.set((*_listeners.get(), listener))
    try:
        yield
    finally:
        _listeners.reset(token)


@contextmanager
def capture_calls() -> Iterator[list[CallEvent]]:
    """Collect the events of every model call made inside this context into a list."""
    events: list[CallEvent] = []
    with call_listener(events.append):
        yield events


@contextmanager
def call_tags(**tags: Any) -> Iterator[None]:
    """Attach tags (run id, sample id, strategy, ...) to every call event inside this context."""
    token = _tags.set({**_tags.get(), **tags})
    try:
        yield
    finally:
        _tags.reset(token)


def current_tags() -> dict[str, Any]:
    return _tags.get()


def emit(event: CallEvent) -> None:
    for listener in _listeners.get():
        listener(event)
