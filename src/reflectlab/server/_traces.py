"""Every request's trace in the store: one run per server session.

The session's run is created at start-up (status ``running``; ``reflectlab runs`` lists it) and
each answered request adds one result per choice, keyed by its trace id, with the strategy's
checkpoints; the calls are logged by the model layer under the same ``run_id`` / ``sample_id``
tags, so ``reflectlab report RUN`` opens every request in the trace viewer. Chat replies have
no gold target: results are stored unscored (``final_correct`` false, reason "unscored").

Writes happen on one background thread (:class:`StoreWriter`), in order: SQLite releases the
GIL while it writes, so the event loop keeps serving meanwhile (measured: the store's share was
about a third of the proxy's CPU per upstream call, all of it on the loop). A call or result is
in the database a few milliseconds after its response; ``flush()`` waits for that, and
shutdown drains the queue before the run is closed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from reflectlab import __version__
from reflectlab.model import CallEvent, CallRecorder
from reflectlab.store import CheckpointRecord, ResultRecord, RunRecord, Store
from reflectlab.strategy import StrategyResult

__all__ = ["UNSCORED", "SecretScrubbingRecorder", "StoreWriter", "TraceLog", "new_trace_id"]

log = logging.getLogger("reflectlab.server")

UNSCORED = "unscored: a chat request has no gold target"


def new_trace_id() -> str:
    return uuid.uuid4().hex[:20]


class StoreWriter:
    """Runs store writes on one thread, in submission order. After :meth:`start`, nothing
    else writes to the store until :meth:`close`."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[Callable[..., object], tuple[Any, ...]] | None] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="reflectlab-store-writer", daemon=True
            )
            self._thread.start()

    def submit(self, fn: Callable[..., object], *args: Any) -> None:
        if self._thread is None:  # not started (or closed): write now
            fn(*args)
        else:
            self._queue.put((fn, args))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, args = item
            try:
                fn(*args)
            except Exception:  # a failed write must not stop the ones after it
                log.exception("store write failed")

    def flush(self) -> None:
        """Block until everything submitted so far is written."""
        if self._thread is None:
            return
        done = threading.Event()
        self._queue.put((done.set, ()))
        done.wait()

    def close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()


class SecretScrubbingRecorder:
    """Records calls in ``inner`` (through ``writer``) with any secret removed from their
    error text (an upstream that rejects a key may quote it back; it must not be stored)."""

    def __init__(
        self, inner: CallRecorder, secrets: tuple[str, ...], writer: StoreWriter | None = None
    ) -> None:
        self.inner = inner
        self.secrets = tuple(s for s in secrets if s)
        self.writer = writer or StoreWriter()

    def record_call(self, event: CallEvent) -> None:
        if event.error is not None:
            for secret in self.secrets:
                event.error = event.error.replace(secret, "***")
        self.writer.submit(self.inner.record_call, event)


class TraceLog:
    def __init__(
        self,
        store: Store,
        *,
        upstream: str,
        config: dict[str, Any],
        writer: StoreWriter | None = None,
    ) -> None:
        self.store = store
        self.writer = writer or StoreWriter()
        self.upstream = upstream
        self.config = config
        self.run_id = ""
        self.n_results = 0
        self._expected_at = 0.0

    def open(self) -> str:
        now = time.time()
        self.run_id = time.strftime("serve-%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self.store.create_run(
            RunRecord(
                run_id=self.run_id,
                created_at=now,
                updated_at=now,
                status="running",
                task="chat (reflectlab serve)",
                model=self.upstream,
                strategies=[],
                n_samples=0,
                n_expected=0,
                config={"serve": self.config},
                versions={"reflectlab": __version__},
            ),
            [],
        )
        self.writer.start()
        return self.run_id

    def flush(self) -> None:
        """Wait until every trace submitted so far is in the store."""
        self.writer.flush()

    def close(self, status: str = "completed") -> None:
        self.writer.close()  # drains the queue first
        if self.run_id:
            self.store.update_run_expected(self.run_id, self.n_results)
            self.store.set_run_status(self.run_id, status)

    def record_call(self, event: CallEvent) -> None:
        """Log a call made outside the model layer (a ``direct`` passthrough)."""
        self.writer.submit(self.store.record_call, event)

    def save(
        self,
        *,
        trace_id: str,
        strategy: str,
        result: StrategyResult,
        events: list[CallEvent],
        wall_s: float,
        detail: dict[str, Any],
    ) -> None:
        self.n_results += 1
        self.writer.submit(self._save, trace_id, strategy, result, events, wall_s, detail)

    def _save(
        self,
        trace_id: str,
        strategy: str,
        result: StrategyResult,
        events: list[CallEvent],
        wall_s: float,
        detail: dict[str, Any],
    ) -> None:
        record = ResultRecord(
            run_id=self.run_id,
            strategy=strategy,
            sample_id=trace_id,
            final_response=result.final_response,
            final_correct=False,
            final_reason=UNSCORED,
            stop_reason=result.stop_reason,
            error=result.error,
            oracle_assisted=result.oracle_assisted,
            feedback_kinds=result.feedback_kinds,
            wall_s=wall_s,
            checkpoints=[
                CheckpointRecord(
                    idx=i,
                    round=cp.round,
                    response=cp.response,
                    correct=False,
                    reason=UNSCORED,
                    note=cp.note,
                    calls=cp.calls,
                    tokens=cp.tokens,
                )
                for i, cp in enumerate(result.checkpoints)
            ],
            detail={
                "feedback": [f.model_dump() for f in result.feedback],
                "notes": result.notes,
                "strategy_calls": result.calls,
                "strategy_tokens": result.tokens,
                "call_ids": [e.call_id for e in events],
                **detail,
            },
        )
        for e in events:
            if e.error is not None:
                continue
            record.calls += 1
            record.prompt_tokens += e.usage.prompt_tokens
            record.completion_tokens += e.usage.completion_tokens
            record.cached_tokens += e.usage.cached_tokens
            record.cost_usd += e.usage.cost_usd
        self.store.save_result(record)
        now = time.monotonic()
        if now - self._expected_at >= 1.0:  # progress for `reflectlab runs`, once a second
            self._expected_at = now
            self.store.update_run_expected(self.run_id, self.n_results)
