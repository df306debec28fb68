"""A strategy cannot read the gold label except through the oracle channel, which marks it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reflectlab.strategy import StrategyContext, run_strategy
from reflectlab.task import Sample
from support.numbers import NumberTask, make_ctx

SECRET = "4242"


def ctx_with_secret() -> StrategyContext:
    task = NumberTask([Sample(id="0", input="What is 2+3?", target=SECRET, metadata={"x": 1})])
    return make_ctx(["Answer: 5"], task)


ATTEMPTS: dict[str, Callable[[StrategyContext], Any]] = {
    "sample.target": lambda ctx: ctx.sample.target,  # type: ignore[attr-defined]
    "sample.metadata": lambda ctx: ctx.sample.metadata["x"],
    "task.score": lambda ctx: ctx.task.score,  # type: ignore[attr-defined]
    "task.samples": lambda ctx: ctx.task.samples(),  # type: ignore[attr-defined]
    "task.oracle_check": lambda ctx: ctx.task.oracle_check,  # type: ignore[attr-defined]
    "task._task": lambda ctx: ctx.task._task,  # type: ignore[attr-defined]
    "task.__dict__": lambda ctx: vars(ctx.task),
    "context._sample.target": lambda ctx: ctx._sample.target,  # type: ignore[attr-defined]
    "context._task.samples": lambda ctx: ctx._task.samples(),  # type: ignore[attr-defined]
}


@pytest.mark.parametrize("name", sorted(ATTEMPTS))
async def test_no_public_path_leads_to_the_target(name: str) -> None:
    ctx = ctx_with_secret()

    async def snoop(c: StrategyContext) -> str:
        leaked = ATTEMPTS[name](c)
        return f"Answer: {leaked}"

    result = await run_strategy(snoop, ctx)
    assert result.stop_reason == "strategy_error", result.final_response
    assert SECRET not in (result.final_response or "")
    assert not result.oracle_assisted


async def test_the_oracle_channel_answers_and_marks_the_result_first() -> None:
    ctx = ctx_with_secret()

    async def peek(c: StrategyContext) -> str:
        oracle = c.use_oracle("checking the draft against the gold answer")
        score = await oracle.score("Answer: 4242")
        c.checkpoint("Answer: 4242" if score.correct else "Answer: 5", round=0)
        return "Answer: 4242"

    result = await run_strategy(peek, ctx)
    assert result.final_response == "Answer: 4242"
    assert result.oracle_assisted
    assert result.oracle_reasons == ["checking the draft against the gold answer"]


async def test_the_oracle_needs_a_reason() -> None:
    with pytest.raises(ValueError, match="reason"):
        ctx_with_secret().use_oracle("  ")
