"""Every request's trace in the store: one run per server session.

The session's run is created at start-up (status ``running``; ``reflectlab runs`` lists it) and
each answered request adds one result per choice, keyed by its trace id, with the strategy's
checkpoints; the calls are logged by the model layer under the same ``run_id`` / ``sample_id``
tags, so ``reflectlab report RUN`` opens every request in the trace viewer. Chat replies have
no gold target: results are stored unscored (``final_correct`` false, reason "unscored").
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from reflectlab import __version__
from reflectlab.model import AsyncRecorder, CallEvent, CallRecorder
from reflectlab.store import CheckpointRecord, ResultRecord, RunRecord, Store
from reflectlab.strategy import StrategyResult

__all__ = ["UNSCORED", "SecretScrubbingRecorder", "TraceLog", "new_trace_id"]

UNSCORED = "unscored: a chat request has no gold target"


def new_trace_id() -> str:
    return uuid.uuid4().hex[:20]


class SecretScrubbingRecorder:
    """Records calls in ``inner`` with any secret removed from their error text (an upstream
    that rejects a key may quote it back; it must not reach the store)."""

    def __init__(self, inner: CallRecorder, secrets: tuple[str, ...]) -> None:
        self.inner = inner
        self.secrets = tuple(s for s in secrets if s)
        # Checked once: a runtime protocol check walks the protocol on every call.
        self._awaitable = inner if isinstance(inner, AsyncRecorder) else None

    def _scrub(self, event: CallEvent) -> CallEvent:
        if event.error is not None:
            for secret in self.secrets:
                event.error = event.error.replace(secret, "***")
        return event

    def record_call(self, event: CallEvent) -> None:
        self.inner.record_call(self._scrub(event))

    async def arecord_call(self, event: CallEvent) -> None:
        """Awaited, group-committed, when the store can (an
        :class:`~reflectlab.model.AsyncRecorder`)."""
        event = self._scrub(event)
        if self._awaitable is not None:
            await self._awaitable.arecord_call(event)
        else:
            self.inner.record_call(event)


class TraceLog:
    def __init__(self, store: Store, *, upstream: str, config: dict[str, Any]) -> None:
        self.store = store
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
        return self.run_id

    def close(self, status: str = "completed") -> None:
        if self.run_id:
            self.store.update_run_expected(self.run_id, self.n_results)
            self.store.set_run_status(self.run_id, status)

    async def record_call(self, event: CallEvent) -> None:
        """Log a call made outside the model layer (a ``direct`` passthrough)."""
        await self.store.arecord_call(event)

    async def save(
        self,
        *,
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
                "unscored": True,  # no gold target: summaries show no accuracy for it
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
        await self.store.asave_result(record)
        self.n_results += 1
        now = time.monotonic()
        if now - self._expected_at >= 1.0:  # progress for `reflectlab runs`, once a second
            self._expected_at = now
            self.store.update_run_expected(self.run_id, self.n_results)
