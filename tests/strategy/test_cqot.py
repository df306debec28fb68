"""``cqot`` (Castagna et al. 2024): plan, 8 critical questions, resample to the threshold."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reflectlab.errors import ConfigError
from reflectlab.model import capture_calls
from reflectlab.model.providers.mock import MockRequest
from reflectlab.strategy import Budget, get_strategy, run_strategy
from reflectlab.strategy.cqot import ASSESS_SYSTEM, PLAN_SYSTEM, count_yes
from support.numbers import make_ctx


def assessment(yes: int) -> str:
    return "\n".join(f"{i}. {'Yes' if i <= yes else 'No'}" for i in range(1, 9))


def script(scores: list[int | str]) -> Callable[[MockRequest], str]:
    pending = list(scores)
    plans = iter(range(100))

    def reply(req: MockRequest) -> str:
        system = req.messages[0].content
        if system == PLAN_SYSTEM:
            return f"Plan {next(plans)}: add the numbers."
        if system == ASSESS_SYSTEM:
            s = pending.pop(0)
            return s if isinstance(s, str) else assessment(s)
        return f"Following {req.messages[1].content} Answer: 5"

    return reply


async def test_a_plan_that_passes_is_followed_by_the_answer() -> None:
    ctx = make_ctx(script([8]))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("cqot"), ctx)
    assert [c.role for c in calls] == ["plan", "feedback", "draft"]
    plan, assess, answer = calls
    assert plan.config.temperature == 0.8 and plan.config.top_p == 0.95
    assert assess.config.temperature == 0.2 and answer.config.temperature == 0.2
    assert plan.messages[-1].content.endswith("just spell out the reasoning plan.")
    assert [m.role for m in assess.messages] == ["system", "assistant", "user"]
    assert assess.messages[1].content == "Plan 0: add the numbers."
    assert [m.role for m in answer.messages] == ["system", "assistant", "user"]
    assert answer.messages[2].content == "What is 2+3?\nEnd with 'Answer: <number>'."
    assert [(c.round, c.response) for c in result.checkpoints] == [
        (0, "Following Plan 0: add the numbers. Answer: 5")
    ]
    assert result.notes["plan_scores"] == [8]
    assert result.feedback_kinds == ["intrinsic"]


async def test_resampling_uses_the_strict_bar_then_the_relaxed_one() -> None:
    # Plans 0-4 face the bar of 7 (6 fails); plan 5 passes the relaxed bar of 5.
    ctx = make_ctx(script([6, 6, 6, 6, 6, 5]))
    result = await run_strategy(get_strategy("cqot"), ctx)
    assert result.notes["plan_scores"] == [6, 6, 6, 6, 6, 5]
    assert "Plan 5" in (result.final_response or "")


async def test_after_the_cap_the_last_plan_is_used() -> None:
    ctx = make_ctx(script(["I refuse."] + [0] * 10))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("cqot"), ctx)
    assert [c.role for c in calls].count("plan") == 11
    assert result.notes["unparseable_assessments"] == 1
    assert result.notes["plan_scores"] == [0] * 11
    assert "Plan 10" in (result.final_response or "")


async def test_budget_stop_before_any_answer_is_a_counted_failure() -> None:
    ctx = make_ctx(script([0, 0, 0]), budget=Budget(max_calls=4))
    result = await run_strategy(get_strategy("cqot"), ctx)
    assert result.stop_reason.startswith("budget: max_calls=4")
    assert result.final_response is None


def test_count_yes_reads_numbered_answers_and_never_guesses() -> None:
    assert count_yes(assessment(7)) == 7
    assert count_yes("1. **Yes**\n2) No\n3: Yes\n1. No") == 1  # the last answer to 1 counts
    assert count_yes("Yes, yes, no") == 2
    assert count_yes("The plan is fine.") is None
    with pytest.raises(ConfigError):
        get_strategy("cqot", threshold=5, relaxed_threshold=6)
