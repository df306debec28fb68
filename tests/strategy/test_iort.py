"""``iort`` (Liu et al. 2025): reflect; stop on agreement; the instructor selects or refreshes."""

from __future__ import annotations

from collections.abc import Callable

from reflectlab.model import capture_calls
from reflectlab.model.providers.mock import MockRequest
from reflectlab.strategy import Budget, get_strategy, run_strategy
from reflectlab.strategy.iort import parse_instruction
from support.numbers import make_ctx


def script(
    answers: list[str], decisions: list[str], meta: str = "Add the two numbers."
) -> Callable[[MockRequest], str]:
    pending, verdicts = list(answers), list(decisions)

    def reply(req: MockRequest) -> str:
        p = req.prompt
        if "Write meta-thoughts" in p:
            return meta
        if p.startswith("You are instructing"):
            return verdicts.pop(0)
        return pending.pop(0)

    return reply


async def test_stop_when_reflection_keeps_the_answer() -> None:
    ctx = make_ctx(script(["Answer: 5", "Still 5. Answer: 5"], []))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("iort"), ctx)
    assert [(c.role, c.round) for c in calls] == [("draft", 0), ("plan", 0), ("refine", 1)]
    assert result.notes["instructions"] == ["stop"]
    assert result.stop_reason == "instruction stop in round 1: answers agree"
    assert [c.round for c in result.checkpoints] == [0, 1]


async def test_select_picks_one_of_the_two_answers_and_stops() -> None:
    ctx = make_ctx(script(["Answer: 5", "Answer: 6"], ["Answer 1 adds correctly. [[SELECT 1]]"]))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("iort"), ctx)
    assert [c.role for c in calls] == ["draft", "plan", "refine", "judge"]
    judge = calls[-1].messages[0].content
    assert "Add the two numbers." in judge  # the meta-thoughts reach the instructor
    assert "Answer 1 (before reflection):\nAnswer: 5" in judge
    assert "Answer 2 (after reflection):\nAnswer: 6" in judge
    assert result.final_response == "Answer: 5"
    assert result.notes["instructions"] == ["select"]
    assert result.feedback_kinds == ["intrinsic"]


async def test_refresh_answers_afresh_with_the_instruction_then_reflects_again() -> None:
    ctx = make_ctx(
        script(
            ["Answer: 4", "Answer: 6", "Answer: 5", "Answer: 5"],
            ["Both are off. Recount the apples. [[REFRESH]]"],
        )
    )
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("iort"), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("draft", 0),
        ("plan", 0),
        ("refine", 1),
        ("judge", 1),
        ("refresh", 1),
        ("refine", 2),
    ]
    refresh = calls[4].messages
    assert len(refresh) == 1  # a fresh attempt, not the old conversation
    assert "Instruction for this attempt:\nBoth are off. Recount the apples." in refresh[0].content
    assert calls[5].messages[1].content == "Answer: 5"  # reflection on the refreshed answer
    assert result.notes["instructions"] == ["refresh", "stop"]
    assert [(c.round, c.response) for c in result.checkpoints] == [
        (0, "Answer: 4"),
        (1, "Answer: 5"),
        (2, "Answer: 5"),
    ]


async def test_unparsed_instruction_is_counted_and_never_selects() -> None:
    ctx = make_ctx(script(["Answer: 4", "Answer: 6", "Answer: 7"], ["Hard to say."]))
    result = await run_strategy(get_strategy("iort", max_rounds=1), ctx)
    assert result.notes["unparsed_instructions"] == 1
    assert result.notes["instructions"] == ["refresh"]
    assert result.final_response == "Answer: 7"
    assert result.stop_reason == "max_rounds=1"


async def test_budget_stop_keeps_the_last_checkpoint() -> None:
    ctx = make_ctx(script(["Answer: 4", "Answer: 6"], ["[[REFRESH]]"]), budget=Budget(max_calls=3))
    result = await run_strategy(get_strategy("iort"), ctx)
    assert result.stop_reason.startswith("budget: max_calls=3")
    assert result.final_response == "Answer: 4"


def test_parse_instruction() -> None:
    assert parse_instruction("... [[SELECT 2]]") == ("select", 2)
    assert parse_instruction("[[select 1]] no, [[REFRESH]]") == ("refresh", 0)
    assert parse_instruction("select the first") is None
