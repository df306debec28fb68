"""Run one strategy on one sample and capture everything the runner scores and stores."""

from __future__ import annotations

import traceback
from typing import Any

from pydantic import BaseModel, Field

from reflectlab.errors import (
    BudgetExceeded,
    ModelError,
    ReflectlabError,
    SandboxError,
    StoreError,
)
from reflectlab.feedback import Feedback
from reflectlab.strategy._context import TRAIN_ORACLE, Checkpoint, StrategyContext
from reflectlab.strategy._registry import StrategyFn


class StrategyResult(BaseModel):
    """The outcome of a strategy on one sample.

    ``final_response`` is ``None`` only when no answer at all was produced (an error before the
    first checkpoint); the runner scores that as a counted failure, never skips it.

    ``error_kind`` is set when the sample did not run to its end because something failed —
    the model call (the error's class, e.g. ``AuthenticationError``), the sandbox
    (``SandboxError``) or the strategy's own code (``strategy_error``). Such a sample is
    *errored*: shown apart from wrong answers, excluded from paired tests, retried by resume.
    A budget stop is not an error: it is the strategy's answer under its budget.
    """

    final_response: str | None
    checkpoints: list[Checkpoint]
    stop_reason: str
    oracle_assisted: bool = False
    oracle_reasons: list[str] = Field(default_factory=list)
    feedback_kinds: list[str] = Field(default_factory=list)
    feedback: list[Feedback] = Field(default_factory=list)
    calls: int = 0
    tokens: int = 0
    error: str | None = None
    error_kind: str | None = None
    notes: dict[str, Any] = Field(default_factory=dict)


async def run_strategy(fn: StrategyFn, ctx: StrategyContext) -> StrategyResult:
    """Run ``fn`` in ``ctx``. A budget stop or a model error ends the strategy with its last
    checkpoint as the answer; the reason is recorded. The final answer is always the last
    checkpoint (added if the strategy returned something it had not checkpointed)."""
    error: str | None = None
    error_kind: str | None = None
    final: str | None = None
    try:
        final = await fn(ctx)
        stop_reason = str(ctx.notes.pop("stop_reason", "completed"))
    except BudgetExceeded as exc:
        stop_reason = f"budget: {exc.reason}"
    except StoreError:
        raise  # the store failing is the run's failure, never this sample's answer
    except ModelError as exc:
        stop_reason = "model_error"
        error = f"{type(exc).__name__}: {exc}"
        error_kind = type(exc).__name__
    except ReflectlabError as exc:  # the sandbox could not start, a bad option found late
        stop_reason = "sandbox_error" if isinstance(exc, SandboxError) else "strategy_error"
        error = f"{type(exc).__name__}: {exc}"
        error_kind = type(exc).__name__
    except Exception as exc:  # a strategy bug must not lose the sample or the run
        stop_reason = "strategy_error"
        error = "".join(traceback.format_exception_only(exc)).strip()
        error_kind = "strategy_error"
    if ctx.train_label_reasons:
        ctx.notes["train_labels"] = list(ctx.train_label_reasons)
    if final is None:
        final = ctx.checkpoints[-1].response if ctx.checkpoints else None
    elif not isinstance(final, str):
        error = error or f"strategy returned {type(final).__name__}, not str"
        error_kind = error_kind or "strategy_error"
        final = ctx.checkpoints[-1].response if ctx.checkpoints else None
    elif not ctx.checkpoints or ctx.checkpoints[-1].response != final:
        last_round = ctx.checkpoints[-1].round + 1 if ctx.checkpoints else 0
        ctx.checkpoint(final, round=last_round, note="final")
    return StrategyResult(
        final_response=final,
        checkpoints=list(ctx.checkpoints),
        stop_reason=stop_reason,
        oracle_assisted=ctx.oracle_assisted,
        oracle_reasons=list(ctx.oracle_reasons),
        feedback_kinds=sorted(ctx.feedback_kinds)
        + ([TRAIN_ORACLE] if ctx.train_label_reasons else []),
        feedback=list(ctx.feedback),
        calls=ctx.calls,
        tokens=ctx.tokens,
        error=error,
        error_kind=error_kind,
        notes=dict(ctx.notes),
    )
