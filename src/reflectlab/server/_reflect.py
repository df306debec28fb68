"""Answer a chat request with a reflection strategy: ``n`` independent runs of the strategy
on the conversation, each traced, capped and cancellable, merged into one chat.completion."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reflectlab.model import CallEvent, GenerateConfig, call_listener, call_tags, capture_calls
from reflectlab.server._chat import ChatRequest, ChatTask, chat_messages, render_conversation
from reflectlab.server._errors import ApiError, error_from_model_error
from reflectlab.server._selection import Selection
from reflectlab.server._state import ServerState
from reflectlab.server._upstream import finish_reasons
from reflectlab.strategy import (
    Budget,
    StrategyContext,
    StrategyFn,
    StrategyResult,
    run_strategy,
)
from reflectlab.task import Sample

__all__ = ["ChoiceOutcome", "build_completion", "run_choices"]


@dataclass
class ChoiceOutcome:
    sample_id: str
    result: StrategyResult
    events: list[CallEvent]
    wall_s: float
    finish_reason: str = "stop"


def _partial(ctx: StrategyContext, reason: str) -> StrategyResult:
    """What a strategy stopped from outside (wall-time cap) leaves: its last checkpoint."""
    last = ctx.checkpoints[-1].response if ctx.checkpoints else None
    return StrategyResult(
        final_response=last,
        checkpoints=list(ctx.checkpoints),
        stop_reason=reason,
        feedback_kinds=sorted(ctx.feedback_kinds),
        feedback=list(ctx.feedback),
        calls=ctx.calls,
        tokens=ctx.tokens,
        notes=dict(ctx.notes),
    )


async def run_choices(
    state: ServerState,
    fn: StrategyFn,
    selection: Selection,
    request: ChatRequest,
    trace_id: str,
    on_call: Callable[[CallEvent], None] | None = None,
) -> list[ChoiceOutcome]:
    """Run the strategy once per requested choice, concurrently. Cancelling this (a client
    that went away) cancels every internal call in flight."""
    limits = state.config.limits
    prompt = render_conversation(chat_messages(request))
    config = GenerateConfig(
        temperature=request.temperature,
        max_tokens=request.token_limit,
        top_p=request.top_p,
        seed=request.seed,
        stop=request.stop_tuple,
    )
    budget = Budget(
        max_rounds=limits.max_rounds,
        max_calls=limits.max_calls,
        max_tokens=limits.max_request_tokens,
    )
    model = state.upstream.model(selection.model)
    task = ChatTask()
    label = selection.label

    async def one(i: int) -> ChoiceOutcome:
        sample_id = trace_id if request.n == 1 else f"{trace_id}-{i}"
        ctx = StrategyContext(
            model=model,
            task=task,
            sample=Sample(id=sample_id, input=prompt),
            budget=budget,
            config=config,
        )
        start = time.perf_counter()
        seen: dict[str, str | None] = {}
        finish_reasons.set(seen)  # this choice runs in its own task: its own context
        with (
            call_tags(run_id=state.traces.run_id, sample_id=sample_id, strategy=label),
            capture_calls() as events,
        ):
            try:
                async with asyncio.timeout(limits.request_timeout_s):
                    result = await run_strategy(fn, ctx)
            except TimeoutError:
                result = _partial(ctx, f"wall_time: {limits.request_timeout_s:g}s cap reached")
        final = result.final_response
        finish = (seen.get(final) if final is not None else None) or "stop"
        return ChoiceOutcome(sample_id, result, events, time.perf_counter() - start, finish)

    if on_call is None:
        return list(await asyncio.gather(*(one(i) for i in range(request.n))))
    with call_listener(on_call):
        return list(await asyncio.gather(*(one(i) for i in range(request.n))))


def _extension(state: ServerState, sel: Selection, o: ChoiceOutcome) -> dict[str, Any]:
    r = o.result
    ok = [e for e in o.events if e.error is None]
    return {
        "strategy": sel.label,
        "params": sel.params,
        "selected_by": sel.source,
        "trace_id": o.sample_id,
        "run_id": state.traces.run_id,
        "rounds": max((cp.round for cp in r.checkpoints), default=0),
        "calls": len(ok),
        "answers": [
            {"round": cp.round, "text": cp.response, "note": cp.note} for cp in r.checkpoints
        ],
        "stop_reason": r.stop_reason,
        "feedback": [
            {"kind": f.kind, "source": f.source, "verdict": f.verdict, "round": f.round}
            for f in r.feedback
        ],
        "feedback_kinds": r.feedback_kinds,
        "oracle_assisted": r.oracle_assisted,
        "error": r.error,
        "cost_usd": sum(e.usage.cost_usd for e in ok),
    }


def _failure(state: ServerState, outcome: ChoiceOutcome) -> ApiError:
    failed = [e for e in outcome.events if e.error is not None]
    if failed:
        e = failed[-1]
        return error_from_model_error(e.error_type, e.error or "", secrets=state.secrets)
    if outcome.result.stop_reason.startswith("wall_time"):
        return ApiError(
            504,
            f"no answer within the server's {state.config.limits.request_timeout_s:g}s cap",
            type="timeout_error",
            code="request_timeout",
        )
    return ApiError(
        400,
        f"the strategy produced no answer: {outcome.result.error or outcome.result.stop_reason}",
        code="no_answer",
    )


def build_completion(
    state: ServerState,
    sel: Selection,
    outcomes: list[ChoiceOutcome],
    *,
    completion_id: str,
    created: int,
) -> dict[str, Any]:
    """One chat.completion for all choices; usage sums every internal call. A choice with no
    answer at all makes the request fail with the error that caused it."""
    for o in outcomes:
        if o.result.final_response is None:
            raise _failure(state, o)
    prompt = completion = cached = 0
    for o in outcomes:
        for e in o.events:
            if e.error is None:
                prompt += e.usage.prompt_tokens
                completion += e.usage.completion_tokens
                cached += e.usage.cached_tokens
    ext = _extension(state, sel, outcomes[0])
    if len(outcomes) > 1:
        ext["choices"] = [_extension(state, sel, o) for o in outcomes]
        ext["calls"] = sum(c["calls"] for c in ext["choices"])
        ext["cost_usd"] = sum(c["cost_usd"] for c in ext["choices"])
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": f"{sel.label}/{sel.model}",
        "choices": [
            {
                "index": i,
                "message": {"role": "assistant", "content": o.result.final_response},
                "logprobs": None,
                "finish_reason": o.finish_reason,
            }
            for i, o in enumerate(outcomes)
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
        },
        "reflectlab": ext,
    }


async def save_traces(
    state: ServerState, sel: Selection, outcomes: list[ChoiceOutcome], request: ChatRequest
) -> None:
    for o in outcomes:
        for e in o.events:
            state.metrics.call(sel.label, e)
        await state.traces.save(
            trace_id=o.sample_id,
            strategy=sel.label,
            result=o.result,
            events=o.events,
            wall_s=o.wall_s,
            detail={"model": sel.model, "params": sel.params, "selected_by": sel.source},
        )
